public import Foundation
import Synchronization

/// Runs async code on one thread in virtual time.
///
/// A `Simulation` is a `TaskExecutor`: work started through `run` prefers it, and so do its
/// child tasks, task groups and the default actors they call. Whenever no job is ready, the
/// simulation jumps its clock to the earliest pending `sleep` deadline and wakes those
/// sleepers in the order they went to sleep. The same program and seed therefore give the
/// same order of events, and sleeping costs no wall time.
///
/// Design note: this follows the single-threaded executor recipe measured in the project's
/// references (SE-0417 task executors, an injected clock, structured concurrency only).
/// Unstructured `Task {}`, real-clock sleeps and blocking I/O escape it; the project's code
/// uses none of them, and the guardrails catch code that does: a job enqueued from another
/// thread fails the run ("foreign enqueue"), and so does a state where every task waits and
/// no timer is pending ("deadlock"; a real-clock sleep or I/O wait shows up as one or the other).
/// What cannot be seen: a real-clock sleep so short that it ends before its task has suspended
/// is resumed in place, on the simulation's own thread, with no foreign job to notice.
///
/// ```swift
/// let simulation = Simulation(start: Date(timeIntervalSince1970: 1_800_000_000))
/// let value = try simulation.run { clock in
///     try await clock.sleep(for: .seconds(3600))   // returns at once in wall time
///     return clock.now
/// }
/// ```
public final class Simulation: TaskExecutor, @unchecked Sendable {
    /// Why a simulation could not finish.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    private struct Timer {
        let deadline: Int64
        let seq: UInt64
        let id: UInt64
    }

    /// What a due timer wakes: a sleeping task, or an action run on the simulation's thread.
    private enum Sleeper {
        case task(CheckedContinuation<Void, any Error>)
        case action(@Sendable () -> Void)
    }

    private struct State {
        var ready: [UnownedJob] = []
        var readHead = 0
        var timers: [Timer] = []  // a binary min-heap on (deadline, seq)
        var sleepers: [UInt64: Sleeper] = [:]
        var nextSeq: UInt64 = 0
        var now: Int64 = 0
        var wakeUps = 0
        var jobs = 0
        var foreignEnqueues = 0
        /// The runner is idle and waits on `arrival` for a job from outside.
        var idleWaiting = false
    }

    /// Signalled when a job arrives while the runner waits idle.
    private let arrival = NSCondition()
    /// How long an idle runner waits for work from outside before it calls the state a deadlock.
    static let idleGrace: TimeInterval = 1

    private let state = Mutex(State())
    private let runningThread = Mutex<pthread_t?>(nil)
    /// Wall time at virtual zero.
    public let start: Date

    /// Whether a job enqueued from another thread fails the run (the default). Off, such jobs
    /// are run and counted in `statistics`, and the run is no longer deterministic.
    public let strict: Bool

    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000), strict: Bool = true) {
        self.start = start
        self.strict = strict
    }

    /// The simulation's clock.
    public var clock: VirtualClock { VirtualClock(simulation: self) }

    /// Virtual time elapsed since the start.
    public var elapsed: Duration { .nanoseconds(state.withLock { $0.now }) }

    /// Statistics of the run so far: wake-ups from sleeps and jobs run.
    public var statistics: (wakeUps: Int, jobs: Int, foreignEnqueues: Int) {
        state.withLock { ($0.wakeUps, $0.jobs, $0.foreignEnqueues) }
    }

    // MARK: - TaskExecutor

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let foreign: Bool = runningThread.withLock { thread in
            guard let thread else { return false }
            return pthread_equal(thread, pthread_self()) == 0
        }
        let wake: Bool = state.withLock {
            $0.ready.append(unowned)
            if foreign { $0.foreignEnqueues += 1 }
            return $0.idleWaiting
        }
        if wake {
            arrival.lock()
            arrival.broadcast()
            arrival.unlock()
        }
    }

    /// Waits (in wall time, at most `idleGrace`) for a job to arrive from outside the simulation.
    private func waitForArrival() {
        state.withLock { $0.idleWaiting = true }
        let deadline = Date().addingTimeInterval(Self.idleGrace)
        arrival.lock()
        while state.withLock({ $0.ready.count == $0.readHead }) {
            if !arrival.wait(until: deadline) { break }
        }
        arrival.unlock()
        state.withLock { $0.idleWaiting = false }
    }

    // MARK: - Running

    /// Runs `body` to completion on the calling thread in virtual time and returns its result.
    ///
    /// - Throws: what `body` throws, or `Failure` when every task waits on something that
    ///   nothing will ever provide (a deadlock: no job ready and no sleeper left).
    public func run<T: Sendable>(_ body: @escaping @Sendable (VirtualClock) async throws -> T) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let clock = self.clock
        runningThread.withLock { $0 = pthread_self() }
        defer { runningThread.withLock { $0 = nil } }
        let root = Task(executorPreference: self) {
            let value: Result<T, any Error>
            do { value = .success(try await body(clock)) } catch { value = .failure(error) }
            result.withLock { $0 = value }
        }
        _ = root
        while true {
            drain()
            // A foreign job may have been drained and even finished the body (a real-clock sleep
            // that ran out while the runner was busy): check before handing back a result.
            try checkForeignEnqueues()
            if let r = result.withLock({ $0 }) { return try r.get() }
            guard fireEarliestTimers() else {
                // Nothing can move in virtual time. Give work outside the simulation a moment to
                // show itself, so that a foreign enqueue is named as such rather than as a deadlock.
                waitForArrival()
                try checkForeignEnqueues()
                if state.withLock({ $0.ready.count > $0.readHead }) { continue }
                throw Failure(
                    description: "deadlock: every task is waiting and no timer is pending at virtual time \(elapsed) "
                        + "(a continuation never resumed, or a wait on something outside the simulation)")
            }
        }
    }

    /// Runs `body` in virtual time on a thread of its own and returns its result, leaving the
    /// caller's thread free: safe to use from async code such as parallel tests.
    public func runDetached<T: Sendable>(_ body: @escaping @Sendable (VirtualClock) async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let thread = Thread {
                do { continuation.resume(returning: try self.run(body)) } catch { continuation.resume(throwing: error) }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    private func checkForeignEnqueues() throws {
        guard strict else { return }
        let foreign = state.withLock { $0.foreignEnqueues }
        guard foreign > 0 else { return }
        throw Failure(
            description: "foreign enqueue: \(foreign) job(s) came from another thread at virtual time \(elapsed); "
                + "an unstructured Task, a real-clock sleep (Task.sleep, ContinuousClock) or a callback from I/O escaped the simulation. "
                + "Sleep on the injected clock and keep work in structured child tasks.")
    }

    private func drain() {
        let executor = asUnownedTaskExecutor()
        while true {
            let job: UnownedJob? = state.withLock { s in
                guard s.readHead < s.ready.count else {
                    s.ready.removeAll(keepingCapacity: true)
                    s.readHead = 0
                    return nil
                }
                let j = s.ready[s.readHead]
                s.readHead += 1
                s.jobs += 1
                if s.readHead > 4096 && s.readHead * 2 > s.ready.count {
                    s.ready.removeFirst(s.readHead)
                    s.readHead = 0
                }
                return j
            }
            guard let job else { return }
            job.runSynchronously(on: executor)
        }
    }

    /// Advances time to the earliest deadline and resumes every sleeper due then.
    private func fireEarliestTimers() -> Bool {
        let due: [Sleeper] = state.withLock { s in
            var out: [Sleeper] = []
            // Skip timers whose sleeper was cancelled.
            while let top = s.timers.first, s.sleepers[top.id] == nil { Self.popHeap(&s.timers) }
            guard let first = s.timers.first else { return out }
            s.now = max(s.now, first.deadline)
            while let top = s.timers.first, top.deadline <= s.now {
                Self.popHeap(&s.timers)
                if let c = s.sleepers.removeValue(forKey: top.id) {
                    out.append(c)
                    s.wakeUps += 1
                }
            }
            return out
        }
        for sleeper in due {
            switch sleeper {
            case .task(let c): c.resume()
            case .action(let action): action()
            }
        }
        return !due.isEmpty
    }

    // MARK: - Sleeping

    var nowNanoseconds: Int64 { state.withLock { $0.now } }

    func sleep(untilNanoseconds deadline: Int64) async throws {
        let id: UInt64 = state.withLock { s in
            s.nextSeq += 1
            return s.nextSeq
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let cancelled = Task.isCancelled
                let resumeNow: Bool = state.withLock { s in
                    if cancelled { return true }
                    Self.addTimer(.task(c), id: id, deadline: deadline, to: &s)
                    return false
                }
                if resumeNow { c.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            if case .task(let c) = state.withLock({ $0.sleepers.removeValue(forKey: id) }) {
                c.resume(throwing: CancellationError())
            }
        }
    }

    /// Runs `action` on the simulation's thread when virtual time reaches `deadline`, in turn
    /// with the sleepers due then, unless `cancelTimer` is called first. Cheaper than a sleeping
    /// child task for a wait that something else usually ends first (a long poll's timeout).
    func schedule(atNanoseconds deadline: Int64, _ action: @escaping @Sendable () -> Void) -> UInt64 {
        state.withLock { s in
            s.nextSeq += 1
            let id = s.nextSeq
            Self.addTimer(.action(action), id: id, deadline: deadline, to: &s)
            return id
        }
    }

    /// Forgets a timer set by `schedule` (nothing happens if it already fired).
    func cancelTimer(_ id: UInt64) {
        state.withLock { s in
            guard s.sleepers.removeValue(forKey: id) != nil else { return }
            // Cancelled timers stay in the heap until they reach its top; rebuild it when they
            // outnumber the live ones, so that waits ended early do not pile up.
            if s.timers.count > 256, s.timers.count > 4 * s.sleepers.count {
                let live = s.timers.filter { s.sleepers[$0.id] != nil }
                s.timers.removeAll(keepingCapacity: true)
                for t in live { Self.pushHeap(&s.timers, t) }
            }
        }
    }

    /// Registers what wakes at `deadline` (not before now), in the order timers were made.
    private static func addTimer(_ sleeper: Sleeper, id: UInt64, deadline: Int64, to s: inout State) {
        s.sleepers[id] = sleeper
        pushHeap(&s.timers, Timer(deadline: max(deadline, s.now), seq: id, id: id))
    }

    // MARK: - Heap

    private static func less(_ a: Timer, _ b: Timer) -> Bool { (a.deadline, a.seq) < (b.deadline, b.seq) }

    private static func pushHeap(_ heap: inout [Timer], _ t: Timer) {
        heap.append(t)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private static func popHeap(_ heap: inout [Timer]) {
        guard !heap.isEmpty else { return }
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < heap.count && less(heap[l], heap[m]) { m = l }
            if r < heap.count && less(heap[r], heap[m]) { m = r }
            guard m != i else { return }
            heap.swapAt(i, m)
            i = m
        }
    }
}

/// The clock of a `Simulation`: `now` is the simulation's start plus virtual time elapsed, and
/// `sleep` suspends until the simulation reaches the deadline.
public struct VirtualClock: GolemClock {
    let simulation: Simulation

    public var taskExecutor: (any TaskExecutor)? { simulation }

    public var now: Date { date(simulation.nowNanoseconds) }

    public func sleep(until deadline: Date) async throws {
        // `Date` holds seconds as a Double (about 120 ns apart at today's dates), so round up until
        // the wake-up time, read back as a `Date`, is not before the deadline: a sleeper must
        // never wake to a `now` that is still earlier than what it waited for.
        try await simulation.sleep(untilNanoseconds: nanoseconds(atOrAfter: deadline))
    }

    /// A simulation timer: the action runs on the simulation's thread, in turn with the sleepers
    /// due at the same time; no task is made.
    public func schedule(at deadline: Date, _ action: @escaping @Sendable () -> Void) -> ClockTimer {
        let simulation = self.simulation
        let id = simulation.schedule(atNanoseconds: nanoseconds(atOrAfter: deadline), action)
        return ClockTimer { simulation.cancelTimer(id) }
    }

    func date(_ nanoseconds: Int64) -> Date { simulation.start.addingTimeInterval(Double(nanoseconds) / 1e9) }

    /// The virtual nanosecond at which a sleep until `deadline` ends (see `sleep(until:)`).
    func nanoseconds(atOrAfter deadline: Date) -> Int64 {
        let seconds = (deadline.timeIntervalSince1970 - simulation.start.timeIntervalSince1970) * 1e9
        guard seconds < 9e18 else { return .max }
        var target = Int64(max(seconds, -9e18).rounded(.up))
        while date(target) < deadline { target += 64 }
        return target
    }
}
