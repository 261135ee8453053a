import YagnaAPI
import GolemTime
import Foundation

/// The instances of a service started by `Golem.runService`, and the controls over them.
public actor Cluster {
    /// One instance as the cluster sees it.
    public struct Instance: Sendable, Hashable {
        public var index: Int
        public var state: ServiceState
        /// Providers the instance ran on, in order (more than one after respawns).
        public var providers: [String]
        /// Whether `shutdown` ran.
        public var shutdownRan: Bool
        public var respawns: Int
        /// Its address in the service's network, while it has one.
        public var networkAddress: String? = nil
    }

    var instances: [Int: Instance] = [:]
    var stopRequested: Set<Int> = []
    var stopAllRequested = false
    /// Moves when an instance changes (waitUntilAll wakes on it).
    nonisolated let changes = ChangeSignal()
    let spawnSink: AsyncStream<InstanceContext>.Continuation
    var nextIndex = 0

    init(spawnSink: AsyncStream<InstanceContext>.Continuation) { self.spawnSink = spawnSink }

    /// Every instance, by index.
    public var all: [Instance] { instances.keys.sorted().map { instances[$0]! } }

    /// Starts `count` more instances with these parameters.
    public func spawn(_ count: Int = 1, parameters: [String: String] = [:]) {
        for _ in 0..<count {
            let index = nextIndex
            nextIndex += 1
            instances[index] = Instance(index: index, state: .pending, providers: [], shutdownRan: false, respawns: 0)
            spawnSink.yield(InstanceContext(index: index, parameters: parameters))
        }
    }

    /// Stops every instance: running ones run `shutdown` first.
    public func stop() {
        stopAllRequested = true
        for index in instances.keys.sorted() { stop(instance: index) }
        stops.notify()
    }

    /// Stops one instance.
    public func stop(instance index: Int) {
        stopRequested.insert(index)
        stops.notify()
    }

    /// Waits until every instance is in `state` (or terminated, for any target); returns early
    /// when the waiting task is cancelled.
    public func waitUntilAll(_ state: ServiceState) async {
        while !instances.isEmpty, !instances.values.allSatisfy({ $0.state == state || $0.state == .terminated }), !Task.isCancelled {
            await changes.changed(after: changes.generation)
        }
    }

    // MARK: - Engine side

    /// Each instance's lifecycle machine: the only thing that changes `Instance.state`.
    var machines: [Int: ServiceStateMachine] = [:]

    /// Applies a lifecycle event to the instance's machine and mirrors the new state.
    func transition(_ index: Int, _ event: ServiceStateMachine.Event) -> Result<(from: ServiceState, to: ServiceState), ServiceStateMachine.Refused> {
        var machine = machines[index] ?? ServiceStateMachine()
        let result = Result { () throws(ServiceStateMachine.Refused) in try machine.handle(event) }
        if case .success(let (_, to)) = result {
            machines[index] = machine
            update(index) { $0.state = to }
        }
        return result
    }

    /// A fresh machine (pending) for an instance started again; returns the state it left.
    func respawn(_ index: Int, respawns: Int) -> ServiceState {
        let from = machines[index]?.state ?? .pending
        machines[index] = ServiceStateMachine()
        update(index) { $0.state = .pending; $0.respawns = respawns; $0.shutdownRan = false }
        return from
    }

    func state(of index: Int) -> ServiceState { machines[index]?.state ?? .pending }

    func isStopRequested(_ index: Int) -> Bool { stopAllRequested || stopRequested.contains(index) }

    /// Moves when a stop is requested.
    nonisolated let stops = ChangeSignal()

    /// Returns when a stop of `index` is requested (signalled, not polled); throws
    /// `CancellationError` when the waiting task is cancelled first.
    func waitForStop(_ index: Int) async throws {
        while !isStopRequested(index) {
            try Task.checkCancellation()
            await stops.changed(after: stops.generation)
        }
    }

    func update(_ index: Int, _ change: (inout Instance) -> Void) {
        guard var i = instances[index] else { return }
        change(&i)
        instances[index] = i
        changes.notify()
    }

    func finishSpawning() { spawnSink.finish() }
}
