import Synchronization
import GolemTime
import Foundation

/// Wakes long polls when the node's state changes, or when their clock deadline passes.
final class ChangeNotifier: Sendable {
    private struct State {
        var generation = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextId = 0
    }
    private let state = Mutex(State())

    var generation: Int { state.withLock { $0.generation } }

    /// Wakes every waiter.
    func notify() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.generation += 1
            let list = s.waiters.sorted { $0.key < $1.key }.map(\.value)
            s.waiters.removeAll()
            return list
        }
        for w in waiters { w.resume() }
    }

    /// Returns when the generation moves past `generation` (or at once if it has), or on cancellation.
    func changed(after generation: Int) async {
        let id = state.withLock { s -> Int in
            s.nextId += 1
            return s.nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.generation != generation || Task.isCancelled { return true }
                    s.waiters[id] = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            let c = state.withLock { $0.waiters.removeValue(forKey: id) }
            c?.resume()
        }
    }

    /// Waits for a change after `generation` or until `deadline` on `clock`, whichever is first.
    func wait(after generation: Int, until deadline: Date, clock: any GolemClock) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(until: deadline) }
            group.addTask { await self.changed(after: generation) }
            _ = await group.next()
            group.cancelAll()
        }
    }
}
