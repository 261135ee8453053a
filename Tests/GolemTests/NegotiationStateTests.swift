import Foundation
@testable import GolemRequestor
import Testing
import YagnaAPI

/// The requestor's negotiation as sans-I/O pieces: what it answers to each proposal, when it
/// subscribes its demand again, and an agreement's steps from a Draft to approval. No node, no
/// clock: times are given.
@Suite struct NegotiationStateTests {
    static let epoch = Date(timeIntervalSince1970: 1_800_000_000)

    func proposal(_ state: ProposalState, platform: String? = "erc20-holesky-tglm", perSecond: Double = 0.0001, acceptTimeout: Int? = nil) -> Proposal {
        var properties: Properties = [
            "golem.com.scheme": "payu", "golem.com.pricing.model": "linear",
            "golem.com.usage.vector": ["golem.usage.duration_sec", "golem.usage.cpu_sec"],
            "golem.com.pricing.model.linear.coeffs": .array([.double(perSecond), .double(0.0002), .double(0)]),
        ]
        if let platform { properties["golem.com.payment.platform.\(platform).address"] = "0xabc" }
        if let acceptTimeout { properties["golem.com.payment.debit-notes.accept-timeout?"] = .int(acceptTimeout) }
        return Proposal(properties: properties, constraints: "()", proposalId: "p1", issuerId: "0xprov", state: state, timestamp: WireTimestamp(Self.epoch))
    }

    let policy = ProposalPolicy(strategy: LeastExpensiveLinear(), paymentPlatform: "erc20-holesky-tglm")

    @Test func initialOffersAreCounteredWithThePlatformAndTheProvidersAcceptTimeout() {
        #expect(policy.decide(proposal(.initial), context: MarketContext()) == .counter(extraProperties: ["golem.com.payment.chosen-platform": "erc20-holesky-tglm"]))
        #expect(policy.decide(proposal(.initial, acceptTimeout: 240), context: MarketContext()) == .counter(extraProperties: [
            "golem.com.payment.chosen-platform": "erc20-holesky-tglm", "golem.com.payment.debit-notes.accept-timeout?": 240,
        ]))
    }

    @Test func draftsAreTakenWithTheirScoreAndOthersIgnored() throws {
        guard case .take(let cheap) = policy.decide(proposal(.draft), context: MarketContext()),
            case .take(let dear) = policy.decide(proposal(.draft, perSecond: 0.001), context: MarketContext())
        else { Issue.record("drafts not taken"); return }
        #expect(cheap > dear)
        for state in [ProposalState.rejected, .accepted, .expired] {
            #expect(policy.decide(proposal(state), context: MarketContext()) == .ignore)
        }
    }

    @Test func refusalsNameTheirReason() {
        // Over the strategy's caps: rejected on its terms, whatever the state.
        guard case .reject(let reason) = policy.decide(proposal(.initial, perSecond: 0.5), context: MarketContext()) else {
            Issue.record("an offer over the caps was not rejected"); return
        }
        #expect(!reason.isEmpty)
        // No address on the requestor's platform: received, then rejected.
        #expect(policy.decide(proposal(.initial, platform: "polygon-glm"), context: MarketContext()) == .rejectReceived("No common payment platform"))
        // A provider that failed earlier in the job, under AvoidFailedProviders.
        var context = MarketContext()
        context.failedProviders = ["0xprov"]
        let avoiding = ProposalPolicy(strategy: AvoidFailedProviders(LeastExpensiveLinear()), paymentPlatform: "erc20-holesky-tglm")
        guard case .reject = avoiding.decide(proposal(.initial), context: context) else { Issue.record("a failed provider was not avoided"); return }
    }

    func error(_ code: YagnaError.Code) -> YagnaError {
        YagnaError(code: code, operation: "market.collectDemandEvents", method: .GET, path: "/demands/x/events", status: nil, message: "m")
    }

    @Test func theDemandIsRenewedBeforeItExpiresAndWhenTheMarketForgetsIt() {
        var lifecycle = DemandLifecycle(expiration: .seconds(100), subscribedAt: Self.epoch)
        #expect(lifecycle.beforePoll(now: Self.epoch.addingTimeInterval(89.9)) == .poll)
        #expect(lifecycle.beforePoll(now: Self.epoch.addingTimeInterval(90)) == .resubscribe)
        lifecycle.onSubscribed(now: Self.epoch.addingTimeInterval(90))
        #expect(lifecycle.beforePoll(now: Self.epoch.addingTimeInterval(179)) == .poll)
        #expect(lifecycle.beforePoll(now: Self.epoch.addingTimeInterval(180)) == .resubscribe)
        #expect(lifecycle.onPollFailed(error(.notFound)) == .resubscribe)
    }

    @Test func failedPollsAreRetriedStoppedOrFatal() {
        let lifecycle = DemandLifecycle(expiration: .seconds(100), subscribedAt: Self.epoch)
        for code in [YagnaError.Code.timeout, .gatewayTimeout, .clientTimeout, .transport, .serverError] {
            #expect(lifecycle.onPollFailed(error(code)) == .pause(.seconds(1)), "\(code)")
        }
        #expect(lifecycle.onPollFailed(CancellationError()) == .stop)
        #expect(lifecycle.onPollFailed(error(.unauthorized)) == .fail)
        #expect(lifecycle.onPollFailed(error(.badRequest)) == .fail)
        // Answers: nothing → a pause (some daemons answer at once); events → poll on; closed → stop.
        #expect(lifecycle.onPolled(eventCount: 0, poolClosed: false) == .pause(.seconds(1)))
        #expect(lifecycle.onPolled(eventCount: 3, poolClosed: false) == .poll)
        #expect(lifecycle.onPolled(eventCount: 3, poolClosed: true) == .stop)
    }

    @Test func anAgreementIsConfirmedThenApprovedThenRegistered() {
        var attempt = AgreementAttempt()
        #expect(attempt.onCreated() == .fetchAndConfirm)
        #expect(attempt.onConfirmed() == .waitForApproval(.seconds(15)))
        #expect(attempt.onApproved() == .register)
        #expect(attempt.phase == .approved)
    }

    @Test func approvalTimeoutsAreRetriedThenTheAgreementIsCancelled() {
        var attempt = AgreementAttempt()
        _ = attempt.onCreated()
        _ = attempt.onConfirmed()
        for _ in 0..<3 { #expect(attempt.onFailure(error(.timeout), cancelled: false) == .waitForApproval(.seconds(15))) }
        guard case .cancel = attempt.onFailure(error(.timeout), cancelled: false) else { Issue.record("a fourth timeout did not cancel"); return }
        #expect(attempt.approvalTimeouts == 3)
        guard case .cancelled = attempt.phase else { Issue.record("not cancelled: \(attempt.phase)"); return }
    }

    @Test func aRefusalIsReportedAndAnythingElseCancels() {
        var refused = AgreementAttempt()
        _ = refused.onCreated()
        _ = refused.onConfirmed()
        #expect(refused.onFailure(error(.gone), cancelled: false) == .reportRejection("m"))
        #expect(refused.phase == .rejected("m"))

        // A dropped connection while confirming: cancelled with the error as the reason.
        var dropped = AgreementAttempt()
        _ = dropped.onCreated()
        guard case .cancel(let reason) = dropped.onFailure(error(.transport), cancelled: false) else { Issue.record("not cancelled"); return }
        #expect(reason.contains("market.collectDemandEvents"))
        // The worker cancelled while waiting: a timeout is not retried, the agreement is cancelled.
        var cancelled = AgreementAttempt()
        _ = cancelled.onCreated()
        _ = cancelled.onConfirmed()
        #expect(cancelled.onFailure(error(.timeout), cancelled: true) == .cancel("the job was cancelled"))
        // Creation itself failed: there is nothing to cancel.
        var never = AgreementAttempt()
        #expect(never.onFailure(error(.transport), cancelled: false) == .giveUp)
    }
}

/// Reading a batch by polling, and what becomes of an agreement after its activity's work,
/// decided without a node or a clock.
@Suite struct BatchPollTests {
    static let epoch = Date(timeIntervalSince1970: 1_800_000_000)

    func result(_ index: Int, _ kind: CommandResultKind = .ok, finished: Bool = false) -> ExeScriptCommandResult {
        ExeScriptCommandResult(index: index, eventDate: WireTimestamp(Self.epoch), result: kind, stdout: nil, stderr: nil, message: nil, isBatchFinished: finished)
    }

    func error(_ code: YagnaError.Code) -> YagnaError {
        YagnaError(code: code, operation: "activity.getExecBatchResults", method: .GET, path: "/activity/a/exec/b", status: nil, message: nil)
    }

    @Test func theBatchIsDoneAtItsLastCommandOrItsFirstError() {
        let poll = BatchPoll(count: 3, deadline: nil)
        #expect(poll.onResults([]) == .pause(.milliseconds(500)))
        #expect(poll.onResults([result(0)]) == .poll)
        #expect(poll.onResults([result(0), result(1), result(2, finished: true)]) == .done)
        #expect(poll.onResults([result(0), result(1, .error, finished: true)]) == .done)
        #expect(poll.onResults([result(0), result(1), result(2)]) == .done)
    }

    @Test func theDeadlineEndsThePolling() {
        let poll = BatchPoll(count: 1, deadline: Self.epoch.addingTimeInterval(30))
        #expect(poll.beforePoll(now: Self.epoch.addingTimeInterval(29.999)) == .poll)
        #expect(poll.beforePoll(now: Self.epoch.addingTimeInterval(30)) == .timedOut)
        #expect(BatchPoll(count: 1, deadline: nil).beforePoll(now: .distantFuture) == .poll)
    }

    @Test func failuresAreRetriedWithinTheirBudgets() {
        var poll = BatchPoll(count: 1, deadline: nil)
        // A 408 is the long poll running out: poll again, as often as it comes.
        for _ in 0..<10 { #expect(poll.onError(error(.timeout)) == .poll) }
        // GSB errors: three retries a second apart, then it fails.
        for _ in 0..<3 { #expect(poll.onError(error(.serverError)) == .pause(.seconds(1))) }
        // …and intermittent ones have a budget of their own (five); a GSB error past its budget
        // counts as intermittent no more.
        for _ in 0..<5 { #expect(poll.onError(error(.transport)) == .pause(.seconds(1))) }
        #expect(poll.onError(error(.gatewayTimeout)) == .fail)
        #expect(poll.onError(error(.serverError)) == .fail)
        #expect(poll.gsbFailures == 3 && poll.transportFailures == 5)
        var fresh = BatchPoll(count: 1, deadline: nil)
        for code in [YagnaError.Code.notFound, .gone, .badRequest, .unauthorized, .forbidden] { #expect(fresh.onError(error(code)) == .fail, "\(code)") }
    }

    @Test func anAgreementIsKeptOnlyWhenEverythingWentWellAndItAllowsMoreActivities() {
        #expect(AgreementAfterWork.decide(providerFailed: false, cancelled: false, jobFailed: false, multiActivity: true) == .park)
        #expect(AgreementAfterWork.decide(providerFailed: false, cancelled: false, jobFailed: false, multiActivity: false) == .end(success: true))
        #expect(AgreementAfterWork.decide(providerFailed: false, cancelled: false, jobFailed: true, multiActivity: true) == .end(success: true))
        #expect(AgreementAfterWork.decide(providerFailed: true, cancelled: false, jobFailed: false, multiActivity: true) == .end(success: false))
        #expect(AgreementAfterWork.decide(providerFailed: false, cancelled: true, jobFailed: false, multiActivity: true) == .end(success: false))
    }
}
