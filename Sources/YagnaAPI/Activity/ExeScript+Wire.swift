/// Hand-built wire forms of what every task sends and receives: a batch's commands and its
/// results. They give the same JSON as `WireEncoder` and read it as `WireDecoder` does, without
/// Codable's containers (most of a batch's coding time went there). Each handles the common
/// shapes only and answers `nil` for anything else, so the caller falls back to Codable, which
/// stays the reference: tests check that both agree on every shape the fast forms take.
extension ExeScriptCommand {
    /// The command's JSON, or `nil` when it has a shape only Codable writes.
    public var fastWireValue: JSONValue? {
        switch self {
        case .run(let run):
            guard run.unknownFields.isEmpty else { return nil }
            var body: [String: JSONValue] = ["entry_point": .string(run.entryPoint), "args": .array(run.args.map { .string($0) })]
            if let capture = run.capture {
                guard let c = capture.fastWireValue else { return nil }
                body["capture"] = c
            }
            return .object(["run": .object(body)])
        case .start(let start):
            guard start.unknownFields.isEmpty else { return nil }
            return .object(["start": .object(["args": .array(start.args.map { .string($0) })])])
        case .deploy(let deploy):
            guard deploy == DeployCommand() else { return nil }
            return .object(["deploy": .object([:])])
        case .transfer(let t):
            guard t == TransferCommand(from: t.from, to: t.to) else { return nil }
            return .object(["transfer": .object(["from": .string(t.from), "to": .string(t.to)])])
        case .terminate(let fields):
            guard fields.isEmpty else { return nil }
            return .object(["terminate": .object([:])])
        case .sign(let fields):
            guard fields.isEmpty else { return nil }
            return .object(["sign": .object([:])])
        default:
            return nil
        }
    }

    /// Reads a command written in one of the shapes `fastWireValue` writes; `nil` for any other
    /// (unknown keys, nulls, other commands), which Codable then reads.
    public init?(fastWire value: JSONValue) {
        guard case .object(let outer) = value, outer.count == 1, let (name, inner) = outer.first, case .object(let body) = inner else { return nil }
        switch name {
        case "run":
            guard let entry = body["entry_point"]?.fastString else { return nil }
            var known = 1
            var args: [String] = []
            if let a = body["args"] {
                guard let list = a.fastStrings else { return nil }
                args = list
                known += 1
            }
            var capture: Capture?
            if let c = body["capture"] {
                guard let parsed = Capture(fastWire: c) else { return nil }
                capture = parsed
                known += 1
            }
            guard body.count == known else { return nil }
            self = .run(RunCommand(entryPoint: entry, args: args, capture: capture))
        case "start":
            guard body.count <= 1 else { return nil }
            var args: [String] = []
            if let a = body["args"] {
                guard let list = a.fastStrings else { return nil }
                args = list
            } else if !body.isEmpty {
                return nil
            }
            self = .start(StartCommand(args: args))
        case "deploy":
            guard body.isEmpty else { return nil }
            self = .deploy(DeployCommand())
        case "transfer":
            guard body.count == 2, let from = body["from"]?.fastString, let to = body["to"]?.fastString else { return nil }
            self = .transfer(TransferCommand(from: from, to: to))
        case "terminate":
            guard body.isEmpty else { return nil }
            self = .terminate(UnknownFields())
        case "sign":
            guard body.isEmpty else { return nil }
            self = .sign(UnknownFields())
        default:
            return nil
        }
    }
}

extension Capture {
    var fastWireValue: JSONValue? {
        guard unknownFields.isEmpty else { return nil }
        var out: [String: JSONValue] = [:]
        if let stdout { out["stdout"] = stdout.wireValue }
        if let stderr { out["stderr"] = stderr.wireValue }
        return .object(out)
    }

    init?(fastWire value: JSONValue) {
        guard case .object(let o) = value else { return nil }
        var known = 0
        var capture = Capture()
        if let v = o["stdout"] {
            guard let mode = CaptureMode(fastWire: v) else { return nil }
            capture.stdout = mode
            known += 1
        }
        if let v = o["stderr"] {
            guard let mode = CaptureMode(fastWire: v) else { return nil }
            capture.stderr = mode
            known += 1
        }
        guard o.count == known else { return nil }
        self = capture
    }
}

extension CaptureMode {
    var wireValue: JSONValue {
        switch self {
        case .atEnd(let part, let format):
            var inner: [String: JSONValue] = [:]
            switch part {
            case .all: break
            case .head(let n): inner["head"] = .number(JSONNumber(n))
            case .tail(let n): inner["tail"] = .number(JSONNumber(n))
            case .headTail(let n): inner["headTail"] = .number(JSONNumber(n))
            }
            if let format { inner["format"] = .string(format.rawValue) }
            return .object(["atEnd": .object(inner)])
        case .stream(let limit, let format):
            var inner: [String: JSONValue] = [:]
            if let limit { inner["limit"] = .number(JSONNumber(limit)) }
            if let format { inner["format"] = .string(format.rawValue) }
            return .object(["stream": .object(inner)])
        }
    }

    /// The common shapes: `{"atEnd": {…}}` or `{"stream": {…}}` with one part, a limit and a
    /// format written as `str`/`bin`, every number an integer literal.
    init?(fastWire value: JSONValue) {
        guard case .object(let o) = value, o.count == 1, let (key, innerValue) = o.first, case .object(let inner) = innerValue else { return nil }
        var format: CaptureFormat?
        if let f = inner["format"] {
            guard let text = f.fastString, let parsed = CaptureFormat(rawValue: text) else { return nil }
            format = parsed
        }
        let numbers = inner.filter { $0.key != "format" }
        switch key {
        case "atEnd":
            guard numbers.count <= 1 else { return nil }
            guard let (name, n) = numbers.first else {
                self = .atEnd(part: .all, format: format)
                return
            }
            guard let count = n.fastInt else { return nil }
            switch name {
            case "head": self = .atEnd(part: .head(count), format: format)
            case "tail": self = .atEnd(part: .tail(count), format: format)
            case "headTail": self = .atEnd(part: .headTail(count), format: format)
            default: return nil
            }
        case "stream":
            guard numbers.count <= 1 else { return nil }
            var limit: Int?
            if let (name, n) = numbers.first {
                guard name == "limit", let count = n.fastInt else { return nil }
                limit = count
            }
            self = .stream(limit: limit, format: format)
        default:
            return nil
        }
    }
}

extension ExeScriptCommandResult {
    /// The result's JSON: the same as `WireEncoder` writes (absent fields as explicit `null`s,
    /// unknown fields kept, the model's own keys winning).
    public var wireValue: JSONValue {
        var o = unknownFields.values
        o["index"] = .number(JSONNumber(index))
        o["eventDate"] = .string(eventDate.text)
        o["result"] = .string(result.rawValue)
        o["stdout"] = stdout?.wireValue ?? .null
        o["stderr"] = stderr?.wireValue ?? .null
        o["message"] = message.map { .string($0) } ?? .null
        o["isBatchFinished"] = .bool(isBatchFinished)
        return .object(o)
    }

    static let fastKeys: Set<String> = ["index", "eventDate", "result", "stdout", "stderr", "message", "isBatchFinished"]

    /// Reads a result as `WireDecoder` does — keys it does not know, and known keys that are
    /// `null`, end up in `unknownFields` — or `nil` for a shape it leaves to Codable.
    public init?(fastWire value: JSONValue) {
        guard case .object(let o) = value, let index = o["index"]?.fastInt, let date = o["eventDate"]?.fastString,
            let kindText = o["result"]?.fastString, let kind = CommandResultKind(rawValue: kindText),
            case .bool(let finished)? = o["isBatchFinished"]
        else { return nil }
        let eventDate = WireTimestamp(text: date)
        guard eventDate.epochNanoseconds != nil else { return nil }
        func output(_ key: String) -> CommandOutput?? {
            switch o[key] {
            case nil, .null?: return .some(nil)
            case .string(let s)?: return .some(.text(s))
            default: return nil
            }
        }
        guard let stdout = output("stdout"), let stderr = output("stderr") else { return nil }
        var message: String?
        switch o["message"] {
        case nil, .null?: message = nil
        case .string(let s)?: message = s
        default: return nil
        }
        self.init(index: index, eventDate: eventDate, result: kind, stdout: stdout, stderr: stderr, message: message, isBatchFinished: finished)
        let rest = o.filter { !Self.fastKeys.contains($0.key) || $0.value.isNull }
        if !rest.isEmpty { unknownFields = UnknownFields(rest) }
    }

    /// The result as a client reading its `wireValue` gets it back (see `init?(fastWire:)`): the
    /// `null`s written for an absent output or message are kept in `unknownFields`, the other
    /// fields are as they are. What an in-process node hands over with its answer.
    package var asRead: ExeScriptCommandResult {
        var r = self
        let nulls = (stdout == nil ? 1 : 0) | (stderr == nil ? 2 : 0) | (message == nil ? 4 : 0)
        if unknownFields.isEmpty {
            r.unknownFields = Self.nullMarkers[nulls]
        } else {
            var rest = unknownFields.values.filter { !Self.fastKeys.contains($0.key) }
            for (bit, key) in [(1, "stdout"), (2, "stderr"), (4, "message")] where nulls & bit != 0 { rest[key] = .null }
            r.unknownFields = rest.isEmpty ? UnknownFields() : UnknownFields(rest)
        }
        return r
    }

    /// The unknown fields a read result keeps for each combination of absent stdout (1), stderr
    /// (2) and message (4): made once, shared.
    static let nullMarkers: [UnknownFields] = (0..<8).map { bits in
        var o: [String: JSONValue] = [:]
        for (bit, key) in [(1, "stdout"), (2, "stderr"), (4, "message")] where bits & bit != 0 { o[key] = .null }
        return o.isEmpty ? UnknownFields() : UnknownFields(o)
    }

    /// Reads a batch's results: by hand when every one has a common shape, else by Codable (the
    /// same values either way; Codable's errors name the place).
    public static func decodeList(_ value: JSONValue) throws -> [ExeScriptCommandResult] {
        try WireDecoder().list(from: value, fast: ExeScriptCommandResult.init(fastWire:))
    }
}

extension WireDecoder {
    /// A list read element by element with `fast` when it reads every one; otherwise Codable
    /// reads the whole list (the same values; its errors name the element and field).
    func list<T: Decodable>(from value: JSONValue, fast: (JSONValue) -> T?) throws -> [T] {
        if case .array(let items) = value {
            var out: [T] = []
            out.reserveCapacity(items.count)
            for item in items {
                guard let element = fast(item) else { return try decode([T].self, from: value) }
                out.append(element)
            }
            return out
        }
        return try decode([T].self, from: value)
    }
}

extension CommandOutput {
    var wireValue: JSONValue {
        switch self {
        case .text(let s): .string(s)
        case .bytes(let b): .array(b.map { .number(JSONNumber(Int($0))) })
        }
    }
}

extension JSONValue {
    var fastString: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// An integer written as an integer literal.
    var fastInt: Int? {
        if case .number(let n) = self { return Int(n.literal) }
        return nil
    }

    var fastStrings: [String]? {
        guard case .array(let items) = self else { return nil }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case .string(let s) = item else { return nil }
            out.append(s)
        }
        return out
    }
}
