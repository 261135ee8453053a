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
    func negotiate(payload: VMPayload, expiration: Duration, pool: OfferPool) async throws {
        var (subscription, demand) = try await subscribe(payload, expiration: expiration)
        // The demand expires after `expiration`: subscribe it again before that, so a job that
        // outlives it keeps receiving offers (and on a 404, at once).
        let renewal = expiration * 0.9
        var renewAt = clock.now.adding(renewal)
        while !Task.isCancelled {
            if clock.now >= renewAt {
                await unsubscribe(subscription)
                (subscription, demand) = try await subscribe(payload, expiration: expiration)
                renewAt = clock.now.adding(renewal)
            }
            let events: [MarketEvent]
            do {
                events = try await yagna.market.events(subscription, timeout: .seconds(5), maxEvents: 10)
            } catch let e as YagnaError where e.code == .notFound {
                await unsubscribe(subscription)
                (subscription, demand) = try await subscribe(payload, expiration: expiration)
                renewAt = clock.now.adding(renewal)
                continue
            } catch is CancellationError {
                break
            } catch let e as YagnaError where e.isIntermittent || e.code == .serverError {
                try await clock.sleep(for: .seconds(1))
                continue
            }
            // A closed pool takes no more drafts: the job is ending, and a provider the market
            // offers again as its agreement ends is not countered (nor is anything after it).
            if await pool.closed { break }
            for event in events {
                guard case .proposal(_, let proposal) = event else { continue }
                let name = proposal.properties["golem.node.id.name"]?.stringValue ?? proposal.issuerId
                let context = await pool.context
                switch configuration.strategy.score(proposal, context: context) {
                case .failure(let rejection):
                    emit(.proposalRejected(provider: name, reason: rejection.reason))
                    try? await yagna.market.rejectProposal(subscription, proposalId: proposal.proposalId, reason: Reason(message: rejection.reason))
                case .success(let score):
                    if proposal.state == .initial {
                        emit(.proposalReceived(provider: name, proposalId: proposal.proposalId))
                        guard proposal.properties["golem.com.payment.platform.\(configuration.paymentPlatform).address"] != nil else {
                            emit(.proposalRejected(provider: name, reason: "No common payment platform"))
                            try? await yagna.market.rejectProposal(subscription, proposalId: proposal.proposalId, reason: Reason(message: "No common payment platform"))
                            continue
                        }
                        var counter = demand
                        counter.properties["golem.com.payment.chosen-platform"] = .string(configuration.paymentPlatform)
                        if let timeout = proposal.properties["golem.com.payment.debit-notes.accept-timeout?"] {
                            counter.properties["golem.com.payment.debit-notes.accept-timeout?"] = timeout
                        }
                        if let id = try? await yagna.market.counter(subscription, proposalId: proposal.proposalId, with: counter) {
                            emit(.proposalResponded(provider: name, proposalId: id))
                        }
                    } else if proposal.state == .draft {
                        await pool.add(Draft(proposal: proposal, score: score))
                    }
                }
            }
            if events.isEmpty { try? await clock.sleep(for: .seconds(1)) }
        }
        await unsubscribe(subscription)
    }

    /// Makes an agreement from a draft: create, confirm, wait for approval.
    func agree(_ draft: Draft) async throws -> String {
        let validTo = WireTimestamp(clock.now.addingTimeInterval(3600))
        let id = try await yagna.market.createAgreement(AgreementProposal(proposalId: draft.proposal.proposalId, validTo: validTo))
        emit(.agreementCreated(provider: draft.name, agreementId: id))
        do {
            _ = try await yagna.market.agreement(id)
            try await yagna.market.confirmAgreement(id)
            var attempts = 0
            while true {
                do {
                    try await yagna.market.waitForApproval(id, timeout: .seconds(15))
                    break
                } catch let e as YagnaError where e.code == .timeout && attempts < 3 && !Task.isCancelled {
                    attempts += 1
                }
            }
        } catch {
            // Refused by the provider: nothing to undo. Anything else (approval timed out, the
            // connection failed, this worker was cancelled) leaves an agreement pending: cancel
            // it, shielded from the cancellation, so that it does not stay open on the daemon.
            if let e = error as? YagnaError, e.code == .gone {
                emit(.agreementRejected(provider: draft.name, agreementId: id, reason: e.message ?? e.code.description))
            } else {
                let reason = Task.isCancelled ? "the job was cancelled" : "\(error)"
                let yagna = self.yagna
                await clock.shielded(limit: .seconds(15)) {
                    try? await yagna.market.cancelAgreement(id, reason: Reason(message: "Cancelled by the requestor: \(reason)"))
                }
                emit(.agreementCancelled(provider: draft.name, agreementId: id, reason: reason))
            }
            throw error
        }
        register(
            agreement: id, provider: draft.name, providerId: draft.proposal.issuerId,
            debitNoteInterval: draft.proposal.properties["golem.com.scheme.payu.debit-note.interval-sec?"]?.doubleValue)
        emit(.agreementConfirmed(provider: draft.name, agreementId: id))
        return id
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
