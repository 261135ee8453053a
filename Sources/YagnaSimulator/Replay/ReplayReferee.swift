import Foundation
public import YagnaAPI

/// A request during replay that has no recorded counterpart: what was asked, the closest
/// recorded operation and the fields that differ.
public struct Divergence: Sendable, Hashable, CustomStringConvertible {
    public var sequence: Int
    public var offset: Int64
    public var request: String
    public var operation: ProtocolOperation?
    public var closest: ProtocolOperation?
    /// `field: recorded → live` lines.
    public var differences: [String]
    public var reason: String
    /// The lane's display name.
    public var provider: String

    public var description: String {
        var out = "divergence at exchange \(sequence) (\(String(format: "%.3f", Double(offset) / 1e9)) s): \(request) — \(reason)"
        if let closest {
            out += "\n  closest recorded: \(closest.kind) on \(closest.resource) at exchange \(closest.sequence)"
        }
        for d in differences { out += "\n  \(d)" }
        return out
    }

    /// The report as JSON, as the divergent request is answered and as it is journaled.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "sequence": .int(sequence), "offsetSeconds": .double(Double(offset) / 1e9), "request": .string(request),
            "reason": .string(reason), "provider": .string(provider), "differences": .array(differences.map { .string($0) }),
        ]
        if let operation { o["operation"] = ["kind": .string(operation.kind), "resource": .string(operation.resource), "fields": operation.fields] }
        if let closest {
            o["closestRecorded"] = [
                "kind": .string(closest.kind), "resource": .string(closest.resource), "fields": closest.fields,
                "exchange": .int(closest.sequence),
            ]
        }
        return .object(o)
    }
}

/// Judges a live requestor against a recorded session while the node replays it.
///
/// Every request that changes something is reduced to a `ProtocolOperation` and must match a
/// recorded one of the same kind and fields, not used yet, on the same provider (an exec may run on
/// any provider: that is scheduling, not meaning). Reads, long
/// polls, polling cadence and the order of independent calls are not divergences; debit-note
/// acceptances are not judged (their number follows the session's length), and neither is how
/// often an exec with the same commands repeats (retries, periodic polls). In strict mode a
/// divergent request is answered with the report (400) instead of being served; in lenient mode
/// it is served from the scenario's defaults and only reported.
public struct ReplayReferee: Sendable {
    public let strict: Bool
    let expected: [ProtocolOperation]
    var used: [Bool]
    /// Every expected operation before this index is used: searches for an unused one start here.
    var firstUnused = 0
    var live = ProtocolAnalyzer(keepsTimeline: false)
    /// The catalog's match of each request judged and not yet complete, by sequence.
    var pendingMatches: [Int: OperationCatalog.Match?] = [:]
    static let pendingLimit = 4096
    public private(set) var divergences: [Divergence] = []
    let names: [String: String]
    /// How many exchanges the recorded session had.
    let recordedExchanges: Int

    static let unjudged: Set<String> = ["payment.acceptDebitNote", "payment.rejectDebitNote"]
    /// Reads that teach the analyzer no ids: neither judged nor taken in.
    /// (A name any of whose forms changes something, `registry.image` by HEAD, is not one.)
    static let passedOver: Set<String> = {
        let changing = Set(OperationCatalog.all.filter { !$0.readOnly }.map(\.name))
        return Set(OperationCatalog.all.map(\.name).filter { !changing.contains($0) && !ProtocolAnalyzer.idOperations.contains($0) })
    }()
    /// Work the engine may hand to any provider: which one runs a batch is scheduling, not
    /// meaning, so an exec matches a recorded one with the same commands on any provider.
    static let anyLane: Set<String> = ["activity.exec"]

    func matches(_ recorded: ProtocolOperation, _ op: ProtocolOperation) -> Bool {
        recorded.kind == op.kind && recorded.fields == op.fields && (recorded.lane == op.lane || Self.anyLane.contains(op.kind))
    }

    public init(plan: ReplayPlan, strict: Bool = true) {
        self.strict = strict
        self.expected = plan.operations.filter { !Self.unjudged.contains($0.kind) }
        self.used = Array(repeating: false, count: expected.count)
        self.recordedExchanges = plan.exchangeCount
        var names: [String: String] = [:]
        for id in plan.analysis.providerOrder { names[id] = plan.analysis.name(of: id) }
        self.names = names
    }

    func name(_ lane: String) -> String { names[lane] ?? (lane == ProtocolAnalyzer.requestorLane ? lane : String(lane.prefix(10))) }

    /// Judges a request before the node serves it: `nil` to serve it, or the divergence answer.
    public mutating func check(_ request: NodeRequest, sequence: Int, offset: Int64) -> YagnaResponse? {
        let (answer, match) = judge(request, sequence: sequence, offset: offset)
        // Found once: `observe` takes the exchange in with the same match when it completes.
        pendingMatches[sequence] = match
        // A stream dropped unfinished never completes: its entry must not stay for the node's
        // life (`serve`). An old entry let go is found again from its journal entry.
        if pendingMatches.count > Self.pendingLimit {
            pendingMatches = pendingMatches.filter { $0.key > sequence - Self.pendingLimit }
        }
        return answer
    }

    /// Judges a request: the divergence answer (`nil` to serve it) and the catalog's match of
    /// the request, for `observe(_:match:)` when the exchange completes (the node keeps it with
    /// the exchange's journal entry).
    mutating func judge(_ request: NodeRequest, sequence: Int, offset: Int64) -> (YagnaResponse?, OperationCatalog.Match?) {
        // A typed client's read that teaches no ids (most requests: the polls) is neither judged
        // nor taken in: no need to match its path. (A debug build matches it and checks the name.)
        if let operation = request.operation, Self.passedOver.contains(operation) {
            // Passing over is right when the path is no operation or another read of the set.
            assert(OperationCatalog.match(method: request.method, path: request.path).map { Self.passedOver.contains($0.spec.name) } ?? true, "\(operation) names \(request.method) \(request.path)")
            return (nil, nil)
        }
        // Only the request counts here: a classification reads the method, path and body.
        let match = OperationCatalog.match(method: request.method, path: request.path)
        return (verdict(request, match, sequence: sequence, offset: offset), match)
    }

    private mutating func verdict(_ request: NodeRequest, _ match: OperationCatalog.Match?, sequence: Int, offset: Int64) -> YagnaResponse? {
        // Reads, requests the catalog does not know and debit-note acceptances are not judged.
        guard let match, !match.spec.readOnly, !Self.unjudged.contains(match.spec.name) else { return nil }
        let exchange = ProtocolExchange(
            sequence: sequence, start: offset, end: offset, method: request.method.rawValue, path: request.path, query: "",
            request: request.content, status: 0, response: MessageBody(), frames: [], match: match)
        guard let op = live.classify(exchange), !Self.unjudged.contains(op.kind) else { return nil }
        let open = expected.indices[firstUnused...]
        if let i = open.first(where: { !used[$0] && expected[$0].lane == op.lane && matches(expected[$0], op) })
            ?? open.first(where: { !used[$0] && matches(expected[$0], op) })
        {
            used[i] = true
            while firstUnused < used.count && used[firstUnused] { firstUnused += 1 }
            return nil
        }
        // Repeating a recorded batch (a retry elsewhere, one more periodic poll) is cadence.
        if Self.anyLane.contains(op.kind), expected.indices.contains(where: { used[$0] && matches(expected[$0], op) }) { return nil }
        let closest = expected.indices.first { !used[$0] && expected[$0].lane == op.lane && expected[$0].kind == op.kind }
            ?? expected.indices.first { !used[$0] && expected[$0].kind == op.kind }
            ?? expected.indices.first { expected[$0].lane == op.lane && expected[$0].kind == op.kind }
            ?? expected.indices.first { Self.anyLane.contains(op.kind) && expected[$0].kind == op.kind }
            ?? expected.indices.first { !used[$0] && expected[$0].lane == op.lane }
        var differences: [String] = []
        var reason = "no recorded \(op.kind) on \(name(op.lane)) is left to match it"
        if let c = closest.map({ expected[$0] }) {
            // Kinds that match on any provider differ by their fields, not by where they ran.
            let sameLane = c.lane == op.lane || Self.anyLane.contains(op.kind)
            if !sameLane { differences.append("provider: \(name(c.lane)) → \(name(op.lane))") }
            if c.kind != op.kind { differences.append("operation: \(c.kind) → \(op.kind)") }
            differences += FieldDiff.lines(c.fields, op.fields)
            if c.kind == op.kind && sameLane && differences.isEmpty {
                reason = "the recording has no further \(op.kind) on \(name(op.lane)) (every recorded one was already matched)"
            } else if c.kind == op.kind && sameLane {
                reason = "the request's fields differ from the recorded \(op.kind)"
            }
        } else {
            reason = "the recording has no \(op.kind) at all"
        }
        let d = Divergence(
            sequence: sequence, offset: offset, request: "\(request.method.rawValue) \(request.path)", operation: op,
            closest: closest.map { expected[$0] }, differences: differences, reason: reason, provider: name(op.lane))
        divergences.append(d)
        guard strict else { return nil }
        return .json(400, ["message": .string("golem-sim replay divergence: \(reason)"), "divergence": d.json])
    }

    /// Takes in a completed live exchange, so later requests resolve their ids.
    public mutating func observe(_ entry: JournalEntry) {
        if let found = pendingMatches.removeValue(forKey: entry.sequence) {
            observe(entry, match: found)
        } else {
            live.ingest(ProtocolExchange(entry))
        }
    }

    /// Takes in a completed live exchange judged with `match`.
    mutating func observe(_ entry: JournalEntry, match: OperationCatalog.Match?) {
        // Only the exchanges that teach ids are worth taking in.
        guard let match, ProtocolAnalyzer.idOperations.contains(match.spec.name) else { return }
        if live.learnedDocument(status: entry.status, ids: match.ids, response: entry.response) { return }
        live.ingest(ProtocolExchange(entry, match: match))
    }

    /// Recorded operations the live requestor never performed.
    public var unperformed: [ProtocolOperation] {
        expected.indices.filter { i in
            !used[i] && !(Self.anyLane.contains(expected[i].kind) && expected.indices.contains { used[$0] && matches(expected[$0], expected[i]) })
        }.map { expected[$0] }
    }

    /// A readable verdict: divergences, then recorded operations never performed.
    public var report: [String] {
        var out = divergences.map(\.description)
        for op in unperformed {
            out.append("not replayed: the recording's \(op.kind) on \(name(op.lane)) (\(op.resource), exchange \(op.sequence)) never came")
        }
        return out
    }
}

/// Field-level differences of two JSON values, as `path: a → b` lines.
public enum FieldDiff {
    public static func lines(_ a: JSONValue, _ b: JSONValue, path: String = "") -> [String] {
        if a == b { return [] }
        switch (a, b) {
        case (.object(let x), .object(let y)):
            var out: [String] = []
            for key in Set(x.keys).union(y.keys).sorted() {
                let p = path.isEmpty ? key : "\(path).\(key)"
                switch (x[key], y[key]) {
                case (let u?, let v?): out += lines(u, v, path: p)
                case (let u?, nil): out.append("\(p): \(JSONWriter.string(u)) → (absent)")
                case (nil, let v?): out.append("\(p): (absent) → \(JSONWriter.string(v))")
                default: break
                }
            }
            return out
        case (.array(let x), .array(let y)):
            var out: [String] = []
            for i in 0..<max(x.count, y.count) {
                let p = "\(path)[\(i)]"
                if i < x.count, i < y.count { out += lines(x[i], y[i], path: p) } else if i < x.count {
                    out.append("\(p): \(JSONWriter.string(x[i])) → (absent)")
                } else {
                    out.append("\(p): (absent) → \(JSONWriter.string(y[i]))")
                }
            }
            return out
        default:
            return ["\(path.isEmpty ? "value" : path): \(JSONWriter.string(a)) → \(JSONWriter.string(b))"]
        }
    }
}
