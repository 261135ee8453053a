public import Foundation

/// The time source every component of the project takes instead of `Date()` and `Task.sleep`.
///
/// `SystemClock` is real time (optionally sped up); `VirtualClock` is the simulation's clock,
/// which jumps to the next deadline whenever every task is idle.
public protocol GolemClock: Sendable {
    /// The current wall time.
    var now: Date { get }
    /// Suspends the caller until `deadline` (or throws `CancellationError` when cancelled).
    func sleep(until deadline: Date) async throws
}

extension GolemClock {
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
