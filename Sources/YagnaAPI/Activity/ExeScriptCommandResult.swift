/// Captured output: a string, or bytes for the `bin` format (a JSON array of numbers).
public enum CommandOutput: Codable, Sendable, Hashable {
    case text(String)
    case bytes([UInt8])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .text(s) } else { self = .bytes(try c.decode([UInt8].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .text(let s): try c.encode(s)
        case .bytes(let b): try c.encode(b)
        }
    }

    /// The output as text (bytes decoded as UTF-8).
    public var text: String {
        switch self {
        case .text(let s): s
        case .bytes(let b): String(decoding: b, as: UTF8.self)
        }
    }
}

/// `Ok` or `Error`.
public enum CommandResultKind: String, Codable, Sendable, Hashable {
    case ok = "Ok"
    case error = "Error"
}

/// The result of one command of a batch, as `GET /activity/{id}/exec/{batch}` returns it.
/// Absent optional fields are written as explicit `null`s, as the daemon does.
public struct ExeScriptCommandResult: Codable, Sendable, Hashable {
    public var index: Int
    public var eventDate: WireTimestamp
    public var result: CommandResultKind
    public var stdout: CommandOutput?
    public var stderr: CommandOutput?
    public var message: String?
    public var isBatchFinished: Bool
    public var unknownFields = UnknownFields()

    public init(
        index: Int, eventDate: WireTimestamp, result: CommandResultKind, stdout: CommandOutput? = nil,
        stderr: CommandOutput? = nil, message: String? = nil, isBatchFinished: Bool
    ) {
        self.index = index
        self.eventDate = eventDate
        self.result = result
        self.stdout = stdout
        self.stderr = stderr
        self.message = message
        self.isBatchFinished = isBatchFinished
    }

    enum CodingKeys: String, CodingKey { case index, eventDate, result, stdout, stderr, message, isBatchFinished, unknownFields }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(eventDate, forKey: .eventDate)
        try c.encode(result, forKey: .result)
        if let stdout { try c.encode(stdout, forKey: .stdout) } else { try c.encodeNil(forKey: .stdout) }
        if let stderr { try c.encode(stderr, forKey: .stderr) } else { try c.encodeNil(forKey: .stderr) }
        if let message { try c.encode(message, forKey: .message) } else { try c.encodeNil(forKey: .message) }
        try c.encode(isBatchFinished, forKey: .isBatchFinished)
        try c.encode(unknownFields, forKey: .unknownFields)
    }
}

/// One SSE frame of a streamed batch: `event: runtime`, data in snake_case.
public struct RuntimeEvent: Codable, Sendable, Hashable {
    public var batchId: String
    public var index: Int
    /// A naive timestamp (no zone), UTC.
    public var timestamp: WireTimestamp
    public var kind: RuntimeEventKind
    public var unknownFields = UnknownFields()

    enum CodingKeys: String, CodingKey {
        case batchId = "batch_id"
        case index, timestamp, kind, unknownFields
    }

    public init(batchId: String, index: Int, timestamp: WireTimestamp, kind: RuntimeEventKind) {
        self.batchId = batchId
        self.index = index
        self.timestamp = timestamp
        self.kind = kind
    }
}

/// What a `RuntimeEvent` reports.
public enum RuntimeEventKind: Codable, Sendable, Hashable {
    case started(command: JSONValue)
    case finished(returnCode: Int, message: String?)
    case stdout(CommandOutput)
    case stderr(CommandOutput)
    case progress(RuntimeProgress)

    private enum Keys: String, CodingKey { case started, finished, stdout, stderr, progress }
    private enum Inner: String, CodingKey {
        case command
        case returnCode = "return_code"
        case message
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        if c.contains(.started) {
            let i = try c.nestedContainer(keyedBy: Inner.self, forKey: .started)
            self = .started(command: try i.decode(JSONValue.self, forKey: .command))
        } else if c.contains(.finished) {
            let i = try c.nestedContainer(keyedBy: Inner.self, forKey: .finished)
            self = .finished(returnCode: try i.decode(Int.self, forKey: .returnCode), message: try i.decodeIfPresent(String.self, forKey: .message))
        } else if c.contains(.stdout) {
            self = .stdout(try c.decode(CommandOutput.self, forKey: .stdout))
        } else if c.contains(.stderr) {
            self = .stderr(try c.decode(CommandOutput.self, forKey: .stderr))
        } else if c.contains(.progress) {
            self = .progress(try c.decode(RuntimeProgress.self, forKey: .progress))
        } else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "runtime event kind must be started, finished, stdout, stderr or progress"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .started(let command):
            var i = c.nestedContainer(keyedBy: Inner.self, forKey: .started)
            try i.encode(command, forKey: .command)
        case .finished(let code, let message):
            var i = c.nestedContainer(keyedBy: Inner.self, forKey: .finished)
            try i.encode(code, forKey: .returnCode)
            if let message { try i.encode(message, forKey: .message) } else { try i.encodeNil(forKey: .message) }
        case .stdout(let o): try c.encode(o, forKey: .stdout)
        case .stderr(let o): try c.encode(o, forKey: .stderr)
        case .progress(let p): try c.encode(p, forKey: .progress)
        }
    }
}

/// Progress of a `deploy` or `transfer`.
public struct RuntimeProgress: Codable, Sendable, Hashable {
    /// `[current step, number of steps]`.
    public var step: [Int]
    public var message: String?
    /// `[current, total or null]`.
    public var progress: [Int?]
    public var unit: String?
    public var unknownFields = UnknownFields()

    public init(step: [Int], message: String? = nil, progress: [Int?], unit: String? = nil) {
        self.step = step
        self.message = message
        self.progress = progress
        self.unit = unit
    }
}
