import Testing
import YagnaAPI
import YagnaSimulator

/// The agreement lifecycle on its own: no clock, no await.
@Suite struct AgreementStateMachineTests {
    typealias E = AgreementStateMachine.Event

    @Test func theHappyPath() {
        var m = AgreementStateMachine()
        #expect(m.state == .proposal)
        #expect(m.on(.confirm) == .moved(.pending))
        #expect(m.on(.approve) == .moved(.approved))
        #expect(m.on(.terminate) == .moved(.terminated))
        #expect(m.state == .terminated)
    }

    /// Every state × event: where it may go, and what the daemon answers otherwise.
    @Test func everyTransition() {
        let allowed: [AgreementState: [E: AgreementState]] = [
            .proposal: [.confirm: .pending, .cancel: .cancelled, .expire: .expired],
            .pending: [.approve: .approved, .reject: .rejected, .cancel: .cancelled, .expire: .expired],
            .approved: [.terminate: .terminated],
            .rejected: [:], .cancelled: [:], .expired: [:], .terminated: [:],
        ]
        for (state, moves) in allowed {
            for event in E.allCases {
                var m = AgreementStateMachine(state: state)
                let outcome = m.on(event)
                if let next = moves[event] {
                    #expect(outcome == .moved(next), "\(state) on \(event)")
                    #expect(m.state == next)
                    continue
                }
                #expect(m.state == state, "\(state) on \(event) must not move")
                switch (event, outcome) {
                case (.approve, .ignored), (.reject, .ignored), (.expire, .ignored): break
                case (.confirm, .refused(410, let text)): #expect(text.contains("cannot be confirmed"))
                case (.cancel, .refused(409, let text)): #expect(text.contains("cannot be cancelled"))
                case (.terminate, .refused(let status, let text)):
                    if state == .proposal || state == .pending {
                        #expect(status == 409 && text.contains("cancel it"))
                    } else {
                        #expect(status == 410 && text.contains("already"))
                    }
                default: Issue.record("\(state) on \(event): unexpected \(outcome)")
                }
            }
        }
    }
}
