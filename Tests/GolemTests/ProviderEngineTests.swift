import Foundation
import Testing
import YagnaAPI
import YagnaSimulator

/// `ProviderEngine`: the simulated node's providers as `golem-sim provide` plays them behind a
/// real daemon. The daemon's ids come in; results, timings and effects come out; no clock.
@Suite struct ProviderEngineTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func engine(_ yaml: String) throws -> ProviderEngine {
        ProviderEngine(scenario: try Scenario.parse(yaml: yaml), seed: 1, files: InMemoryFileExchange())
    }

    func agreement(_ id: String, platform: Bool = true, negotiated: Properties = [:]) -> Agreement {
        let stamp = WireTimestamp(t0)
        var demand: Properties = negotiated.merging(["golem.srv.caps.multi-activity": true]) { a, _ in a }
        if platform { demand["golem.com.payment.chosen-platform"] = "erc20-holesky-tglm" }
        return Agreement(
            agreementId: id,
            demand: Demand(properties: demand, constraints: "()", demandId: "d", requestorId: "0xr", timestamp: stamp),
            offer: Offer(properties: ["golem.srv.caps.multi-activity": true], constraints: "()", offerId: "o", providerId: "0xp", timestamp: stamp),
            validTo: WireTimestamp(t0.addingTimeInterval(3600)), state: .approved, timestamp: stamp)
    }

    static let commands: [ExeScriptCommand] = [
        .deploy(DeployCommand()), .start(StartCommand()),
        .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "echo hello"], capture: .atEnd)),
    ]

    @Test func aBatchShowsItsResultsAtTheirTimes() throws {
        var e = try engine("""
            name: t
            providers:
              - name: p
                deploy-duration: 2s
                command-duration: 500ms
            """)
        e.agreementApproved(agreement("A"), provider: 0, at: t0)
        let opened = e.openActivity("act", agreementId: "A", at: t0)
        #expect(opened == nil)
        e.exec("b1", Self.commands, on: "act", at: t0)
        #expect(e.hasBatch("b1", on: "act"))
        let early = e.results("b1", on: "act", commandIndex: nil, at: t0.addingTimeInterval(1), final: false)
        #expect(early == nil)
        let end = try #require(e.batchEnd("b1", on: "act"))
        #expect(abs(end.timeIntervalSince(t0) - 2.6) < 0.001)  // deploy 2 s, start 0.1 s, run 0.5 s
        #expect(e.nextResultTime("b1", on: "act", after: t0) == t0.addingTimeInterval(2))
        let polled = e.results("b1", on: "act", commandIndex: nil, at: end, final: false)
        let answer = try #require(polled)
        #expect(answer.status == 200)
        let results = try WireDecoder().decode([ExeScriptCommandResult].self, from: answer.body)
        #expect(results.map(\.result) == [.ok, .ok, .ok] && results.last?.stdout == .text("hello\n") && results.last?.isBatchFinished == true)
        // A poll that runs out before the command it waits for: the daemon's timeout.
        e.exec("b2", [.run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "sleep 30"]))], on: "act", at: end)
        let late = e.results("b2", on: "act", commandIndex: 0, at: end.addingTimeInterval(1), final: true)
        #expect(late?.status == 408)
        #expect(e.state("act") == .ready)
        #expect(e.usage("act", at: t0.addingTimeInterval(10)).first == 10)
    }

    @Test func faultsBecomeEffectsAtTheirTimes() throws {
        var e = try engine("""
            name: t
            providers:
              - name: doomed
                debit-note-interval: 10s
                faults:
                  - terminate-agreement: {at: 25s, reason: "Provider shutting down"}
                  - fail-command: {match: "boom", exit-code: 3, stderr: "no"}
            """)
        e.agreementApproved(agreement("A"), provider: 0, at: t0)
        let opened = e.openActivity("act", agreementId: "A", at: t0)
        #expect(opened == nil)
        e.exec("b", [.run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "boom"], capture: .atEnd))], on: "act", at: t0)
        let polled = e.results("b", on: "act", commandIndex: nil, at: t0.addingTimeInterval(5), final: true)
        let failed = try #require(polled)
        #expect(try WireDecoder().decode([ExeScriptCommandResult].self, from: failed.body).first?.result == .error)
        var effects: [ProviderEngine.Effect] = []
        var now = t0
        while let next = e.nextDeadline, next <= t0.addingTimeInterval(60) {
            now = next
            effects += e.due(until: now)
        }
        let notes = effects.filter { if case .debitNote = $0 { true } else { false } }
        #expect(notes.count == 2)  // at 10 s and 20 s; the agreement ends at 25 s
        if case .debitNote(_, let first, _, _) = notes.first, case .debitNote(_, let second, _, _) = notes.last { #expect(first < second) }
        #expect(effects.contains(.terminateAgreement(agreementId: "A", reason: "Provider shutting down")))
        #expect(effects.contains(.activityState(activityId: "act", state: .terminated)))
        #expect(effects.contains { if case .invoice("A", ["act"], let amount) = $0 { amount > 0 } else { false } })
    }

    /// The agreement's negotiated values win over the provider's own: the debit-note interval
    /// the requestor countered with, and mid-agreement payments (a note is payable, with a due
    /// date, once per payment timeout), as yapapi negotiates them for long expirations.
    @Test func debitNotesFollowTheNegotiatedIntervalAndPaymentTimeout() throws {
        func notes(_ negotiated: Properties) throws -> [(at: TimeInterval, due: TimeInterval?)] {
            var e = try engine("name: t\nproviders:\n  - name: p\n    debit-note-interval: 10s\n")
            e.agreementApproved(agreement("A", negotiated: negotiated), provider: 0, at: t0)
            #expect(e.openActivity("act", agreementId: "A", at: t0) == nil)
            var out: [(TimeInterval, TimeInterval?)] = []
            while let next = e.nextDeadline, next <= t0.addingTimeInterval(200) {
                for case .debitNote(_, _, _, let due) in e.due(until: next) { out.append((next.timeIntervalSince(t0), due?.timeIntervalSince(t0))) }
            }
            return out
        }
        let own = try notes([:])
        #expect(own.count == 20 && own.allSatisfy { $0.due == nil } && own.first?.at == 10)
        let negotiated = try notes(["golem.com.scheme.payu.debit-note.interval-sec?": 30, "golem.com.scheme.payu.payment-timeout-sec?": 90])
        #expect(negotiated.map(\.at) == [30, 60, 90, 120, 150, 180])
        #expect(negotiated.map(\.due) == [nil, nil, 180, nil, nil, 270])
        // Nested properties, as the daemon may send an agreement, are read the same way.
        let nested = try notes(["golem": ["com": ["scheme": ["payu": ["debit-note": ["interval-sec?": 50]]]]]])
        #expect(nested.map(\.at) == [50, 100, 150, 200])
    }

    /// Without multi-activity, the requestor's destroy makes the provider end the agreement on
    /// the real node at once (a real provider agent does; it also frees the market to offer the
    /// provider again), then invoice it.
    @Test func aSingleActivityAgreementEndsWithItsActivity() throws {
        var e = try engine("name: t\nproviders:\n  - name: p\n    multi-activity: false\n")
        var single = agreement("A")
        single.offer.properties["golem.srv.caps.multi-activity"] = false
        e.agreementApproved(single, provider: 0, at: t0)
        #expect(e.openActivity("act", agreementId: "A", at: t0) == nil)
        e.destroyActivity("act", at: t0.addingTimeInterval(3))
        #expect(e.nextDeadline == .distantPast)
        let now = e.due(until: t0.addingTimeInterval(3))
        #expect(now.first == .terminateAgreement(agreementId: "A", reason: "Activity destroyed"))
        let later = e.due(until: t0.addingTimeInterval(10))
        #expect(later.contains { if case .invoice("A", ["act"], _) = $0 { true } else { false } })
        #expect(!later.contains { if case .terminateAgreement = $0 { true } else { false } })
    }

    @Test func invoicesFollowTheRequestorsTerminationUnlessWithheld() throws {
        for (yaml, invoiced) in [("[]", true), ("[{withhold-invoice: {}}]", false)] {
            var e = try engine("name: t\nproviders:\n  - name: p\n    faults: \(yaml)\n")
            e.agreementApproved(agreement("A"), provider: 0, at: t0)
            _ = e.openActivity("act", agreementId: "A", at: t0)
            e.destroyActivity("act", at: t0.addingTimeInterval(3))
            e.agreementEnded("A", reason: "done", byProvider: false, at: t0.addingTimeInterval(4))
            let effects = e.due(until: t0.addingTimeInterval(10))
            #expect(effects.contains { if case .invoice = $0 { true } else { false } } == invoiced, "\(yaml)")
        }
        // Without a payment platform on the requestor's side the daemon refuses invoices: none is made.
        var e = try engine("name: t\nproviders:\n  - name: p\n")
        e.agreementApproved(agreement("A", platform: false), provider: 0, at: t0)
        e.agreementEnded("A", reason: "done", byProvider: false, at: t0)
        let effects = e.due(until: t0.addingTimeInterval(10))
        #expect(!effects.contains { if case .invoice = $0 { true } else { false } })
    }

    @Test func negotiationFaultsAnswerWithTheirReasons() throws {
        var e = try engine("""
            name: t
            providers:
              - name: picky
                offer-delay: 300ms
                faults:
                  - reject-proposal: {reason: "too cheap"}
              - name: fussy
                faults:
                  - reject-agreement: {reason: "busy"}
              - name: activityless
                faults:
                  - fail-activity-creation: {message: "no room"}
            """)
        let refusals = (e.proposalRefusal(0), e.proposalRefusal(1), e.agreementRefusal(1), e.agreementRefusal(0))
        #expect(refusals.0 == "too cheap" && refusals.1 == nil && refusals.2 == "busy" && refusals.3 == nil)
        #expect(e.firstCounterDelay(0) == .milliseconds(350))
        e.agreementApproved(agreement("A"), provider: 2, at: t0)
        let refused = e.openActivity("act", agreementId: "A", at: t0)
        let unknown = e.openActivity("act2", agreementId: "unknown", at: t0)
        #expect(refused == "no room" && unknown != nil)
        // The counter echoes the requestor's negotiated keys over the provider's offer.
        let counter = e.counterProperties(0, nodeId: "0xabc", requestor: ["golem.com.payment.debit-notes.accept-timeout?": 120, "golem.x": 1])
        #expect(counter["golem.com.payment.debit-notes.accept-timeout?"] == 120 && counter["golem.x"] == nil)
        #expect(counter["golem.com.payment.platform.erc20-holesky-tglm.address"] == "0xabc")
    }
}
