import Testing
import YagnaAPI
import YagnaSimulator

/// The activity lifecycle on its own: no clock, no await.
@Suite struct ActivityStateMachineTests {
    @Test func theNormalLife() {
        var m = ActivityStateMachine()
        #expect(m.on(.deploy) == .moved(.deployed))
        #expect(m.on(.start) == .moved(.ready))
        #expect(m.on(.work) == .stays)
        #expect(m.on(.terminate) == .moved(.terminated))
        #expect(m.on(.terminate) == .stays)
    }

    @Test func commandsOutOfOrderAreRefused() {
        var fresh = ActivityStateMachine()
        guard case .refused(let m1) = fresh.on(.work) else { Issue.record("work before deploy"); return }
        #expect(m1.contains("Initialized, not Ready"))
        guard case .refused(let m2) = fresh.on(.start) else { Issue.record("start before deploy"); return }
        #expect(m2.contains("Deployed only"))
        var ready = ActivityStateMachine(state: .ready)
        guard case .refused(let m3) = ready.on(.deploy) else { Issue.record("deploy twice"); return }
        #expect(m3.contains("Initialized only, not Ready"))
        var ended = ActivityStateMachine(state: .terminated)
        for event in [ActivityStateMachine.Event.deploy, .start, .work] {
            #expect(ended.on(event) == .refused(message: "the activity is Terminated"))
        }
        #expect(ended.on(.unresponsive) == .ignored)
        #expect(ended.state == .terminated)
    }

    /// Unresponsive and back: it returns to the state it left, whatever that was.
    @Test func unresponsiveReturnsWhereItWas() {
        for state in [ActivityState.initialized, .deployed, .ready] {
            var m = ActivityStateMachine(state: state)
            #expect(m.on(.unresponsive) == .moved(.unresponsive))
            #expect(m.on(.unresponsive) == .ignored)
            #expect(m.on(.responsive) == .moved(state))
            #expect(m.resumeState == nil)
        }
        var m = ActivityStateMachine(state: .ready)
        _ = m.on(.unresponsive)
        #expect(m.on(.terminate) == .moved(.terminated))
        #expect(m.on(.responsive) == .ignored)
    }
}
