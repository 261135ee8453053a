import YagnaAPI
import GolemTime
import Foundation

/// A provider's Draft proposal, ready for an agreement.
struct Draft: Sendable {
    var proposal: Proposal
    var score: Double
    var name: String { proposal.properties["golem.node.id.name"]?.stringValue ?? proposal.issuerId }
}

/// Drafts waiting for an agreement, one per provider, best score first; workers take them.
actor OfferPool {
    var drafts: [Draft] = []
    var context = MarketContext()
    var closed = false
    var busy: Set<String> = []

    func add(_ draft: Draft) {
        guard !closed, !context.failedProviders.contains(draft.proposal.issuerId) else { return }
        drafts.removeAll { $0.proposal.issuerId == draft.proposal.issuerId }
        drafts.append(draft)
        drafts.sort { ($0.score, $1.proposal.issuerId) > ($1.score, $0.proposal.issuerId) }
        changes.notify()
    }

    /// Moves when a draft comes, a provider is released or the pool closes.
    nonisolated let changes = ChangeSignal()

    /// The best draft of a provider not already in use, waiting for one if needed (woken by
    /// `add`, `release` and `close`, not polled); `nil` once closed or when the waiting task is
    /// cancelled.
    func take() async -> Draft? {
        while !closed && !Task.isCancelled {
            if let i = drafts.firstIndex(where: { !busy.contains($0.proposal.issuerId) }) {
                let d = drafts.remove(at: i)
                busy.insert(d.proposal.issuerId)
                return d
            }
            await changes.changed(after: changes.generation)
        }
        return nil
    }

    func release(_ providerId: String, failed: Bool) {
        busy.remove(providerId)
        if failed {
            context.failedProviders.insert(providerId)
            drafts.removeAll { $0.proposal.issuerId == providerId }
        } else {
            context.confirmedProviders.insert(providerId)
        }
        changes.notify()
    }

    func close() {
        closed = true
        changes.notify()
    }

    /// Marks a provider in use by an agreement that did not come from this pool (a reused one).
    func reserve(_ providerId: String) {
        busy.insert(providerId)
        drafts.removeAll { $0.proposal.issuerId == providerId }
    }
}

extension Golem {
    /// Collects offers for a subscription until cancelled or the pool closes: scores each Initial
    /// offer and counters or rejects it; Drafts go to the pool. Re-subscribes when the
    /// subscription disappears.
    ///
    /// A provider that rejects a counter-proposal for want of capacity while an agreement of an
    /// earlier job, parked for reuse, holds it: that agreement is ended (a job with payload
    /// `reusable` would take it up itself and it is kept), and the provider, free again, offers
    /// anew.
    func negotiate(payload: VMPayload, expiration: Duration, pool: OfferPool, reusable: String? = nil) async throws {
        var (subscription, demand) = try await subscribe(payload, expiration: expiration)
        // The demand expires after `expiration`: the lifecycle subscribes it again before that,
        // so a job that outlives it keeps receiving offers (and on a 404, at once).
        var lifecycle = DemandLifecycle(expiration: expiration, subscribedAt: clock.now)
        let policy = ProposalPolicy(strategy: configuration.strategy, paymentPlatform: configuration.paymentPlatform)
        // Our counter-proposals' providers, to know whom a rejection comes from.
        var countered: [String: String] = [:]
        loop: while !Task.isCancelled {
            if lifecycle.beforePoll(now: clock.now) == .resubscribe {
                (subscription, demand) = try await resubscribe(subscription, payload, expiration: expiration)
                lifecycle.onSubscribed(now: clock.now)
            }
            let events: [MarketEvent]
            do {
                events = try await yagna.market.events(subscription, timeout: .seconds(5), maxEvents: 10)
            } catch {
                switch lifecycle.onPollFailed(error) {
                case .resubscribe:
                    (subscription, demand) = try await resubscribe(subscription, payload, expiration: expiration)
                    lifecycle.onSubscribed(now: clock.now)
                case .pause(let pause): try await clock.sleep(for: pause)
                case .stop: break loop
                case .poll: break
                case .fail: throw error
                }
                continue
            }
            // A closed pool takes no more drafts: the job is ending, and a provider the market
            // offers again as its agreement ends is not countered (nor is anything after it).
            let closed = await pool.closed
            if !closed {
                for event in events {
                    switch event {
                    case .proposal(_, let proposal):
                        let decision = policy.decide(proposal, context: await pool.context)
                        if let counter = try await answer(proposal, decision, subscription: subscription, demand: demand, pool: pool) {
                            if countered.count >= 4096 { countered.removeAll() }
                            countered[counter] = proposal.issuerId
                        }
                    case .proposalRejected(_, let proposalId, let reason):
                        guard let provider = countered.removeValue(forKey: proposalId),
                            reason?.message?.hasPrefix("No capacity available") == true,
                            let stale = takeParked(provider: provider, unless: reusable)
                        else { continue }
                        await clock.shielded(limit: configuration.cleanupLimit) {
                            await self.endAgreement(stale.id, provider: stale.draft.name, success: true)
                        }
                    case .other: continue
                    }
                }
            }
            switch lifecycle.onPolled(eventCount: events.count, poolClosed: closed) {
            case .stop: break loop
            case .pause(let pause): try? await clock.sleep(for: pause)
            default: break
            }
        }
        await unsubscribe(subscription)
    }

    /// Ends a subscription and makes the demand anew.
    private func resubscribe(_ old: String, _ payload: VMPayload, expiration: Duration) async throws -> (String, DemandBody) {
        await unsubscribe(old)
        return try await subscribe(payload, expiration: expiration)
    }

    /// Carries out the policy's decision on one proposal; the counter-proposal's id, if one went out.
    private func answer(
        _ proposal: Proposal, _ decision: ProposalPolicy.Decision, subscription: String, demand: DemandBody, pool: OfferPool
    ) async throws -> String? {
        let name = proposal.properties["golem.node.id.name"]?.stringValue ?? proposal.issuerId
        switch decision {
        case .counter, .rejectReceived: emit(.proposalReceived(provider: name, proposalId: proposal.proposalId))
        default: break
        }
        switch decision {
        case .reject(let reason), .rejectReceived(let reason):
            emit(.proposalRejected(provider: name, reason: reason))
            try? await yagna.market.rejectProposal(subscription, proposalId: proposal.proposalId, reason: Reason(message: reason))
        case .counter(let extra):
            var counter = demand
            for (k, v) in extra { counter.properties[k] = v }
            if let id = try? await yagna.market.counter(subscription, proposalId: proposal.proposalId, with: counter) {
                emit(.proposalResponded(provider: name, proposalId: id))
                return id
            }
        case .take(let score):
            await pool.add(Draft(proposal: proposal, score: score))
        case .ignore:
            break
        }
        return nil
    }

    /// Makes an agreement from a draft: create, confirm, wait for approval (`AgreementAttempt`
    /// decides each step; this only performs them).
    func agree(_ draft: Draft) async throws -> String {
        var attempt = AgreementAttempt()
        let validTo = WireTimestamp(clock.now.addingTimeInterval(3600))
        let id = try await yagna.market.createAgreement(AgreementProposal(proposalId: draft.proposal.proposalId, validTo: validTo))
        emit(.agreementCreated(provider: draft.name, agreementId: id))
        var action = attempt.onCreated()
        while true {
            do {
                switch action {
                case .fetchAndConfirm:
                    _ = try await yagna.market.agreement(id)
                    try await yagna.market.confirmAgreement(id)
                    action = attempt.onConfirmed()
                case .waitForApproval(let timeout):
                    try await yagna.market.waitForApproval(id, timeout: timeout)
                    action = attempt.onApproved()
                case .register:
                    register(
                        agreement: id, provider: draft.name, providerId: draft.proposal.issuerId,
                        debitNoteInterval: draft.proposal.properties["golem.com.scheme.payu.debit-note.interval-sec?"]?.doubleValue)
                    emit(.agreementConfirmed(provider: draft.name, agreementId: id))
                    return id
                case .reportRejection, .cancel, .giveUp:
                    preconditionFailure("handled where the failure is")
                }
            } catch {
                let next = attempt.onFailure(error, cancelled: Task.isCancelled)
                switch next {
                case .reportRejection(let reason):
                    emit(.agreementRejected(provider: draft.name, agreementId: id, reason: reason))
                    throw error
                case .cancel(let reason):
                    // Pending on the daemon: cancel it, shielded from the cancellation that may
                    // have caused this, so that it does not stay open.
                    let yagna = self.yagna
                    await clock.shielded(limit: .seconds(15)) {
                        try? await yagna.market.cancelAgreement(id, reason: Reason(message: "Cancelled by the requestor: \(reason)"))
                    }
                    emit(.agreementCancelled(provider: draft.name, agreementId: id, reason: reason))
                    throw error
                case .giveUp:
                    throw error
                default:
                    action = next
                }
            }
        }
    }

    /// Ends an agreement from the requestor's side (tolerating one the provider already ended).
    func endAgreement(_ id: String, provider: String, success: Bool) async {
        // Ended, or being ended, by this side (a refused debit note): once is enough.
        guard payments.claimTermination(id) else { return }
        let reason = success
            ? Reason(message: "Successfully finished all work", extra: ["golem.requestor.code": "Success"])
            : Reason(message: "Work cancelled", extra: ["golem.requestor.code": "Cancelled"])
        do {
            try await yagna.market.terminateAgreement(id, reason: reason)
            emit(.agreementTerminated(provider: provider, agreementId: id, byProvider: false, reason: reason.message ?? ""))
        } catch {
            if let event = try? await yagna.market.terminationReason(id) {
                emit(.agreementTerminated(provider: provider, agreementId: id, byProvider: event.terminator == .provider, reason: event.reason?.message ?? ""))
            }
        }
        markTerminated(id)
    }
}
