import Foundation
import GolemTime

/// One fault of a scenario's schedule: a provider's fault or a daemon fault, by position.
public enum FaultReference: Sendable, Hashable, Comparable {
    /// `providers[provider].faults[fault]`.
    case provider(Int, fault: Int)
    /// `daemon.faults[index]`.
    case daemon(Int)

    public static func < (a: FaultReference, b: FaultReference) -> Bool {
        switch (a, b) {
        case (.provider(let p1, let f1), .provider(let p2, let f2)): return (p1, f1) < (p2, f2)
        case (.provider, .daemon): return true
        case (.daemon, .provider): return false
        case (.daemon(let i), .daemon(let j)): return i < j
        }
    }
}

extension Scenario {
    /// Every fault the scenario schedules, providers' first, in file order.
    public var faultSchedule: [FaultReference] {
        var out: [FaultReference] = []
        for (p, provider) in providers.enumerated() {
            for f in provider.faults.indices { out.append(.provider(p, fault: f)) }
        }
        for i in daemon.faults.indices { out.append(.daemon(i)) }
        return out
    }

    /// The scenario with only `faults` of its schedule left; everything else is unchanged.
    public func keeping(only faults: some Sequence<FaultReference>) -> Scenario {
        let kept = Set(faults)
        var copy = self
        for p in copy.providers.indices {
            copy.providers[p].faults = providers[p].faults.indices.filter { kept.contains(.provider(p, fault: $0)) }.map { providers[p].faults[$0] }
        }
        copy.daemon.faults = daemon.faults.indices.filter { kept.contains(.daemon($0)) }.map { daemon.faults[$0] }
        return copy
    }

    /// A fault as the scenario file writes it, with where it is:
    /// `provider bad: fail-command {match: "", exit-code: 1, stderr: "segfault"}`.
    public func describe(_ fault: FaultReference) -> String {
        switch fault {
        case .provider(let p, let f):
            guard providers.indices.contains(p), providers[p].faults.indices.contains(f) else { return "(no such fault)" }
            return "provider \(providers[p].name): \(providers[p].faults[f].yamlText)"
        case .daemon(let i):
            guard daemon.faults.indices.contains(i) else { return "(no such fault)" }
            return "daemon: \(daemon.faults[i].yamlText)"
        }
    }
}

extension Trigger {
    var yamlFields: [String] {
        var out: [String] = []
        if probability != 1 { out.append("probability: \(probability)") }
        if let afterBatches { out.append("after-batches: \(afterBatches)") }
        if let at { out.append("at: \(yamlDuration(at))") }
        return out
    }
}

func yamlDuration(_ d: Duration) -> String {
    let ms = d.totalNanoseconds / 1_000_000
    return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
}

func yamlString(_ s: String) -> String {
    // YAML's double-quoted escapes, so that the text stays on one line and reads back as it was.
    var out = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case _ where c.value < 0x20 || c.value == 0x7F || c.value == 0x85 || c.value == 0x2028 || c.value == 0x2029:
            // Other control characters and line separators as YAML escapes them (a backslash, u, four hex digits).
            let hex = String(c.value, radix: 16, uppercase: true)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(c)
        }
    }
    return out + "\""
}

extension ProviderFault {
    /// The fault in the scenario file's syntax (flow style).
    public var yamlText: String {
        let (kind, fields, trigger): (String, [String], Trigger) = {
            switch self {
            case .rejectProposal(let r, let t): return ("reject-proposal", ["reason: \(yamlString(r))"], t)
            case .rejectAgreement(let r, let t): return ("reject-agreement", ["reason: \(yamlString(r))"], t)
            case .failActivityCreation(let m, let t): return ("fail-activity-creation", ["message: \(yamlString(m))"], t)
            case .failCommand(let m, let code, let err, let t):
                return ("fail-command", ["match: \(yamlString(m))", "exit-code: \(code)", "stderr: \(yamlString(err))"], t)
            case .terminateAgreement(let r, let t): return ("terminate-agreement", ["reason: \(yamlString(r))"], t)
            case .unresponsive(let d, let t): return ("unresponsive", d.map { ["duration: \(yamlDuration($0))"] } ?? [], t)
            case .stopAnsweringPolls(let t): return ("stop-answering-polls", [], t)
            case .withholdInvoice(let t): return ("withhold-invoice", [], t)
            case .delayInvoice(let d, let t): return ("delay-invoice", ["duration: \(yamlDuration(d))"], t)
            case .debitNotesTooFast(let i, let t): return ("debit-notes-too-fast", ["interval: \(yamlDuration(i))"], t)
            }
        }()
        let all = fields + trigger.yamlFields
        return all.isEmpty ? "\(kind): {}" : "\(kind): {\(all.joined(separator: ", "))}"
    }
}

extension DaemonFault {
    /// The fault in the scenario file's syntax (flow style).
    public var yamlText: String {
        let names: [Kind: String] = [
            .gsbError: "gsb-error", .timeout: "timeout", .gatewayTimeout: "gateway-timeout", .dropConnection: "drop-connection",
            .delay: "delay", .restart: "restart",
        ]
        var fields = ["kind: \(names[kind] ?? kind.rawValue)", "match: \(yamlString(match))"]
        fields += trigger.yamlFields
        if duration != .zero { fields.append("duration: \(yamlDuration(duration))") }
        if let times { fields.append("times: \(times)") }
        return "{\(fields.joined(separator: ", "))}"
    }
}
