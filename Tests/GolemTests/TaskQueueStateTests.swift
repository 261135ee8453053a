@testable import GolemRequestor
import Testing

/// The task queue's rules, sans I/O: no clock, no workers.
@Suite struct TaskQueueStateTests {
    func take(_ q: inout TaskQueueState<String>) -> TaskHandle<String>? {
        if case .task(let t) = q.next() { return t }
        return nil
    }

    @Test func tasksGoOutInOrderAndARetriedOneGoesFirst() throws {
        var q = TaskQueueState(["a", "b", "c"])
        let a = try #require(take(&q)), b = try #require(take(&q))
        #expect(a.id == 0 && b.id == 1 && a.attempt == 1 && q.inFlight == 2)
        q.retry(a, maxAttempts: 3, reason: "boom")
        let again = try #require(take(&q))
        #expect(again.id == 0 && again.attempt == 2 && again.data == "a")
        #expect(take(&q)?.id == 2)
        // Nothing pending, three in flight: wait, they may come back.
        guard case .wait = q.next() else { Issue.record("expected .wait"); return }
        q.complete(); q.complete()
        guard case .wait = q.next() else { Issue.record("expected .wait with one in flight"); return }
        q.complete()
        guard case .finished = q.next() else { Issue.record("expected .finished"); return }
        #expect(q.done == 3 && q.finished && q.failure == nil)
    }

    @Test func triesRunOutAndTheJobFails() throws {
        var q = TaskQueueState(["x", "y"])
        var t = try #require(take(&q))
        for attempt in 1...2 {
            #expect(t.attempt == attempt)
            q.retry(t, maxAttempts: 3, reason: "try \(attempt)")
            t = try #require(take(&q))
        }
        q.retry(t, maxAttempts: 3, reason: "third")
        guard case .taskFailed(let id, let attempts, let reason)? = q.failure else { Issue.record("no failure"); return }
        #expect(id == 0 && attempts == 3 && reason == "third")
        // A failed job hands out nothing, even with tasks pending.
        guard case .finished = q.next() else { Issue.record("expected .finished"); return }
        #expect(q.finished && q.pending.count == 1)
    }

    @Test func theFirstFailureStays() {
        var q = TaskQueueState(["x"])
        q.fail(.timedOut(after: .seconds(5), done: 0, total: 1))
        q.fail(.marketFailed("later"))
        guard case .timedOut? = q.failure else { Issue.record("the first failure was replaced: \(String(describing: q.failure))"); return }
    }

    @Test func anEmptyJobIsFinishedAtOnce() {
        var q = TaskQueueState([String]())
        guard case .finished = q.next() else { Issue.record("expected .finished"); return }
        #expect(q.total == 0 && q.finished)
    }
}
