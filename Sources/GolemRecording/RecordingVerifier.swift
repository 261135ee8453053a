public import YagnaAPI

/// Checks a recording's exchanges against the API as this client models it and reports drift:
/// endpoints the client does not know, statuses it does not expect, answers its wire models
/// cannot read (a field missing or of another type), fields the models do not name, and event
/// types it does not know. A recording from a newer daemon shows what changed before anyone
/// replays it.
public struct RecordingVerifier: Sendable {
    public struct Drift: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable {
            case unknownEndpoint = "unknown endpoint"
            case unexpectedStatus = "unexpected status"
            case unreadableAnswer = "answer the client cannot read"
            case newField = "new field"
            case unknownEventType = "unknown event type"
        }
        public var kind: Kind
        public var operation: String
        public var detail: String
        /// The exchanges that show it.
        public var exchanges: [Int]
    }

    public private(set) var drift: [Drift] = []
    public private(set) var checked = 0

    public init(_ recording: Recording) {
        var found: [String: Drift] = [:]
        var order: [String] = []
        func add(_ kind: Drift.Kind, _ operation: String, _ detail: String, _ seq: Int) {
            let key = "\(kind.rawValue)|\(operation)|\(detail)"
            if found[key] == nil {
                found[key] = Drift(kind: kind, operation: operation, detail: detail, exchanges: [])
                order.append(key)
            }
            found[key]!.exchanges.append(seq)
        }
        for e in recording.exchanges {
            checked += 1
            guard let method = HTTPMethod(rawValue: e.method), let match = OperationCatalog.match(method: method, path: e.path) else {
                add(.unknownEndpoint, "\(e.method) \(Self.shape(e.path))", "the client has no operation for this endpoint", e.sequence)
                continue
            }
            let spec = match.spec
            guard e.status != -1 else { continue }
            if !spec.statuses.contains(e.status) {
                add(.unexpectedStatus, spec.name, "status \(e.status) (expected one of \(spec.statuses.sorted().map(String.init).joined(separator: ", ")))", e.sequence)
                continue
            }
            guard (200..<300).contains(e.status) else { continue }
            if !e.frames.isEmpty {
                for f in e.frames {
                    do {
                        let event = try WireDecoder().decode(RuntimeEvent.self, from: Array(f.event.data.utf8))
                        for field in Self.unknownFields(event, path: "") { add(.newField, spec.name, "SSE frame: \(field)", e.sequence) }
                    } catch {
                        add(.unreadableAnswer, spec.name, "SSE frame: \(Self.describe(error))", e.sequence)
                    }
                }
                continue
            }
            switch spec.model {
            case .none: continue
            case .string:
                if !e.responseBody.isEmpty, (try? JSONParser.parse(e.responseBody))?.stringValue == nil {
                    add(.unreadableAnswer, spec.name, "expected a bare JSON string id", e.sequence)
                }
            case .decode(let decode):
                guard !e.responseBody.isEmpty else { continue }
                do {
                    let value = try decode(e.responseBody)
                    for field in Self.unknownFields(value, path: "") { add(.newField, spec.name, field, e.sequence) }
                    for type in Self.unknownEventTypes(value) { add(.unknownEventType, spec.name, type, e.sequence) }
                } catch {
                    add(.unreadableAnswer, spec.name, Self.describe(error), e.sequence)
                }
            }
        }
        drift = order.map { found[$0]! }
    }

    /// A path with ids replaced by `{id}`.
    static func shape(_ path: String) -> String {
        path.split(separator: "/").map { s in
            s.count >= 16 && s.allSatisfy({ $0.isHexDigit || $0 == "-" }) ? "{id}" : String(s)
        }.joined(separator: "/").prefixed("/")
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? DecodingError { return "field '\(e.fieldPath)': \(e.reason)" }
        return "\(error)"
    }

    /// The keys the wire models kept as unknown (explicit nulls aside), with their paths.
    static func unknownFields(_ value: Any, path: String) -> [String] {
        if let u = value as? UnknownFields {
            return u.values.filter { !$0.value.isNull }.keys.sorted().map { path.isEmpty ? $0 : "\(path).\($0)" }
        }
        // A Reason carries free-form properties beside its message, by design.
        if value is JSONValue || value is String || value is WireTimestamp || value is Reason { return [] }
        let mirror = Mirror(reflecting: value)
        var out: [String] = []
        for (i, child) in mirror.children.enumerated() {
            let label = child.label ?? "[\(i)]"
            let next = label.hasPrefix("[") || label == "some" || label == "unknownFields" ? path : (path.isEmpty ? label : "\(path).\(label)")
            out += unknownFields(child.value, path: next)
        }
        return Array(Set(out)).sorted()
    }

    static func unknownEventTypes(_ value: Any) -> [String] {
        if let events = value as? [MarketEvent] {
            return events.compactMap { if case .other(let type, _, _) = $0 { type } else { nil } }
        }
        if let events = value as? [PaymentEvent] {
            return events.filter { $0.kind == nil }.map(\.eventType)
        }
        return []
    }
}

extension String {
    func prefixed(_ p: String) -> String { hasPrefix(p) ? self : p + self }
}
