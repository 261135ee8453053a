public import Foundation
public import YagnaAPI
public import YagnaSimulator

/// A recorded session as people and tools read it: per provider, the negotiation, agreement,
/// batches with their commands and results, payments and terminations, with totals.
public struct SessionReport: Sendable {
    public struct Lane: Sendable {
        public var id: String
        public var name: String
        public var events: [TimelineEvent]
        public var accepted: Decimal
        public var batches: Int
        public var failedCommands: Int
        public var terminatedByProvider: Bool
    }

    public var file: String
    public var info: SessionInfo
    public var exchanges: Int
    public var duration: Int64
    public var requestor: [TimelineEvent]
    public var lanes: [Lane]
    public var divergences: [RecordedDivergence]

    public init(_ recording: Recording) {
        let analysis = recording.analysis
        file = recording.file
        info = recording.info
        exchanges = recording.exchanges.count
        duration = recording.duration
        divergences = recording.divergences
        let sorted = analysis.events.sorted { ($0.offset, $0.sequence) < ($1.offset, $1.sequence) }
        requestor = sorted.filter { $0.lane == ProtocolAnalyzer.requestorLane || $0.lane == "unknown" }
        lanes = analysis.providerOrder.map { id in
            let events = sorted.filter { $0.lane == id }
            let accepted = events.filter { $0.kind == .invoiceAccepted || $0.kind == .debitNoteAccepted }
            // Debit notes are cumulative: the invoice, else the last accepted debit note, is what was paid.
            let invoice = accepted.last { $0.kind == .invoiceAccepted } ?? accepted.last
            let total = invoice.flatMap { $0.details["amount"]?.stringValue }.flatMap { Decimal(string: $0) } ?? 0
            return Lane(
                id: id, name: analysis.name(of: id), events: events, accepted: total, batches: events.filter { $0.kind == .batch }.count,
                failedCommands: events.filter { $0.kind == .commandResult && $0.failure }.count,
                terminatedByProvider: events.contains { $0.kind == .agreementTerminated && $0.details["terminator"]?.stringValue == "Provider" })
        }
    }

    static func seconds(_ ns: Int64) -> String { String(format: "%9.3f s", Double(ns) / 1e9) }

    /// The readable timeline.
    public var text: String {
        var out = "session \(file)\n"
        out += "  source: \(info.source.rawValue)"
        if let s = info.scenario { out += ", scenario '\(s)'" }
        if let seed = info.seed { out += ", seed \(seed)" }
        if let u = info.upstream { out += ", upstream \(u)" }
        if let v = info.daemonVersion { out += ", daemon \(v)" }
        out += "\n  created \(info.created), \(exchanges) exchanges over \(String(format: "%.3f", Double(duration) / 1e9)) s"
        out += info.ended == nil ? " (the recorder did not end cleanly)\n" : "\n"
        if !info.notes.isEmpty { out += "  notes: \(info.notes)\n" }
        out += "\nrequestor\n"
        for e in requestor { out += "  \(Self.seconds(e.offset))  \(e.failure ? "✗ " : "")\(e.summary)\n" }
        for lane in lanes {
            out += "\nprovider \(lane.name) (\(lane.id))\n"
            for e in lane.events {
                let indent = e.kind == .commandResult ? "      " : "  "
                out += "\(indent)\(Self.seconds(e.offset))  \(e.failure ? "✗ " : "")\(e.summary)\n"
            }
            out += "  totals: \(lane.batches) batch(es), \(lane.failedCommands) failed command(s), \(lane.accepted) GLM accepted"
            out += lane.terminatedByProvider ? ", terminated by the provider\n" : "\n"
        }
        let total = lanes.reduce(Decimal(0)) { $0 + $1.accepted }
        out += "\ntotal accepted: \(total) GLM over \(lanes.count) provider(s)\n"
        if !divergences.isEmpty {
            out += "\ndivergences found when this session was replayed\n"
            for d in divergences { out += "  \(Self.seconds(d.offset))  \(d.summary)\n" }
        }
        return out
    }

    static func eventJSON(_ e: TimelineEvent) -> JSONValue {
        [
            "kind": .string(e.kind.rawValue), "offsetSeconds": .double(Double(e.offset) / 1e9), "endSeconds": .double(Double(e.end) / 1e9),
            "exchange": .int(e.sequence), "summary": .string(e.summary), "resource": .string(e.resource), "failure": .bool(e.failure),
            "details": e.details,
        ]
    }

    /// The report for tools.
    public var json: JSONValue {
        var session: [String: JSONValue] = [
            "file": .string(file), "source": .string(info.source.rawValue), "created": .string(info.created),
            "formatVersion": .int(info.formatVersion), "exchanges": .int(exchanges), "durationSeconds": .double(Double(duration) / 1e9),
            "endedCleanly": .bool(info.ended != nil),
        ]
        if let s = info.scenario { session["scenario"] = .string(s) }
        if let seed = info.seed { session["seed"] = .string(String(seed)) }
        if let v = info.daemonVersion { session["daemonVersion"] = .string(v) }
        return [
            "session": .object(session),
            "requestor": .array(requestor.map(Self.eventJSON)),
            "providers": .array(lanes.map { lane in
                [
                    "id": .string(lane.id), "name": .string(lane.name), "events": .array(lane.events.map(Self.eventJSON)),
                    "totals": [
                        "batches": .int(lane.batches), "failedCommands": .int(lane.failedCommands), "accepted": .string("\(lane.accepted)"),
                        "terminatedByProvider": .bool(lane.terminatedByProvider),
                    ],
                ]
            }),
            "divergences": .array(divergences.map { ["offsetSeconds": .double(Double($0.offset) / 1e9), "summary": .string($0.summary)] }),
        ]
    }
}
