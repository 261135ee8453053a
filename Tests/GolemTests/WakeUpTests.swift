import Foundation
import GolemTesting
import GolemTime
import Synchronization
import Testing
import YagnaAPI
@testable import YagnaSimulator

/// Waiting without a task per wait: clock timers, `ChangeSignal.wait` and the node's parked long
/// polls, which only the changes that answer them wake.
@Suite struct WakeUpTests {
    final class Box<T: Sendable>: Sendable {
        let m: Mutex<T>
        init(_ v: T) { m = Mutex(v) }
        var value: T { m.withLock { $0 } }
        func update(_ f: (inout T) -> Void) { m.withLock { f(&$0) } }
    }

    /// A simulation timer runs its action at its deadline; a cancelled one never runs, and many
    /// cancelled timers neither run nor move the clock.
    @Test func virtualTimersRunAtTheirDeadlineUnlessCancelled() async throws {
        let simulation = Simulation()
        let log = Box<[String]>([])
        let elapsed = try await simulation.runDetached { clock in
            let t0 = clock.now
            let mark: @Sendable (String) -> Void = { name in log.update { $0.append("\(name) at \(Int(clock.now.timeIntervalSince(t0)))") } }
            _ = clock.schedule(at: t0.addingTimeInterval(7)) { mark("kept") }
            let dropped = clock.schedule(at: t0.addingTimeInterval(3)) { mark("dropped") }
            dropped.cancel()
            for i in 0..<1000 {
                clock.schedule(at: t0.addingTimeInterval(5 + Double(i % 10))) { mark("stale \(i)") }.cancel()
            }
            try await clock.sleep(for: .seconds(20))
            dropped.cancel()  // a second cancel, after the deadline: nothing happens
            return t0.duration(to: clock.now)
        }
        #expect(log.value == ["kept at 7"])
        #expect(elapsed == .seconds(20))
    }

    /// A timer's handle is spent once it ran or was cancelled: cancelling it again leaves alone
    /// the timers set after it, and a sleep in a task cancelled before it slept ends at once,
    /// leaving no timer that moves the clock.
    @Test func spentTimerHandlesCancelNothingElse() async throws {
        let simulation = Simulation()
        let log = Box<[String]>([])
        let (cancelledSleep, elapsed) = try await simulation.runDetached { clock -> (Bool, Duration) in
            let t0 = clock.now
            let mark: @Sendable (String) -> Void = { name in log.update { $0.append("\(name) at \(Int(clock.now.timeIntervalSince(t0)))") } }
            var spent: [ClockTimer] = []
            for i in 0..<3 { spent.append(clock.schedule(at: t0.addingTimeInterval(1)) { mark("first \(i)") }) }
            try await clock.sleep(for: .seconds(2))
            let cancelled = clock.schedule(at: t0.addingTimeInterval(3)) { mark("cancelled") }
            cancelled.cancel()
            spent.append(cancelled)
            for i in 0..<4 { _ = clock.schedule(at: t0.addingTimeInterval(4)) { mark("second \(i)") } }
            for timer in spent { timer.cancel() }
            try await clock.sleep(for: .seconds(3))
            // A sleep in a task already cancelled throws at once and leaves no timer behind.
            let ended = await withTaskGroup(of: Bool.self) { group in
                group.cancelAll()
                group.addTask {
                    do { try await clock.sleep(for: .seconds(100)); return false } catch { return error is CancellationError }
                }
                return await group.next() ?? false
            }
            return (ended, t0.duration(to: clock.now))
        }
        #expect(log.value == ["first 0 at 1", "first 1 at 1", "first 2 at 1", "second 0 at 4", "second 1 at 4", "second 2 at 4", "second 3 at 4"])
        #expect(cancelledSleep)
        #expect(elapsed == .seconds(5))
    }

    /// `ChangeSignal.wait` in virtual time: back at the deadline when nothing changes, at the
    /// moment of the change when something does, at once when cancelled; no wake-up left behind.
    @Test func changeSignalWaitEndsAtTheChangeOrTheDeadline() async throws {
        let simulation = Simulation()
        let times = try await simulation.runDetached { clock -> [Int] in
            let t0 = clock.now
            let signal = ChangeSignal()
            var out: [Int] = []
            await signal.wait(after: signal.generation, until: t0.addingTimeInterval(4), clock: clock)
            out.append(Int(clock.now.timeIntervalSince(t0)))
            await withTaskGroup(of: Void.self) { group in
                let g = signal.generation
                group.addTask { await signal.wait(after: g, until: t0.addingTimeInterval(1000), clock: clock) }
                group.addTask {
                    try? await clock.sleep(for: .seconds(6))
                    signal.notify()
                }
                await group.waitForAll()
            }
            out.append(Int(clock.now.timeIntervalSince(t0)))
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await signal.wait(after: signal.generation, until: t0.addingTimeInterval(5000), clock: clock) }
                group.cancelAll()
                await group.waitForAll()
            }
            out.append(Int(clock.now.timeIntervalSince(t0)))
            // A wait on a generation already passed returns at once.
            await signal.wait(after: signal.generation - 1, until: t0.addingTimeInterval(9000), clock: clock)
            out.append(Int(clock.now.timeIntervalSince(t0)))
            return out
        }
        #expect(times == [4, 10, 10, 10])
    }

    /// In real time the clock's timer is a sleeping task: its action runs once the deadline is
    /// reached (waited for at most 10 s).
    @Test func systemClockTimerRuns() async throws {
        let clock = SystemClock()
        let (stream, sink) = AsyncStream<Date>.makeStream()
        let deadline = clock.now.addingTimeInterval(0.02)
        _ = clock.schedule(at: deadline) { sink.yield(clock.now) }
        let fired = await withTaskGroup(of: Date?.self) { group in
            group.addTask { await stream.first { _ in true } }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            sink.finish()
            return first
        }
        let at = try #require(fired, "the timer's action did not run within 10 s")
        #expect(at >= deadline)
    }

    /// Parked polls are probed in the order they parked; an answer takes its poll out and the
    /// round starts again from the first, so each poll sees what the answers before it changed.
    @Test func parkedPollsAreAnsweredInOrder() async throws {
        let polls = ParkedPolls()
        let probed = Box<[String]>([])
        let (answers, timedOut) = try await Simulation().runDetached { clock -> ([String], [String]) in
            let deadline = clock.now.addingTimeInterval(100)
            let names = ["a", "b", "c"]
            return await withTaskGroup(of: (String, YagnaResponse?).self) { group in
                for name in names {
                    group.addTask {
                        (name, await polls.wait(.agreementApproval(agreementId: name), until: deadline, clock: clock, after: polls.round))
                    }
                    // Let the poll park before the next one: their order is the parking order.
                    try? await clock.sleep(for: .seconds(1))
                }
                let answered = polls.answer { poll, wake in
                    guard case .agreementApproval(let id) = poll else { return .keep }
                    probed.update { $0.append(id) }
                    return id == "b" ? .answer(YagnaResponse(status: 200, body: Array("b".utf8))) : .keep
                }
                for (continuation, response) in answered { continuation.resume(returning: response) }
                var got: [String] = [], late: [String] = []
                for await (name, response) in group {
                    if let response { got.append("\(name): \(String(decoding: response.body, as: UTF8.self))") } else { late.append(name) }
                }
                return (got, late.sorted())
            }
        }
        #expect(probed.value == ["a", "b", "a", "c"])
        #expect(answers == ["b: b"])
        #expect(timedOut == ["a", "c"])
    }

    /// A change that schedules something sooner than a parked poll's timer (here a provider's
    /// answer to a counter-proposal, due 2 s later) wakes the poll then, not at its timeout: yapapi
    /// polls a demand's events before it counters, and got its drafts 5 s late when it did not.
    @Test(arguments: [1.0, 0.0])
    func aParkedPollWakesForWhatAChangeScheduled(counterAfter seconds: Double) async throws {
        let scenario = try Scenario.parse(yaml: "name: counter\nproviders:\n  - name: p\n    offer-delay: 1s\n    response-delay: 2s\n")
        let waited = try await Simulation().runDetached { clock -> Double in
            let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
            let y = YagnaClient(transport: InProcessTransport(node: node))
            let expiration = Int(clock.now.addingTimeInterval(3600).timeIntervalSince1970 * 1000)
            let demand = DemandBody(properties: ["golem.srv.comp.expiration": .int(expiration)], constraints: "(golem.runtime.name=vm)")
            let subscription = try await y.market.subscribe(demand)
            var offer: Proposal?
            while offer == nil { for case .proposal(_, let p) in try await y.market.events(subscription, timeout: .seconds(5)) { offer = p } }
            let proposalId = offer!.proposalId
            return try await withThrowingTaskGroup(of: Double?.self) { group in
                group.addTask {
                    let start = clock.now
                    _ = try await y.market.events(subscription, timeout: .seconds(60))
                    return clock.now.timeIntervalSince(start)
                }
                // The poll parks first (its timer at 60 s); then the counter schedules the draft:
                // a second later, or at the same instant, in the next job (the poll must be parked
                // before the node serves the counter, or the change would not see it).
                if seconds > 0 { try await clock.sleep(for: .seconds(seconds)) }
                group.addTask {
                    _ = try await y.market.counter(subscription, proposalId: proposalId, with: demand)
                    return nil
                }
                var out = -1.0
                for try await w in group { if let w { out = w } }
                return out
            }
        }
        #expect(abs(waited - (seconds + 2)) < 0.01, "the poll returned after \(waited) s")
    }

    /// Event lists stay in date order whatever order events are added in (a poll then tells
    /// from the newest alone whether anything is new), events of one date in the order added.
    @Test func eventListsStayInDateOrder() {
        struct E { let at: WireTimestamp; let name: String }
        func t(_ s: Int64) -> WireTimestamp { WireTimestamp(epochNanoseconds: 1_800_000_000_000_000_000 + s * 1_000_000_000) }
        var list: [E] = []
        for (s, name) in [(5, "a"), (7, "b"), (6, "c"), (7, "d"), (1, "e"), (9, "f")] {
            NodeCore.addEvent(E(at: t(Int64(s)), name: name), to: &list, \.at)
        }
        #expect(list.map(\.name) == ["e", "a", "c", "b", "d", "f"])
        #expect(NodeCore.notAfter(t(9), t(9)))
        #expect(!NodeCore.notAfter(t(9), t(8)))
        #expect(!NodeCore.notAfter(t(1), nil))
    }

    /// A long poll the node cannot answer stays parked while other requests are served: it costs
    /// no task switch per request (before, every request woke every parked poll to look again).
    @Test func unrelatedRequestsDoNotWakeAParkedPoll() async throws {
        let scenario = try Scenario.parse(yaml: "name: quiet\nproviders:\n  - name: p\n")
        func jobs(parkAPoll: Bool) async throws -> (jobs: Int, poll: String?) {
            let simulation = Simulation()
            let poll = try await simulation.runDetached { clock -> String? in
                let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
                let auth = [Header("Authorization", "Bearer k")]
                return await withTaskGroup(of: String?.self) { group in
                    if parkAPoll {
                        group.addTask {
                            let request = NodeRequest(method: .GET, path: "/payment-api/v1/invoiceEvents", query: [QueryItem("timeout", "60")], headers: auth)
                            guard case .response(let r) = await node.handle(request) else { return "no answer" }
                            return "\(r.status) \(String(decoding: r.body, as: UTF8.self)) after \(Int(clock.now.timeIntervalSince(node.startDate)))"
                        }
                        try? await clock.sleep(for: .seconds(1))
                    }
                    for _ in 0..<200 { _ = await node.handle(NodeRequest(method: .GET, path: "/me", headers: auth)) }
                    var out: String?
                    for await r in group { out = r }
                    return out
                }
            }
            return (simulation.statistics.jobs, poll)
        }
        let quiet = try await jobs(parkAPoll: false)
        let parked = try await jobs(parkAPoll: true)
        #expect(parked.poll == "200 [] after 60")
        // The poll's own start, its timer and its answer: a handful of jobs, not one per request.
        #expect(parked.jobs - quiet.jobs < 20, "a parked poll cost \(parked.jobs - quiet.jobs) jobs over 200 unrelated requests")
    }

    /// A parked demand-events poll that found nothing is looked at again without a lookup while
    /// no demand changed; every change still reaches it: an offer arriving, the demand removed.
    @Test func aParkedDemandPollSeesEveryChangeToItsDemand() async throws {
        let scenario = try Scenario.parse(yaml: "name: offers\nproviders:\n  - name: p\n    offer-delay: 5s\n    debit-note-interval: none\n")
        try await Simulation().runDetached { clock in
            let node = SimulatedNode(scenario: scenario, seed: 1, clock: clock, appKey: "k", files: InMemoryFileExchange())
            let y = YagnaClient(transport: InProcessTransport(node: node))
            let start = clock.now
            let subscription = try await y.market.subscribe(AgreementLimitTests.demand)
            #expect(try await y.market.events(subscription, timeout: .zero).isEmpty)
            // Other requests change other things meanwhile; the offer answers the parked poll at 5 s.
            async let other: Void = { for _ in 0..<10 { _ = try? await y.identity.me(); try? await clock.sleep(for: .milliseconds(300)) } }()
            let offers = try await y.market.events(subscription, timeout: .seconds(30))
            await other
            #expect(offers.count == 1)
            #expect(Int(clock.now.timeIntervalSince(start).rounded()) == 5)

            // Removed while a poll is parked: the poll ends at once with the daemon's answer.
            async let parked: YagnaError? = {
                do { _ = try await y.market.events(subscription, timeout: .seconds(60)); return nil } catch let e as YagnaError { return e } catch { return nil }
            }()
            try await clock.sleep(for: .seconds(1))
            try await y.market.unsubscribe(subscription)
            let ended = await parked
            #expect(ended?.status == 404, "\(String(describing: ended))")
            #expect(Int(clock.now.timeIntervalSince(start).rounded()) == 6)
        }
    }
}
