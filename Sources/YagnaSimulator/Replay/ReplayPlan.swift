import Foundation
public import YagnaAPI

/// What replaying a recorded session needs: a scenario whose providers behave as the recorded
/// ones did (their ids and offers, answer delays, command results and durations, rejections,
/// terminations and invoices at their recorded offsets), and the recorded requestor operations
/// a live requestor must repeat.
///
/// ```swift
/// let plan = ReplayPlan(name: "hello", exchanges: exchanges)
/// let node = SimulatedNode(scenario: plan.scenario, seed: 1, clock: clock, appKey: key, files: files)
/// node.enableReplay(ReplayReferee(plan: plan, strict: true))
/// ```
public struct ReplayPlan: Sendable {
    public var scenario: Scenario
    /// The recorded operations, in order.
    public var operations: [ProtocolOperation]
    public var analysis: ProtocolAnalyzer
    /// How many exchanges the session recorded (a replay's journal is made room for as many).
    public var exchangeCount: Int

    public init(name: String, exchanges: [ProtocolExchange]) {
        self.exchangeCount = exchanges.count
        let analysis = ProtocolAnalyzer(exchanges)
        self.analysis = analysis
        self.operations = analysis.operations
        var scenario = Scenario(name: name)
        scenario.description = "replay of a recorded session"
        let subscribed = exchanges.first { $0.operation == "market.subscribeDemand" && $0.ok }?.end ?? 0
        for id in analysis.providerOrder {
            guard let provider = analysis.providers[id] else { continue }
            scenario.providers.append(Self.provider(provider, analysis: analysis, exchanges: exchanges, subscribed: subscribed))
        }
        if scenario.providers.isEmpty {
            // A session without offers still replays its requestor calls against a quiet market.
            var quiet = ProviderSpec(name: "no-offers")
            quiet.offerDelay = .seconds(86_400 * 365)
            scenario.providers.append(quiet)
        }
        // A recording made before providers were offered again after an agreement (or whose
        // requestor never looked) shows each offer once: the replay offers no more than it saw.
        var offers: [String: Int] = [:]
        for event in analysis.events where event.kind == .offer { offers[event.lane, default: 0] += 1 }
        scenario.daemon.reoffersAfterAgreements = offers.values.contains { $0 > 1 }
        self.scenario = scenario
    }

    static func nanoseconds(_ ns: Int64) -> Duration { .nanoseconds(max(ns, 0)) }

    static func provider(_ p: ProtocolAnalyzer.Provider, analysis: ProtocolAnalyzer, exchanges: [ProtocolExchange], subscribed: Int64) -> ProviderSpec {
        var spec = ProviderSpec(name: p.name)
        spec.nodeId = p.id
        // What the recording shows is what happened: no limit of the simulator's own decides it
        // (a recorded capacity refusal is not made a fault below).
        spec.maxAgreements = nil
        let props = NodeCore.flatten(p.offer?["properties"]?.objectValue ?? [:])
        spec.properties = props
        if let m = props["golem.srv.caps.multi-activity"]?.boolValue { spec.multiActivity = m } else { spec.multiActivity = false }
        // An interval that is no number of seconds a clock can hold is no interval at all.
        if let i = props["golem.com.scheme.payu.debit-note.interval-sec?"]?.doubleValue, let d = Duration.rounded(seconds: i), d >= .milliseconds(1) {
            spec.debitNoteInterval = d
        } else {
            spec.debitNoteInterval = nil
        }
        if let coeffs = props["golem.com.pricing.model.linear.coeffs"]?.arrayValue?.compactMap(\.doubleValue) {
            let vector = props["golem.com.usage.vector"]?.arrayValue?.compactMap(\.stringValue) ?? ["golem.usage.duration_sec", "golem.usage.cpu_sec"]
            for (i, name) in vector.enumerated() where i < coeffs.count {
                if name == "golem.usage.duration_sec" { spec.pricing.perDurationSecond = coeffs[i] }
                if name == "golem.usage.cpu_sec" { spec.pricing.perCpuSecond = coeffs[i] }
                if !["golem.usage.duration_sec", "golem.usage.cpu_sec"].contains(name) {
                    var counter = UsageCounter(name: name)
                    counter.price = coeffs[i]
                    spec.pricing.counters.append(counter)
                }
            }
            if coeffs.count > vector.count { spec.pricing.start = coeffs[vector.count] }
        }
        spec.offerDelay = nanoseconds(p.firstSeen - subscribed)
        let lane = analysis.events.filter { $0.lane == p.id }
        let ops = analysis.operations.filter { $0.lane == p.id }
        // Answer delays: counter-proposal → Draft.
        if let counter = ops.first(where: { $0.kind == "market.counterProposalDemand" }),
            let answer = lane.first(where: { ($0.kind == .draft || $0.kind == .proposalRejected) && $0.sequence > counter.sequence }),
            let sent = exchanges.first(where: { $0.sequence == counter.sequence })
        {
            spec.responseDelay = nanoseconds(answer.offset - sent.end)
        }
        for e in lane where e.kind == .proposalRejected && e.details["reason"]?.stringValue?.hasPrefix("No capacity available") != true {
            spec.faults.append(.rejectProposal(reason: e.details["reason"]?.stringValue ?? "rejected", Trigger()))
            break
        }
        for e in lane where e.kind == .agreementRejected {
            spec.faults.append(.rejectAgreement(reason: e.summary, Trigger()))
            break
        }
        // Command results, durations measured between results of a batch.
        var rules: [CommandRule] = []
        var seen = Set<String>()
        var previous: [String: Int64] = [:]
        for e in lane where e.kind == .batch { previous[e.resource] = e.offset }
        for e in lane where e.kind == .commandResult {
            guard let line = e.details["command"]?.stringValue else { continue }
            let started = previous[e.resource] ?? e.offset
            previous[e.resource] = e.offset
            if line.hasPrefix("deploy") { spec.deployDuration = nanoseconds(e.offset - started) }
            guard line.hasPrefix("run "), !seen.contains(line) else { continue }
            seen.insert(line)
            var rule = CommandRule(exactly: String(line.dropFirst(4)))
            let ok = e.details["result"]?.stringValue == "Ok"
            rule.exitCode = ok ? 0 : 1
            rule.stdout = e.details["stdout"]?.stringValue ?? ""
            rule.stderr = e.details["stderr"]?.stringValue ?? e.details["message"]?.stringValue
            rule.duration = nanoseconds(e.offset - started)
            rules.append(rule)
        }
        // A provider whose every recorded run failed fails the runs it was not seen doing too.
        let runs = lane.filter { $0.kind == .commandResult && ($0.details["command"]?.stringValue ?? "").hasPrefix("run ") }
        if let first = runs.first, runs.allSatisfy(\.failure) {
            var rule = CommandRule(match: "/.*/")
            rule.exitCode = 1
            rule.stdout = ""
            rule.stderr = first.details["stderr"]?.stringValue ?? first.details["message"]?.stringValue
            rule.duration = rules.first?.duration
            rules.append(rule)
        }
        spec.commands = rules
        // Activity creation failures.
        for e in analysis.events where e.kind == .error && e.summary.hasPrefix("activity.createActivity") && e.lane == p.id {
            spec.faults.append(.failActivityCreation(message: e.summary, Trigger()))
            break
        }
        // Provider-side terminations, at their offset since the approval.
        if let terminated = lane.first(where: { $0.kind == .agreementTerminated && $0.details["terminator"]?.stringValue == "Provider" }) {
            let approved = lane.first { $0.kind == .agreementApproved && $0.resource == terminated.resource }?.offset ?? terminated.offset
            var trigger = Trigger()
            trigger.at = nanoseconds(terminated.offset - approved)
            spec.faults.append(.terminateAgreement(reason: terminated.details["reason"]?.stringValue ?? "terminated", trigger))
        }
        // Invoices: their delay after the agreement ended, or none at all.
        let ended = lane.filter { $0.kind == .agreementTerminated }.map(\.offset)
        let invoices = lane.filter { $0.kind == .invoice }.map(\.offset)
        if let end = ended.first {
            if let invoice = invoices.first(where: { $0 >= end }) { spec.invoiceDelay = nanoseconds(invoice - end) } else if invoices.isEmpty {
                spec.faults.append(.withholdInvoice(Trigger()))
            }
        }
        return spec
    }
}
