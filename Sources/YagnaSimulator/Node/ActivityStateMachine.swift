public import YagnaAPI

/// An activity's lifecycle on the node, as the exe-unit enforces it:
///
///     Initialized ─deploy→ Deployed ─start→ Ready ─(run, transfer, sign)→ Ready
///          └──────────── terminate / destroy ───────────→ Terminated
///     any live state ─unresponsive→ Unresponsive ─responsive→ the state it left
///
/// Sans-I/O: `on(_:)` says whether a command may run now and where the activity goes; a
/// refused command fails its batch with the message the exe-unit gives.
public struct ActivityStateMachine: Sendable, Hashable {
    public enum Event: Sendable, Hashable, CaseIterable {
        case deploy, start
        /// `run`, `transfer` or `sign`: needs a started activity.
        case work
        /// The `terminate` command, or `DELETE /activity/{id}`.
        case terminate
        case unresponsive, responsive
    }

    public enum Outcome: Sendable, Hashable {
        case moved(ActivityState)
        /// Allowed, and the state stays.
        case stays
        /// Nothing happens (a late scheduled event).
        case ignored
        case refused(message: String)
    }

    public private(set) var state: ActivityState
    /// Where an unresponsive activity returns when it answers again.
    public private(set) var resumeState: ActivityState?

    public init(state: ActivityState = .initialized, resumeState: ActivityState? = nil) {
        self.state = state
        self.resumeState = resumeState
    }

    public mutating func on(_ event: Event) -> Outcome {
        switch (event, state) {
        case (_, .terminated) where event != .terminate:
            return event == .unresponsive || event == .responsive ? .ignored : .refused(message: "the activity is Terminated")
        case (.terminate, .terminated): return .stays
        case (.terminate, _):
            state = .terminated
            resumeState = nil
            return .moved(.terminated)
        case (.unresponsive, .unresponsive): return .ignored
        case (.unresponsive, _):
            resumeState = state
            state = .unresponsive
            return .moved(.unresponsive)
        case (.responsive, .unresponsive):
            state = resumeState ?? .ready
            resumeState = nil
            return .moved(state)
        case (.responsive, _): return .ignored
        case (.deploy, .initialized), (.deploy, .new):
            state = .deployed
            return .moved(.deployed)
        case (.start, .deployed):
            state = .ready
            return .moved(.ready)
        case (.work, .ready): return .stays
        case (.deploy, _): return .refused(message: "deploy is allowed in state Initialized only, not \(state.rawValue)")
        case (.start, _): return .refused(message: "start is allowed in state Deployed only, not \(state.rawValue)")
        case (.work, _): return .refused(message: "the activity is \(state.rawValue), not Ready: deploy and start it first")
        }
    }
}
