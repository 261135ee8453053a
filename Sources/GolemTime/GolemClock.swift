public import Foundation
import Synchronization

/// The time source every component of the project takes instead of `Date()` and `Task.sleep`.
///
/// `SystemClock` is real time (optionally sped up); `VirtualClock` is the simulation's clock,
/// which jumps to the next deadline whenever every task is idle.
public protocol GolemClock: Sendable {
    /// The current wall time.
    var now: Date { get }
    /// Suspends the caller until `deadline` (or throws `CancellationError` when cancelled).
    func sleep(until deadline: Date) async throws
    /// Where work started outside the current task tree must run to stay on this clock's
    /// timeline (a simulation's executor); `nil` for real time.
    var taskExecutor: (any TaskExecutor)? { get }
    /// Runs `action` once the clock reaches `deadline`, unless the returned timer is cancelled
    /// first: a wait that something else usually ends early (a long poll's timeout) without a
    /// sleeping task to cancel.
    func schedule(at deadline: Date, _ action: @escaping @Sendable () -> Void) -> ClockTimer
}

/// A wake-up set with `GolemClock.schedule`.
public struct ClockTimer: Sendable {
    private let cancelAction: @Sendable () -> Void

    public init(cancel: @escaping @Sendable () -> Void) { cancelAction = cancel }

    /// Forgets the wake-up (nothing happens if it already ran).
    public func cancel() { cancelAction() }
}

/// The timer of a wait that may end before its timer is even set (on real threads, a waiter
/// can be resumed between registering and storing its timer): `finish` cancels whatever timer
/// is set, before or after, so no timer outlives its wait.
public final class WaitTimer: Sendable {
    private let state = Mutex<(timer: ClockTimer?, finished: Bool)>((nil, false))

    public init() {}

    /// Keeps `timer` to cancel at `finish`, or cancels it at once if the wait already finished.
    public func set(_ timer: ClockTimer) {
        let late = state.withLock { s -> Bool in
            if s.finished { return true }
            s.timer = timer
            return false
        }
        if late { timer.cancel() }
    }

    /// The wait is over: its timer, set or still to come, is cancelled.
    public func finish() {
        let timer = state.withLock { s -> ClockTimer? in
            s.finished = true
            defer { s.timer = nil }
            return s.timer
        }
        timer?.cancel()
    }
}

extension GolemClock {
    public var taskExecutor: (any TaskExecutor)? { nil }

    /// A task that sleeps until `deadline`, on the clock's executor.
    public func schedule(at deadline: Date, _ action: @escaping @Sendable () -> Void) -> ClockTimer {
        let clock = self
        let task = Task(executorPreference: taskExecutor) {
            guard (try? await clock.sleep(until: deadline)) != nil else { return }
            action()
        }
        return ClockTimer { task.cancel() }
    }

    /// Runs `operation` shielded from the caller's cancellation, for at most `limit` on this
    /// clock: cleanup that must reach the daemon (destroy an activity, end an agreement, release
    /// the allocation) even when a signal, a timeout or a failure cancelled the work it cleans up
    /// after. Returns `nil` when the limit passed first (the operation is then cancelled).
    @discardableResult
    public func shielded<T: Sendable>(limit: Duration, _ operation: @escaping @Sendable () async -> T) async -> T? {
        let clock = self
        // An unstructured task does not inherit the caller's cancellation; awaiting its value
        // does not pass cancellation on. It runs on the clock's executor, so a simulation keeps it.
        return await Task(executorPreference: taskExecutor) {
            await withTaskGroup(of: T?.self) { group in
                group.addTask { await operation() }
                group.addTask {
                    try? await clock.sleep(for: limit)
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
        }.value
    }

    /// Suspends the caller for `duration`.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now.adding(duration))
    }
}

extension Date {
    /// This date moved by a `Duration`.
    public func adding(_ duration: Duration) -> Date {
        addingTimeInterval(duration.timeInterval)
    }

    /// The `Duration` from this date to `other` (negative if `other` is earlier).
    public func duration(to other: Date) -> Duration {
        .nanoseconds(Int64(((other.timeIntervalSince1970 - timeIntervalSince1970) * 1e9).rounded()))
    }
}

extension Duration {
    /// The duration in seconds as a `TimeInterval`.
    public var timeInterval: TimeInterval {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    /// The duration in whole nanoseconds.
    public var totalNanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}

/// Real time, optionally running `speed` times faster than the wall clock: `now` advances
/// `speed` seconds per real second from the moment the clock is made.
public struct SystemClock: GolemClock {
    public let speed: Double
    /// The wall-clock instant the clock started at (where it and the wall clock agree).
    public let origin: Date
    private let start: ContinuousClock.Instant

    public init(speed: Double = 1) {
        precondition(speed > 0, "speed must be positive")
        self.speed = speed
        self.origin = Date()
        self.start = ContinuousClock.now
    }

    public var now: Date {
        let elapsed = ContinuousClock.now - start
        return origin.addingTimeInterval(elapsed.timeInterval * speed)
    }

    public func sleep(until deadline: Date) async throws {
        let wait = now.duration(to: deadline)
        guard wait > .zero else { try Task.checkCancellation(); return }
        try await Task.sleep(for: wait / speed)
    }
}
