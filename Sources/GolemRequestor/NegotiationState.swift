import Foundation
import GolemTime
import YagnaAPI

/// What the requestor does with one proposal from the market, decided without I/O: the
/// strategy's verdict, the payment platform, the proposal's state.
struct ProposalPolicy: Sendable {
    var strategy: any MarketStrategy
    var paymentPlatform: String

    enum Decision: Sendable, Equatable {
        /// Reject it with this reason (the strategy's).
        case reject(String)
        /// An Initial proposal the strategy accepts, refused on the payment platform: it is
        /// received, then rejected with this reason.
        case rejectReceived(String)
        /// Counter the provider's Initial proposal with the demand, the platform chosen and the
        /// provider's debit-note acceptance timeout agreed (when it offers one).
        case counter(extraProperties: [String: JSONValue])
        /// A Draft, ready for an agreement, with its score.
        case take(score: Double)
        /// Nothing to do (a proposal in a state the requestor does not answer).
        case ignore
    }

    func decide(_ proposal: Proposal, context: MarketContext) -> Decision {
        let score: Double
        switch strategy.score(proposal, context: context) {
        case .failure(let rejection): return .reject(rejection.reason)
        case .success(let s): score = s
        }
        switch proposal.state {
        case .initial:
            guard proposal.properties["golem.com.payment.platform.\(paymentPlatform).address"] != nil else {
                return .rejectReceived("No common payment platform")
            }
            var extra: [String: JSONValue] = ["golem.com.payment.chosen-platform": .string(paymentPlatform)]
            if let timeout = proposal.properties["golem.com.payment.debit-notes.accept-timeout?"] {
                extra["golem.com.payment.debit-notes.accept-timeout?"] = timeout
            }
            return .counter(extraProperties: extra)
        case .draft: return .take(score: score)
        default: return .ignore
        }
    }
}

/// A demand subscription's life, without I/O: when to subscribe again (before it expires, or
/// at once when the market no longer knows it), how to treat a failed event poll, and when to
/// pause between polls.
struct DemandLifecycle: Sendable {
    /// Renew at 90 % of the demand's expiration.
    let renewal: Duration
    private(set) var renewAt: Date

    enum Action: Sendable, Equatable {
        /// Unsubscribe and subscribe the demand again.
        case resubscribe
        /// Wait this long, then poll again.
        case pause(Duration)
        /// Poll again at once.
        case poll
        /// Stop negotiating (the job is ending).
        case stop
        /// The error ends negotiation.
        case fail
    }

    init(expiration: Duration, subscribedAt now: Date) {
        renewal = expiration * 0.9
        renewAt = now.adding(renewal)
    }

    /// Before each poll: renew when due.
    func beforePoll(now: Date) -> Action { now >= renewAt ? .resubscribe : .poll }

    mutating func onSubscribed(now: Date) { renewAt = now.adding(renewal) }

    /// A poll failed: a subscription the market forgot is made again; intermittent and server
    /// errors are retried after a second; a cancelled poll stops; anything else fails.
    func onPollFailed(_ error: any Error) -> Action {
        if error is CancellationError { return .stop }
        guard let e = error as? YagnaError else { return .fail }
        if e.code == .notFound { return .resubscribe }
        if e.isIntermittent || e.code == .serverError { return .pause(.seconds(1)) }
        return .fail
    }

    /// A poll answered: a closed pool stops; an empty answer waits a second (some daemons
    /// answer at once); otherwise poll again.
    func onPolled(eventCount: Int, poolClosed: Bool) -> Action {
        if poolClosed { return .stop }
        return eventCount == 0 ? .pause(.seconds(1)) : .poll
    }
}

/// One agreement from a Draft to approval, without I/O: create → confirm → wait for approval
/// (a 408 from the wait is retried up to `maxApprovalTimeouts` times); a refusal (410) ends it
/// as rejected, anything else that goes wrong cancels it so that it does not stay pending.
struct AgreementAttempt: Sendable, Equatable {
    enum Phase: Sendable, Equatable {
        case creating, created, confirmed, approved
        case rejected(String)
        case cancelled(String)
    }

    enum Action: Sendable, Equatable {
        case fetchAndConfirm
        case waitForApproval(Duration)
        case register
        /// The provider refused: nothing to undo, report it.
        case reportRejection(String)
        /// Cancel the pending agreement (shielded from the cancellation that may have caused it).
        case cancel(String)
        /// Creation failed: no agreement exists.
        case giveUp
    }

    var maxApprovalTimeouts = 3
    var approvalWait: Duration = .seconds(15)
    private(set) var phase: Phase = .creating
    private(set) var approvalTimeouts = 0

    mutating func onCreated() -> Action {
        phase = .created
        return .fetchAndConfirm
    }

    mutating func onConfirmed() -> Action {
        phase = .confirmed
        return .waitForApproval(approvalWait)
    }

    mutating func onApproved() -> Action {
        phase = .approved
        return .register
    }

    /// A step failed with `error`; `cancelled` says whether the worker's task was cancelled.
    mutating func onFailure(_ error: any Error, cancelled: Bool) -> Action {
        if phase == .creating { return .giveUp }
        let yagna = error as? YagnaError
        if phase == .confirmed, yagna?.code == .timeout, !cancelled, approvalTimeouts < maxApprovalTimeouts {
            approvalTimeouts += 1
            return .waitForApproval(approvalWait)
        }
        if let yagna, yagna.code == .gone {
            let reason = yagna.message ?? yagna.code.description
            phase = .rejected(reason)
            return .reportRejection(reason)
        }
        let reason = cancelled ? "the job was cancelled" : "\(error)"
        phase = .cancelled(reason)
        return .cancel(reason)
    }
}

/// After an activity's work: keep the agreement for the next job (a multi-activity agreement
/// whose provider did not fail, in a job that neither failed nor was cancelled — yapapi's
/// agreements pool) or end it, successfully when nothing failed and nothing was cancelled.
enum AgreementAfterWork: Sendable, Equatable {
    case park
    case end(success: Bool)

    static func decide(providerFailed: Bool, cancelled: Bool, jobFailed: Bool, multiActivity: Bool) -> AgreementAfterWork {
        if !providerFailed, !cancelled, !jobFailed, multiActivity { return .park }
        return .end(success: !providerFailed && !cancelled)
    }
}

/// Reading one batch's results by polling, without I/O, as yapapi does: 5 s long polls; a 408
/// polls again; GSB errors (500) are retried three times and intermittent ones five, a second
/// apart; anything else ends it (after a look at whether the activity was terminated); the batch
/// is done at its last command or its first error.
struct BatchPoll: Sendable {
    let count: Int
    let deadline: Date?
    let pollTimeout: Duration = .seconds(5)
    private(set) var gsbFailures = 0
    private(set) var transportFailures = 0

    enum Action: Sendable, Equatable {
        case poll
        case pause(Duration)
        case done
        case timedOut
        /// Not retried: fail, naming the activity's termination if that is what happened.
        case fail
    }

    init(count: Int, deadline: Date?) {
        self.count = count
        self.deadline = deadline
    }

    func beforePoll(now: Date) -> Action {
        if let deadline, now >= deadline { return .timedOut }
        return .poll
    }

    func onResults(_ results: [ExeScriptCommandResult]) -> Action {
        if results.contains(where: { $0.result == .error }) || results.contains(where: { $0.index == count - 1 && $0.isBatchFinished }) { return .done }
        if results.count >= count { return .done }
        // Nothing new yet: the daemon answered at once (timeout 0 semantics on some nodes).
        return results.isEmpty ? .pause(.milliseconds(500)) : .poll
    }

    mutating func onError(_ error: YagnaError) -> Action {
        if error.code == .timeout { return .poll }
        if error.code == .serverError && gsbFailures < 3 {
            gsbFailures += 1
            return .pause(.seconds(1))
        }
        if error.isIntermittent && transportFailures < 5 {
            transportFailures += 1
            return .pause(.seconds(1))
        }
        return .fail
    }
}
