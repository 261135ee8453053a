public import Foundation
public import YagnaAPI

/// The scenario's providers without the simulated node around them: what `golem-sim provide`
/// plays behind a real yagna daemon.
///
/// It is the same implementation the simulated node runs (one `NodeCore`, its exe-unit, its
/// fault triggers, pricing and schedules); only the edge differs. The real daemon owns the
/// market, agreements and activities, so the shell reports them here with the daemon's ids
/// (`agreementApproved`, `openActivity`, `exec`, …) and carries out the effects the engine
/// returns (`due(until:)`: debit notes, invoices, terminations, state changes). A value type
/// with no I/O; every entry point takes `now`.
public struct ProviderEngine: Sendable {
    var core: NodeCore
    /// Debit notes already handed out as effects, per activity.
    private var notesSent: [String: String] = [:]
    /// Effects of a request the shell reported, to hand out before anything scheduled.
    private var immediate: [Effect] = []

    /// Something a provider does on the real node at a time of its own.
    public enum Effect: Sendable, Hashable {
        /// Issue and send a debit note for the activity's usage so far.
        /// `paymentDue`: when mid-agreement payments were negotiated, when it must be paid.
        case debitNote(activityId: String, amount: Decimal, usage: [Double], paymentDue: Date?)
        /// Issue and send the agreement's invoice.
        case invoice(agreementId: String, activityIds: [String], amount: Decimal)
        /// The provider ends the agreement (a fault).
        case terminateAgreement(agreementId: String, reason: String)
        /// The activity's state changes (unresponsive and back, terminated under a batch).
        case activityState(activityId: String, state: ActivityState)
    }

    public init(scenario: Scenario, seed: UInt64, files: any FileExchange) {
        core = NodeCore(scenario: scenario, seed: seed, appKey: "", files: files)
        core.networksFromDaemon = true
    }

    public var providerSpecs: [ProviderSpec] { core.providers.map(\.spec) }

    /// The provider's offer properties on the real node, under its real node id.
    public func offerProperties(_ provider: Int, nodeId: String) -> Properties {
        NodeCore.offerProperties(core.providers[provider].spec, id: nodeId)
    }

    /// The provider's counter to a requestor's proposal (its properties), as the simulated node makes it.
    public func counterProperties(_ provider: Int, nodeId: String, requestor: Properties) -> Properties {
        NodeCore.counterProperties(offer: offerProperties(provider, nodeId: nodeId), requestor: requestor)
    }

    /// The provider's answer to the requestor's counter-proposal: `nil` to counter, or the
    /// reason it rejects with (its agreement limit reached, the scenario's `reject-proposal`).
    public mutating func proposalRefusal(_ provider: Int) -> String? {
        if let full = core.agreementLimitReached(provider) { return full }
        for case .rejectProposal(let reason, let trigger) in core.faults(provider) where core.strikes(trigger, provider: provider) {
            return reason
        }
        return nil
    }

    /// The provider's answer to an agreement: `nil` to approve, or the reason it rejects with
    /// (its agreement limit reached, the scenario's `reject-agreement`).
    public mutating func agreementRefusal(_ provider: Int) -> String? {
        if let full = core.agreementLimitReached(provider) { return full }
        for case .rejectAgreement(let reason, let trigger) in core.faults(provider) where core.strikes(trigger, provider: provider) {
            return reason
        }
        return nil
    }

    /// How long the provider takes to answer a proposal or an agreement.
    public func responseDelay(_ provider: Int) -> Duration { core.providers[provider].spec.responseDelay }

    /// How long the provider takes to counter the requestor's first proposal: on a real node
    /// every offer matches the moment the demand is subscribed, so the scenario's `offer-delay`
    /// (when its offer appears in the simulated market) is spent here, keeping the order in
    /// which providers answer the same in both places.
    public func firstCounterDelay(_ provider: Int) -> Duration {
        core.providers[provider].spec.offerDelay + core.providers[provider].spec.responseDelay
    }

    /// The real node approved an agreement with this provider.
    public mutating func agreementApproved(_ agreement: Agreement, provider: Int, at now: Date) {
        let id = agreement.agreementId
        guard core.agreements[id] == nil else { return }
        // The daemon may send properties nested; the engine reads them by dotted names.
        var agreement = agreement
        agreement.demand.properties = NodeCore.flatten(agreement.demand.properties)
        agreement.offer.properties = NodeCore.flatten(agreement.offer.properties)
        let multi = agreement.offer.properties["golem.srv.caps.multi-activity"]?.boolValue ?? core.providers[provider].spec.multiActivity
        var record = AgreementRecord(agreement: agreement, provider: provider, multiActivity: multi)
        record.agreement.state = .approved
        record.approvedAt = now
        core.agreements[id] = record
        core.agreementOrder.append(id)
        core.scheduleTerminations(id, provider: provider, approvedAt: now)
    }

    /// The provider of an agreement it knows.
    public func provider(ofAgreement id: String) -> Int? { core.agreements[id]?.provider }

    /// Approved agreements that have not ended, in the order they were approved.
    public var openAgreements: [String] { core.agreementOrder.filter { core.agreements[$0]?.agreement.state == .approved } }

    /// The agreement's activities, in the order they were opened.
    public func activities(ofAgreement id: String) -> [String] { core.agreements[id]?.activities ?? [] }

    /// The agreement of an activity it serves.
    public func agreement(ofActivity id: String) -> String? { core.activities[id]?.agreementId }

    /// The requestor asked for an activity: `nil` when it opens, or the failure to report
    /// (the scenario's `fail-activity-creation`).
    public mutating func openActivity(_ id: String, agreementId: String, at now: Date) -> String? {
        guard let agreement = core.agreements[agreementId] else { return "no agreement \(agreementId) with this provider" }
        let provider = agreement.provider
        for case .failActivityCreation(let message, let trigger) in core.faults(provider) where core.strikes(trigger, provider: provider) {
            return message
        }
        guard core.activities[id] == nil else { return nil }
        core.openActivity(id, agreementId: agreementId, at: now)
        return nil
    }

    /// Runs a batch (the exe-unit's `Exec`); its results become visible at their times.
    public mutating func exec(_ batchId: String, _ commands: [ExeScriptCommand], on activityId: String, at now: Date) {
        core.runBatch(batchId, commands, on: activityId, at: now)
    }

    /// Whether the activity has a batch of this id.
    public func hasBatch(_ batchId: String, on activityId: String) -> Bool { core.activities[activityId]?.batches[batchId] != nil }

    /// The answer to a results poll at `now`, as the simulated node gives it: `nil` while it
    /// should keep waiting (`final` false), else the status and body.
    public mutating func results(_ batchId: String, on activityId: String, commandIndex: Int?, at now: Date, final: Bool) -> YagnaResponse? {
        core.execResults(activityId, batchId, commandIndex: commandIndex, now: now, final: final)
    }

    /// The stream frames of a batch visible at `now`, when the next one shows, and whether the stream ends.
    public func frames(_ batchId: String, on activityId: String, from first: Int = 0, at now: Date) -> (frames: [RuntimeEvent], next: Date?, finished: Bool) {
        core.frames(activityId, batchId, from: first, now: now)
    }

    /// When the batch's last result shows (`nil` if it never will).
    public func batchEnd(_ batchId: String, on activityId: String) -> Date? {
        guard let b = core.activities[activityId]?.batches[batchId], !b.stalled else { return nil }
        return b.results.last?.at
    }

    /// When the batch's next result after `now` shows, if one is still to come.
    public func nextResultTime(_ batchId: String, on activityId: String, after now: Date) -> Date? {
        core.activities[activityId]?.batches[batchId]?.results.first { $0.at > now }?.at
    }

    /// The activity's state as the provider reports it.
    public func state(_ activityId: String) -> ActivityState? { core.activities[activityId]?.state }

    /// Whether the activity answers at all (not unresponsive, polls not stopped).
    public func answers(_ activityId: String) -> Bool {
        guard let a = core.activities[activityId] else { return false }
        return a.state != .unresponsive && !a.pollsStopped
    }

    /// The usage counters the exe-unit reports: `[duration_sec, cpu_sec]`.
    public func usage(_ activityId: String, at now: Date) -> [Double] {
        guard let a = core.activities[activityId] else { return [] }
        return core.usageVector(a, at: now)
    }

    /// The requestor destroyed an activity. Without multi-activity the provider then ends the
    /// agreement itself (as a real provider agent does, which also lets the market offer it
    /// again): that termination is the next effect `due` returns.
    public mutating func destroyActivity(_ id: String, at now: Date) {
        let agreementId = core.activities[id]?.agreementId
        let before = agreementId.flatMap { core.agreements[$0]?.agreement.state }
        core.destroyActivity(id, at: now)
        if let agreementId, before == .approved, core.agreements[agreementId]?.agreement.state == .terminated {
            immediate.append(.terminateAgreement(agreementId: agreementId, reason: "Activity destroyed"))
        }
    }

    /// The agreement ended on the real node (terminated by the requestor, or by this provider's
    /// own fault, seen back): its activities stop and its invoice is scheduled.
    public mutating func agreementEnded(_ id: String, reason: String?, byProvider: Bool, at now: Date) {
        guard core.agreements[id] != nil else { return }
        core.terminate(id, by: byProvider ? .provider : .requestor, reason: reason.map { Reason(message: $0) }, at: now)
    }

    /// When the engine next has something to do.
    public var nextDeadline: Date? { immediate.isEmpty ? core.schedule.first?.at : .distantPast }

    /// Applies what is due at `now` and returns what the shell must do on the real node, in time order.
    public mutating func due(until now: Date) -> [Effect] {
        var effects = immediate
        immediate.removeAll()
        while let first = core.schedule.first, first.at <= now {
            core.schedule.removeFirst()
            let statesBefore = core.activities.mapValues(\.state)
            core.apply(first.action, at: first.at)
            switch first.action {
            case .debitNote(let activityId):
                if let noteId = core.activities[activityId]?.lastDebitNote, notesSent[activityId] != noteId, let note = core.debitNotes[noteId]?.note {
                    notesSent[activityId] = noteId
                    let usage = note.usageCounterVector?.arrayValue?.compactMap(\.doubleValue) ?? []
                    effects.append(.debitNote(activityId: activityId, amount: note.totalAmountDue, usage: usage, paymentDue: note.paymentDueDate?.date))
                }
            case .invoice(let agreementId):
                if let invoiceId = core.agreements[agreementId]?.invoiceId, let invoice = core.invoices[invoiceId]?.invoice {
                    effects.append(.invoice(agreementId: agreementId, activityIds: invoice.activityIds ?? [], amount: invoice.amount))
                }
            case .terminateAgreement(let agreementId, let reason):
                if core.agreements[agreementId]?.agreement.state == .terminated {
                    effects.append(.terminateAgreement(agreementId: agreementId, reason: reason))
                }
            default: break
            }
            for (id, state) in core.activities.sorted(by: { $0.key < $1.key }) where statesBefore[id] != state.state {
                effects.append(.activityState(activityId: id, state: state.state))
            }
        }
        return effects
    }
}
