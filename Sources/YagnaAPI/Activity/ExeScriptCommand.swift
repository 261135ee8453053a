/// One ExeScript command: a single-key object (`{"run": {…}}`).
public enum ExeScriptCommand: Codable, Sendable, Hashable {
    case deploy(DeployCommand)
    case start(StartCommand)
    case run(RunCommand)
    case transfer(TransferCommand)
    case sign(UnknownFields)
    case terminate(UnknownFields)
    /// A command this client does not model, kept as written.
    case other(name: String, body: JSONValue)

    /// Whether this client does not model the command (`other`): its name is checked by the
    /// daemon, and it may read back as a modelled one.
    package var isUnmodelled: Bool {
        if case .other = self { return true }
        return false
    }

    /// The command's wire name (`deploy`, `run`, …).
    public var name: String {
        switch self {
        case .deploy: "deploy"
        case .start: "start"
        case .run: "run"
        case .transfer: "transfer"
        case .sign: "sign"
        case .terminate: "terminate"
        case .other(let name, _): name
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "an ExeScript command is an object with exactly one key, found \(c.allKeys.count)"))
        }
        switch key.stringValue {
        case "deploy": self = .deploy(try c.decode(DeployCommand.self, forKey: key))
        case "start": self = .start(try c.decode(StartCommand.self, forKey: key))
        case "run": self = .run(try c.decode(RunCommand.self, forKey: key))
        case "transfer": self = .transfer(try c.decode(TransferCommand.self, forKey: key))
        case "sign": self = .sign(UnknownFields(try c.decode([String: JSONValue].self, forKey: key)))
        case "terminate": self = .terminate(UnknownFields(try c.decode([String: JSONValue].self, forKey: key)))
        default: self = .other(name: key.stringValue, body: try c.decode(JSONValue.self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        let key = AnyKey(name)
        switch self {
        case .deploy(let v): try c.encode(v, forKey: key)
        case .start(let v): try c.encode(v, forKey: key)
        case .run(let v): try c.encode(v, forKey: key)
        case .transfer(let v): try c.encode(v, forKey: key)
        case .sign(let v), .terminate(let v): try c.encode(v.values, forKey: key)
        case .other(_, let body): try c.encode(body, forKey: key)
        }
    }
}

/// `deploy`: optional network, hosts, volumes, environment and progress reporting.
public struct DeployCommand: Codable, Sendable, Hashable {
    public var net: [DeployNetwork]?
    public var hosts: [String: String]?
    public var hostname: String?
    public var volumes: [String]?
    public var env: [String: String]?
    public var progress: ProgressArgs?
    public var unknownFields = UnknownFields()

    public init(
        net: [DeployNetwork]? = nil, hosts: [String: String]? = nil, hostname: String? = nil,
        volumes: [String]? = nil, env: [String: String]? = nil, progress: ProgressArgs? = nil
    ) {
        self.net = net
        self.hosts = hosts
        self.hostname = hostname
        self.volumes = volumes
        self.env = env
        self.progress = progress
    }
}

/// A VPN the activity joins at deploy.
public struct DeployNetwork: Codable, Sendable, Hashable {
    public var id: String
    public var ip: String
    public var mask: String?
    public var gateway: String?
    public var nodeIp: String
    public var nodes: [String: String]?
    public var unknownFields = UnknownFields()

    public init(id: String, ip: String, mask: String? = nil, gateway: String? = nil, nodeIp: String, nodes: [String: String]? = nil) {
        self.id = id
        self.ip = ip
        self.mask = mask
        self.gateway = gateway
        self.nodeIp = nodeIp
        self.nodes = nodes
    }
}

/// Progress reporting for `deploy` and `transfer` (camelCase keys, as the daemon reads them).
public struct ProgressArgs: Codable, Sendable, Hashable {
    /// A duration such as `"300ms"`.
    public var updateInterval: String?
    public var updateStep: Int?
    public var unknownFields = UnknownFields()

    public init(updateInterval: String? = nil, updateStep: Int? = nil) {
        self.updateInterval = updateInterval
        self.updateStep = updateStep
    }
}

/// `start` with its arguments.
public struct StartCommand: Codable, Sendable, Hashable {
    public var args: [String]
    public var unknownFields = UnknownFields()

    public init(args: [String] = []) { self.args = args }

    enum CodingKeys: String, CodingKey { case args, unknownFields }

    /// `args` is optional on the wire (`{"start": {}}`), as the daemon accepts it.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        args = try c.decodeIfPresent([String].self, forKey: .args) ?? []
        unknownFields = try c.decode(UnknownFields.self, forKey: .unknownFields)
    }
}

/// `run`: an entry point, arguments and what to capture of its output.
public struct RunCommand: Codable, Sendable, Hashable {
    public var entryPoint: String
    public var args: [String]
    public var capture: Capture?
    public var unknownFields = UnknownFields()

    enum CodingKeys: String, CodingKey {
        case entryPoint = "entry_point"
        case args, capture, unknownFields
    }

    public init(entryPoint: String, args: [String] = [], capture: Capture? = nil) {
        self.entryPoint = entryPoint
        self.args = args
        self.capture = capture
    }

    /// `args` may be left out (`{"run": {"entry_point": "/bin/ls"}}`): the daemon's model
    /// defaults it to none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        entryPoint = try c.decode(String.self, forKey: .entryPoint)
        args = try c.decodeIfPresent([String].self, forKey: .args) ?? []
        capture = try c.decodeIfPresent(Capture.self, forKey: .capture)
        unknownFields = try c.decode(UnknownFields.self, forKey: .unknownFields)
    }
}

/// Output capture of a `run`; without it, output is discarded.
public struct Capture: Codable, Sendable, Hashable {
    public var stdout: CaptureMode?
    public var stderr: CaptureMode?
    public var unknownFields = UnknownFields()

    public init(stdout: CaptureMode? = nil, stderr: CaptureMode? = nil) {
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Both streams streamed as strings, as yapapi asks by default.
    public static let stream = Capture(stdout: .stream(), stderr: .stream())
    /// Both streams collected at the end as strings.
    public static let atEnd = Capture(stdout: .atEnd(), stderr: .atEnd())
}

/// `str` or `bin` (the daemon also accepts `string` and `binary`).
public enum CaptureFormat: String, Codable, Sendable, Hashable {
    case str, bin

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        switch s {
        case "str", "string": self = .str
        case "bin", "binary": self = .bin
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "capture format '\(s)' is not str or bin"))
        }
    }
}

/// How one output stream is captured.
public enum CaptureMode: Codable, Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case all
        case head(Int)
        case tail(Int)
        case headTail(Int)
    }

    case atEnd(part: Part = .all, format: CaptureFormat? = nil)
    case stream(limit: Int? = nil, format: CaptureFormat? = nil)

    private enum Keys: String, CodingKey { case atEnd, stream }
    private enum Inner: String, CodingKey { case head, tail, headTail, format, limit }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        if c.contains(.atEnd) {
            let i = try c.nestedContainer(keyedBy: Inner.self, forKey: .atEnd)
            let part: Part =
                if let n = try i.decodeIfPresent(Int.self, forKey: .head) { .head(n) }
                else if let n = try i.decodeIfPresent(Int.self, forKey: .tail) { .tail(n) }
                else if let n = try i.decodeIfPresent(Int.self, forKey: .headTail) { .headTail(n) }
                else { .all }
            self = .atEnd(part: part, format: try i.decodeIfPresent(CaptureFormat.self, forKey: .format))
        } else if c.contains(.stream) {
            let i = try c.nestedContainer(keyedBy: Inner.self, forKey: .stream)
            self = .stream(
                limit: try i.decodeIfPresent(Int.self, forKey: .limit),
                format: try i.decodeIfPresent(CaptureFormat.self, forKey: .format))
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "capture mode needs 'atEnd' or 'stream'"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .atEnd(let part, let format):
            var i = c.nestedContainer(keyedBy: Inner.self, forKey: .atEnd)
            switch part {
            case .all: break
            case .head(let n): try i.encode(n, forKey: .head)
            case .tail(let n): try i.encode(n, forKey: .tail)
            case .headTail(let n): try i.encode(n, forKey: .headTail)
            }
            try i.encodeIfPresent(format, forKey: .format)
        case .stream(let limit, let format):
            var i = c.nestedContainer(keyedBy: Inner.self, forKey: .stream)
            try i.encodeIfPresent(limit, forKey: .limit)
            try i.encodeIfPresent(format, forKey: .format)
        }
    }

    public var format: CaptureFormat {
        switch self {
        case .atEnd(_, let f), .stream(_, let f): f ?? .str
        }
    }
}

/// `transfer` between URLs (`gftp://`, `http(s)://`, `container:/path`, `file://`).
public struct TransferCommand: Codable, Sendable, Hashable {
    public var from: String
    public var to: String
    public var format: String?
    public var depth: Int?
    public var fileset: JSONValue?
    public var progress: ProgressArgs?
    public var unknownFields = UnknownFields()

    public init(from: String, to: String, format: String? = nil, depth: Int? = nil, fileset: JSONValue? = nil, progress: ProgressArgs? = nil) {
        self.from = from
        self.to = to
        self.format = format
        self.depth = depth
        self.fileset = fileset
        self.progress = progress
    }
}
