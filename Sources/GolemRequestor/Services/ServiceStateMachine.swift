/// The lifecycle state of a service instance.
public enum ServiceState: String, Sendable, Hashable, CaseIterable {
    case pending, starting, running, stopping, terminated, unresponsive
}

/// A service instance's lifecycle as a sans-I/O state machine.
///
/// Design note: every transition is an event in, a new state (or a refusal) out; the engine
/// does the I/O around it. The rules follow the service model of the seeds: `start` runs once
/// (success → running, failure → terminated), a requestor-initiated stop runs `shutdown`
/// (running → stopping → terminated), while an abrupt end on the provider's side goes straight
/// to terminated without `shutdown`. Unlike yapapi, `unresponsive` is reachable: an activity
/// that stops answering makes a running instance unresponsive; it returns to running when the
/// activity answers again and ends terminated when its agreement ends or the grace period passes.
public struct ServiceStateMachine: Sendable, Hashable {
    public enum Event: String, Sendable, Hashable, CaseIterable {
        /// An agreement and activity were obtained.
        case activityObtained
        case startSucceeded
        case startFailed
        /// `run` returned or failed while the activity is alive: time to shut down.
        case runFinished
        /// The requestor stops the instance (Cluster.stop, expiration).
        case stopRequested
        case shutdownFinished
        /// The provider ended the agreement or the activity died.
        case providerTerminated
        case activityUnresponsive
        case activityResponsive
        /// An unresponsive instance stayed silent longer than the grace period.
        case graceExpired
    }

    /// A transition the rules do not allow.
    public struct Refused: Error, Sendable, Hashable, CustomStringConvertible {
        public let state: ServiceState
        public let event: Event
        public var description: String { "a \(state.rawValue) instance cannot take '\(event.rawValue)'" }
    }

    public private(set) var state: ServiceState = .pending

    public init() {}

    /// Applies an event; returns the `(from, to)` pair or throws `Refused`, leaving the state unchanged.
    @discardableResult
    public mutating func handle(_ event: Event) throws(Refused) -> (from: ServiceState, to: ServiceState) {
        guard let next = Self.next(state, event) else { throw Refused(state: state, event: event) }
        let from = state
        state = next
        return (from, next)
    }

    /// The rules.
    static func next(_ state: ServiceState, _ event: Event) -> ServiceState? {
        switch (state, event) {
        case (.pending, .activityObtained): .starting
        case (.pending, .stopRequested): .terminated
        // The agreement failed before there was an activity to start.
        case (.pending, .providerTerminated): .terminated
        case (.starting, .startSucceeded): .running
        case (.starting, .startFailed): .terminated
        case (.starting, .stopRequested): .terminated
        case (.running, .runFinished), (.running, .stopRequested): .stopping
        case (.running, .activityUnresponsive): .unresponsive
        case (.unresponsive, .activityResponsive): .running
        case (.unresponsive, .graceExpired), (.unresponsive, .stopRequested): .terminated
        case (.stopping, .shutdownFinished): .terminated
        case (.starting, .providerTerminated), (.running, .providerTerminated), (.stopping, .providerTerminated),
            (.unresponsive, .providerTerminated):
            .terminated
        default: nil
        }
    }
}
