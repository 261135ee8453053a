/// `POST /activity` body. yapapi sends the legacy form, a bare JSON string holding the
/// agreement id; newer clients send an object.
public enum CreateActivityRequest: Codable, Sendable, Hashable {
    case legacy(agreementId: String)
    case object(agreementId: String, requestorPubKey: String?, unknownFields: UnknownFields)

    public var agreementId: String {
        switch self {
        case .legacy(let id), .object(let id, _, _): id
        }
    }

    private enum Keys: String, CodingKey { case agreementId, requestorPubKey, unknownFields }

    public init(from decoder: any Decoder) throws {
        if let id = try? decoder.singleValueContainer().decode(String.self) {
            self = .legacy(agreementId: id)
            return
        }
        let c = try decoder.container(keyedBy: Keys.self)
        self = .object(
            agreementId: try c.decode(String.self, forKey: .agreementId),
            requestorPubKey: try c.decodeIfPresent(String.self, forKey: .requestorPubKey),
            unknownFields: try c.decode(UnknownFields.self, forKey: .unknownFields))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .legacy(let id):
            var c = encoder.singleValueContainer()
            try c.encode(id)
        case .object(let id, let key, let unknown):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(id, forKey: .agreementId)
            try c.encodeIfPresent(key, forKey: .requestorPubKey)
            try c.encode(unknown, forKey: .unknownFields)
        }
    }
}

/// `POST /activity` reply: a bare string for the legacy request form, else an object.
public enum CreateActivityResponse: Codable, Sendable, Hashable {
    case legacy(activityId: String)
    case object(activityId: String, credentials: JSONValue?, unknownFields: UnknownFields)

    public var activityId: String {
        switch self {
        case .legacy(let id), .object(let id, _, _): id
        }
    }

    private enum Keys: String, CodingKey { case activityId, credentials, unknownFields }

    public init(from decoder: any Decoder) throws {
        if let id = try? decoder.singleValueContainer().decode(String.self) {
            self = .legacy(activityId: id)
            return
        }
        let c = try decoder.container(keyedBy: Keys.self)
        self = .object(
            activityId: try c.decode(String.self, forKey: .activityId),
            credentials: try c.decodeIfPresent(JSONValue.self, forKey: .credentials),
            unknownFields: try c.decode(UnknownFields.self, forKey: .unknownFields))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .legacy(let id):
            var c = encoder.singleValueContainer()
            try c.encode(id)
        case .object(let id, let credentials, let unknown):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(id, forKey: .activityId)
            try c.encodeIfPresent(credentials, forKey: .credentials)
            try c.encode(unknown, forKey: .unknownFields)
        }
    }
}

/// `POST /activity/{id}/exec` body: the script as a JSON array serialised into a string.
public struct ExeScriptRequest: Codable, Sendable, Hashable {
    public var text: String
    public var unknownFields = UnknownFields()

    public init(text: String) { self.text = text }

    /// Serialises commands into the `text` form.
    public init(commands: [ExeScriptCommand]) throws {
        self = try Self.prepared(commands).request
    }

    /// An exec body made in this process: the script its text is written from and the commands.
    /// An in-process node takes the commands as they are instead of parsing the text, which is
    /// then written only if something reads the body (HTTP, the journal's bytes, a debug build).
    package struct Prepared: Sendable {
        package let script: JSONValue
        package let commands: [ExeScriptCommand]

        /// The body: `script` written as text (anew on each read).
        package var request: ExeScriptRequest { ExeScriptRequest(text: JSONWriter.string(script)) }

        /// The body's JSON, `{"text": …}` (anew on each call).
        package var wireValue: JSONValue { .object(["text": .string(request.text)]) }
    }

    /// The body for `commands`, with its script and commands at hand.
    package static func prepared(_ commands: [ExeScriptCommand]) throws -> Prepared {
        var values: [JSONValue] = []
        values.reserveCapacity(commands.count)
        for command in commands { values.append(try command.fastWireValue ?? WireEncoder().encodeValue(command)) }
        return Prepared(script: .array(values), commands: commands)
    }

    /// Parses `text` back into commands.
    public func commands() throws -> [ExeScriptCommand] {
        try Self.commands(script: WireDecoder().value(from: Array(text.utf8)))
    }

    /// The commands of an already parsed `text`.
    public static func commands(script: JSONValue) throws -> [ExeScriptCommand] {
        try WireDecoder().list(from: script, fast: ExeScriptCommand.init(fastWire:))
    }
}

/// The activity state pair and its optional reason, as `GET /activity/{id}/state` returns it.
public struct ActivityStateResponse: Codable, Sendable, Hashable {
    /// `[current, next]`; `next` is `nil` unless a transition is under way.
    public var state: [ActivityState?]
    public var reason: String?
    public var errorMessage: String?
    public var unknownFields = UnknownFields()

    public init(current: ActivityState, next: ActivityState? = nil, reason: String? = nil, errorMessage: String? = nil) {
        self.state = [current, next]
        self.reason = reason
        self.errorMessage = errorMessage
        // The daemon writes the optional fields as explicit nulls.
        if reason == nil { unknownFields["reason"] = .null }
        if errorMessage == nil { unknownFields["errorMessage"] = .null }
    }

    public var current: ActivityState? { state.first ?? nil }
}

/// An activity's state.
public enum ActivityState: String, Codable, Sendable, Hashable, CaseIterable {
    case new = "New"
    case initialized = "Initialized"
    case deployed = "Deployed"
    case ready = "Ready"
    case unresponsive = "Unresponsive"
    case terminated = "Terminated"
}

/// `GET /activity/{id}/usage`.
public struct ActivityUsage: Codable, Sendable, Hashable {
    public var currentUsage: [Double]?
    /// Unix seconds.
    public var timestamp: Int
    public var unknownFields = UnknownFields()

    public init(currentUsage: [Double]?, timestamp: Int) {
        self.currentUsage = currentUsage
        self.timestamp = timestamp
    }
}

/// A value that can write its JSON without the Codable machinery (what `WireEncoder` writes for
/// it), or `nil` when it cannot (then the encoder writes it).
protocol FastWireEncodable {
    var fastWireValue: JSONValue? { get }
}

extension Acceptance: FastWireEncodable {
    /// `{"allocationId": …, "totalAmountAccepted": "…"}`, as the encoder writes it, when there are
    /// no unknown fields to merge (a requestor sends one per debit note).
    var fastWireValue: JSONValue? {
        unknownFields.isEmpty ? .object(["allocationId": .string(allocationId), "totalAmountAccepted": .string(totalAmountAccepted.wireString)]) : nil
    }
}

extension ExeScriptRequest: FastWireEncodable {
    /// `{"text": …}`, as the encoder writes it, when there are no unknown fields to merge.
    var fastWireValue: JSONValue? { unknownFields.isEmpty ? .object(["text": .string(text)]) : nil }
}
