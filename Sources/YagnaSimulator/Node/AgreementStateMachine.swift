public import YagnaAPI

/// An agreement's lifecycle on the node, as yagna enforces it:
///
///     Proposal ─confirm→ Pending ─approve→ Approved ─terminate→ Terminated
///        │                 ├─reject→ Rejected
///        └─cancel/expire→  └─cancel/expire→ Cancelled / Expired
///
/// Sans-I/O: `on(_:)` takes an event and says what happens — the new state, nothing (a late
/// provider decision or expiry on an agreement that moved on), or a refusal with the status
/// and message the daemon answers with. `NodeCore` applies the effects (events, invoices).
public struct AgreementStateMachine: Sendable, Hashable {
    public enum Event: Sendable, Hashable, CaseIterable {
        /// The requestor confirms (`POST /agreements/{id}/confirm`).
        case confirm
        /// The provider approves or rejects a pending agreement.
        case approve, reject
        /// The requestor cancels one not yet approved.
        case cancel
        /// `validTo` passes before approval.
        case expire
        /// Either side terminates an approved agreement.
        case terminate
    }

    public enum Outcome: Sendable, Hashable {
        case moved(AgreementState)
        /// The event does not apply in this state and nobody is answered (scheduled events).
        case ignored
        /// The request is refused with this status and message.
        case refused(status: Int, message: String)
    }

    public private(set) var state: AgreementState

    public init(state: AgreementState = .proposal) { self.state = state }

    public mutating func on(_ event: Event) -> Outcome {
        let outcome = Self.transition(from: state, on: event)
        if case .moved(let next) = outcome { state = next }
        return outcome
    }

    static func transition(from state: AgreementState, on event: Event) -> Outcome {
        switch (event, state) {
        case (.confirm, .proposal): return .moved(.pending)
        case (.confirm, _): return .refused(status: 410, message: "in state \(state.rawValue) cannot be confirmed")
        case (.approve, .pending): return .moved(.approved)
        case (.reject, .pending): return .moved(.rejected)
        case (.approve, _), (.reject, _): return .ignored
        case (.cancel, .proposal), (.cancel, .pending): return .moved(.cancelled)
        case (.cancel, _): return .refused(status: 409, message: "in state \(state.rawValue) cannot be cancelled")
        case (.expire, .proposal), (.expire, .pending): return .moved(.expired)
        case (.expire, _): return .ignored
        case (.terminate, .approved): return .moved(.terminated)
        case (.terminate, .proposal), (.terminate, .pending):
            return .refused(status: 409, message: "in state \(state.rawValue) cannot be terminated; cancel it")
        case (.terminate, _): return .refused(status: 410, message: "is already \(state.rawValue)")
        }
    }
}
