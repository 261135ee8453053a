public import Foundation
import Synchronization

/// Wakes waiters when something changes: a generation counter and the continuations of the
/// tasks waiting for it to move. Waiting is cancellable (a cancelled waiter returns at once) and
/// needs no clock, so it behaves the same in virtual time and in real time. Used for the
/// simulated node's long polls and for the requestor's queues (drafts, tasks, stops), and as a
/// one-shot event (`fire`/`wait`: once fired, every wait returns at once).
public final class ChangeSignal: Sendable {
    private struct State {
        var generation = 0
        /// In the order they started waiting.
        var waiters: [(id: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var nextId = 0

        /// Takes waiter `id` out, if it is still waiting.
        mutating func remove(_ id: Int) -> CheckedContinuation<Void, Never>? {
            guard let i = waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return waiters.remove(at: i).continuation
        }
    }
    private let state = Mutex(State())

    public init() {}

    /// The number of changes so far.
    public var generation: Int { state.withLock { $0.generation } }

    /// Wakes every waiter, in the order they started waiting.
    public func notify() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.generation += 1
            defer { s.waiters.removeAll(keepingCapacity: true) }
            return s.waiters.map(\.continuation)
        }
        for w in waiters { w.resume() }
    }

    /// Returns when the generation moves past `generation` (at once if it has), or when the
    /// waiting task is cancelled.
    public func changed(after generation: Int) async {
        await wait(after: generation, timer: nil)
    }

    /// Waits for a change after `generation` or until `deadline` on `clock`, whichever is first:
    /// one continuation, resumed by `notify` or by a timer of the clock (in virtual time no task
    /// is made for the timeout).
    public func wait(after generation: Int, until deadline: Date, clock: any GolemClock) async {
        await wait(after: generation) { wake in clock.schedule(at: deadline, wake) }
    }

    /// The wait itself: one continuation, registered unless the generation already moved or
    /// the task is cancelled, and resumed once by whichever comes first of `notify`,
    /// cancellation and the timer `timer` sets (if any) with the wake-up it is given.
    private func wait(
        after generation: Int, timer makeTimer: ((@escaping @Sendable () -> Void) -> ClockTimer)?
    ) async {
        let id = state.withLock { s -> Int in
            s.nextId += 1
            return s.nextId
        }
        let timer = WaitTimer()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.generation != generation || Task.isCancelled { return true }
                    s.waiters.append((id, c))
                    return false
                }
                if resumeNow { c.resume(); return }
                guard let makeTimer else { return }
                timer.set(makeTimer { [self] in state.withLock { $0.remove(id) }?.resume() })
            }
        } onCancel: {
            state.withLock { $0.remove(id) }?.resume()
        }
        timer.finish()
    }

    // MARK: One-shot use

    /// Marks the event as happened (the first change).
    public func fire() { notify() }

    /// Whether `fire` (or any `notify`) happened.
    public var fired: Bool { generation > 0 }

    /// Returns once the event has happened, or when the waiting task is cancelled.
    public func wait() async { await changed(after: 0) }
}
