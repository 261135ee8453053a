import YagnaAPI
import GolemTime
import Foundation

/// One task of a batch, as a worker sees it.
public struct TaskHandle<Data: Sendable>: Sendable {
    public let id: Int
    public let data: Data
    /// 1 on the first try, 2 on the first retry, …
    public let attempt: Int
}

/// An accepted task and its result.
public struct TaskResult<Data: Sendable, Value: Sendable>: Sendable {
    public let id: Int
    public let data: Data
    public let value: Value
    public let provider: String
    public let attempts: Int
}

/// Thrown by a worker to reject a task's result: retried (on any provider) when `retry` is true
/// and retries are left, else the task fails the job.
public struct TaskRejected: Error, Sendable {
    public var reason: String
    public var retry: Bool
    public init(_ reason: String, retry: Bool = true) {
        self.reason = reason
        self.retry = retry
    }
}

/// Why a batch of tasks could not complete.
public enum TaskJobError: Error, CustomStringConvertible, Sendable {
    case noOffers(after: Duration)
    case allProvidersFailed(count: Int)
    case marketFailed(String)
    case timedOut(after: Duration, done: Int, total: Int)
    case taskFailed(id: Int, attempts: Int, reason: String)

    public var description: String {
        switch self {
        case .noOffers(let d):
            "no provider offered an agreement within \(d): check the subnet, the payload's constraints and the price caps"
        case .allProvidersFailed(let count):
            "every provider that offered (\(count)) failed in this job and was excluded; see the task rejections for why"
        case .marketFailed(let reason): "the market failed: \(reason)"
        case .timedOut(let d, let done, let total): "the job timed out after \(d) with \(done) of \(total) tasks done"
        case .taskFailed(let id, let attempts, let reason): "task \(id) failed after \(attempts) attempt(s): \(reason)"
        }
    }
}

/// A task job's queue as a sans-I/O state machine: which task goes out next, what comes back,
/// when tries run out, when the job is done. No clock, no waiting: `TaskQueue` waits around it.
struct TaskQueueState<Data: Sendable>: Sendable {
    enum Next: Sendable {
        /// Run this task (now in flight).
        case task(TaskHandle<Data>)
        /// Nothing pending, but tasks in flight may come back: wait for a change.
        case wait
        /// Every task is done, or the job failed.
        case finished
    }

    private(set) var pending: [TaskHandle<Data>]
    private(set) var inFlight = 0
    private(set) var done = 0
    let total: Int
    private(set) var failure: TaskJobError?

    init(_ data: [Data]) {
        pending = data.enumerated().map { TaskHandle(id: $0.offset, data: $0.element, attempt: 1) }
        total = data.count
    }

    var finished: Bool { failure != nil || (pending.isEmpty && inFlight == 0) }

    mutating func next() -> Next {
        if failure != nil { return .finished }
        if !pending.isEmpty {
            inFlight += 1
            return .task(pending.removeFirst())
        }
        return inFlight == 0 ? .finished : .wait
    }

    /// A task in flight was accepted.
    mutating func complete() {
        inFlight -= 1
        done += 1
    }

    /// A task in flight failed: back to the front of the queue for another try, or, when its
    /// tries are used up, the job fails.
    mutating func retry(_ task: TaskHandle<Data>, maxAttempts: Int, reason: String) {
        inFlight -= 1
        if task.attempt >= maxAttempts {
            fail(.taskFailed(id: task.id, attempts: task.attempt, reason: reason))
        } else {
            pending.insert(TaskHandle(id: task.id, data: task.data, attempt: task.attempt + 1), at: 0)
        }
    }

    /// The job failed (the first failure stays).
    mutating func fail(_ error: TaskJobError) {
        if failure == nil { failure = error }
    }
}

/// The queue of a task job shared by its workers: `TaskQueueState` behind an actor, with the
/// waits signalled.
actor TaskQueue<Data: Sendable> {
    private var state: TaskQueueState<Data>
    /// Fired when the job fails, so that its running workers are stopped at once.
    nonisolated let failed = ChangeSignal()
    /// Moves on every change a waiting `next` cares about (signalled, not polled).
    nonisolated let changes = ChangeSignal()
    /// The job's number in its engine (task events carry it).
    nonisolated let job: Int
    nonisolated let total: Int

    init(_ data: [Data], job: Int) {
        self.job = job
        state = TaskQueueState(data)
        total = data.count
    }

    var finished: Bool { state.finished }
    var done: Int { state.done }
    var failure: TaskJobError? { state.failure }

    /// The next task, waiting while others are in flight (they may come back); `nil` when all are
    /// done, the job failed, or the waiting task is cancelled.
    func next() async -> TaskHandle<Data>? {
        while !Task.isCancelled {
            let generation = changes.generation
            switch state.next() {
            case .task(let task): return task
            case .finished: return nil
            // Woken when a task comes back, the last one in flight ends, or the job fails.
            case .wait: await changes.changed(after: generation)
            }
        }
        return nil
    }

    func complete() {
        state.complete()
        changes.notify()
    }

    func retry(_ task: TaskHandle<Data>, maxAttempts: Int, reason: String) {
        state.retry(task, maxAttempts: maxAttempts, reason: reason)
        if state.failure != nil { failed.fire() }
        changes.notify()
    }

    func fail(_ error: TaskJobError) {
        state.fail(error)
        failed.fire()
        changes.notify()
    }
}

extension Golem {
    /// Runs a batch of tasks over up to `maxWorkers` providers and returns the accepted results
    /// in the order they were accepted.
    ///
    /// A worker gets a `WorkContext` on a provider's activity and one task; it returns the
    /// task's result (accepting it) or throws `TaskRejected` (rejecting it). A task whose
    /// provider fails (a command error, a terminated agreement, a timeout) goes back to the
    /// queue and runs elsewhere; the failed provider is excluded for the rest of the job. No
    /// task is lost or returned twice.
    ///
    /// - Parameters:
    ///   - maxAttempts: tries per task before the job fails.
    ///   - taskTimeout: the most one try may take.
    ///   - timeout: the most the whole job may take.
    ///   - offerTimeout: how long to wait for a first usable offer before failing with `.noOffers`.
    ///   - onAccepted: called with each result as it is accepted.
    public func executeTasks<Data: Sendable, Value: Sendable>(
        _ data: [Data], payload: VMPayload, maxWorkers: Int = 5, maxAttempts: Int = 3, taskTimeout: Duration? = nil,
        timeout: Duration = .seconds(15 * 60), offerTimeout: Duration = .seconds(60),
        worker: @escaping @Sendable (WorkContext, TaskHandle<Data>) async throws -> Value,
        onAccepted: @escaping @Sendable (TaskResult<Data, Value>) async -> Void = { _ in }
    ) async throws -> [TaskResult<Data, Value>] {
        jobCount += 1
        let queue = TaskQueue(data, job: jobCount)
        let pool = OfferPool()
        let results = ResultsBox<TaskResult<Data, Value>>()
        emit(.jobStarted(job: queue.job, tasks: data.count))
        let clock = self.clock
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // A market that fails (the demand cannot be subscribed, say) fails the job at once.
                do {
                    try await self.negotiate(
                        payload: payload, expiration: self.configuration.demandExpiration, pool: pool, reusable: String(describing: payload))
                } catch is CancellationError {
                } catch {
                    await queue.fail(.marketFailed("\(error)"))
                    await pool.close()
                }
            }
            group.addTask {
                // Job timeout and the no-offers check.
                let start = clock.now
                // The job's timeout counts even when it is shorter than the wait for offers.
                do { try await clock.sleep(for: min(offerTimeout, timeout)) } catch { return }
                if offerTimeout < timeout, await pool.context.confirmedProviders.isEmpty, await queue.done == 0, await !queue.finished {
                    let failed = await pool.context.failedProviders.count
                    await queue.fail(failed > 0 ? .allProvidersFailed(count: failed) : .noOffers(after: offerTimeout))
                    await pool.close()
                    return
                }
                do { try await clock.sleep(until: start.adding(timeout)) } catch { return }
                if await !queue.finished {
                    await queue.fail(.timedOut(after: timeout, done: await queue.done, total: queue.total))
                    await pool.close()
                }
            }
            // A job that fails (timed out, a task out of tries, the market gone) cancels its
            // running workers; they end their batches and clean up, shielded from that cancellation.
            let count = max(1, min(maxWorkers, data.count))
            await withTaskGroup(of: Bool.self) { workers in
                for _ in 0..<count {
                    workers.addTask {
                        await self.workerLoop(queue: queue, pool: pool, payloadKey: String(describing: payload), maxAttempts: maxAttempts, taskTimeout: taskTimeout, worker: worker) { r in
                            results.append(r)
                            await onAccepted(r)
                        }
                        return true
                    }
                }
                workers.addTask {
                    await queue.failed.wait()
                    return false
                }
                var running = count
                while let workerEnded = await workers.next() {
                    if workerEnded {
                        running -= 1
                        if running == 0 { workers.cancelAll() }
                    } else if !Task.isCancelled {
                        workers.cancelAll()
                    }
                }
            }
            await pool.close()
            group.cancelAll()
        }
        let failure = await queue.failure
        emit(.jobFinished(job: queue.job, failure: failure.map { "\($0)" }))
        if let failure { throw failure }
        return results.values
    }

    func workerLoop<Data: Sendable, Value: Sendable>(
        queue: TaskQueue<Data>, pool: OfferPool, payloadKey: String, maxAttempts: Int, taskTimeout: Duration?,
        worker: @escaping @Sendable (WorkContext, TaskHandle<Data>) async throws -> Value,
        accepted: @escaping @Sendable (TaskResult<Data, Value>) async -> Void
    ) async {
        while await !queue.finished {
            let draft: Draft
            let agreementId: String
            if let reused = takeParked(payloadKey: payloadKey) {
                // A multi-activity agreement an earlier job left open: a new activity on it.
                draft = reused.draft
                agreementId = reused.id
                await pool.reserve(draft.proposal.issuerId)
                emit(.agreementReused(provider: draft.name, agreementId: agreementId))
            } else {
                guard let taken = await pool.take() else { return }
                draft = taken
                do { agreementId = try await agree(draft) } catch {
                    // A provider at its agreement limit is busy, not failed: it is offered again
                    // once an agreement of its ends.
                    let busy = (error as? YagnaError)?.message?.hasPrefix("No capacity available") == true
                    await pool.release(draft.proposal.issuerId, failed: !busy)
                    continue
                }
            }
            var failed = false
            do {
                let activityId = try await yagna.activity.create(.legacy(agreementId: agreementId))
                track(activity: activityId)
                emit(.activityCreated(provider: draft.name, activityId: activityId))
                let ctx = WorkContext(activityId: activityId, agreementId: agreementId, provider: draft.name, providerId: draft.proposal.issuerId, offer: draft.proposal.properties, golem: self)
                failed = await runTasks(ctx, queue: queue, maxAttempts: maxAttempts, taskTimeout: taskTimeout, worker: worker, accepted: accepted)
                // Shielded: a cancelled job's activities are destroyed on the daemon too.
                let yagna = self.yagna
                await clock.shielded(limit: configuration.cleanupLimit) { try? await yagna.activity.destroy(activityId) }
                untrack(activity: activityId)
                emit(.activityDestroyed(provider: draft.name, activityId: activityId))
            } catch {
                emit(.activityCreateFailed(provider: draft.name, reason: "\(error)"))
                failed = true
            }
            // Idle workers wait for drafts: once every task is done, let them go.
            if await queue.finished { await pool.close() }
            let after = AgreementAfterWork.decide(
                providerFailed: failed, cancelled: Task.isCancelled, jobFailed: await queue.failure != nil,
                multiActivity: draft.proposal.properties["golem.srv.caps.multi-activity"]?.boolValue == true)
            switch after {
            case .park:
                // Kept for the next job (and terminated at shutdown), as yapapi's agreements pool does.
                park(agreementId, draft: draft, payloadKey: payloadKey)
            case .end(let success):
                await clock.shielded(limit: configuration.cleanupLimit) { await self.endAgreement(agreementId, provider: draft.name, success: success) }
            }
            if failed { emit(.providerExcluded(provider: draft.name, reason: "failed in this job")) }
            await pool.release(draft.proposal.issuerId, failed: failed)
        }
    }

    /// Deploys and runs tasks on one activity; returns whether the provider failed.
    func runTasks<Data: Sendable, Value: Sendable>(
        _ ctx: WorkContext, queue: TaskQueue<Data>, maxAttempts: Int, taskTimeout: Duration?,
        worker: @escaping @Sendable (WorkContext, TaskHandle<Data>) async throws -> Value,
        accepted: @escaping @Sendable (TaskResult<Data, Value>) async -> Void
    ) async -> Bool {
        let setup = ctx.newScript()
        setup.deploy()
        setup.start()
        do { try await ctx.execute(setup) } catch { return true }
        while let task = await queue.next() {
            emit(.taskStarted(job: queue.job, taskId: task.id, provider: ctx.provider))
            do {
                let value = try await withTimeout(taskTimeout) { try await worker(ctx, task) }
                await queue.complete()
                emit(.taskAccepted(job: queue.job, taskId: task.id, provider: ctx.provider))
                await accepted(TaskResult(id: task.id, data: task.data, value: value, provider: ctx.provider, attempts: task.attempt))
            } catch let rejection as TaskRejected {
                emit(.taskRejected(job: queue.job, taskId: task.id, provider: ctx.provider, reason: rejection.reason, retry: rejection.retry))
                await queue.retry(task, maxAttempts: rejection.retry ? maxAttempts : task.attempt, reason: rejection.reason)
            } catch where Task.isCancelled {
                // The job was cancelled: the task ends unfinished, not through a fault of the provider.
                emit(.taskCancelled(job: queue.job, taskId: task.id, provider: ctx.provider))
                return false
            } catch {
                emit(.taskRejected(job: queue.job, taskId: task.id, provider: ctx.provider, reason: "\(error)", retry: true))
                await queue.retry(task, maxAttempts: maxAttempts, reason: "\(error)")
                return true
            }
        }
        return false
    }

    /// Runs `body`, failing with `TaskTimeout` if it takes longer than `timeout` on the clock.
    func withTimeout<T: Sendable>(_ timeout: Duration?, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let timeout else { return try await body() }
        let clock = self.clock
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await clock.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw TaskTimeout(timeout: timeout) }
            return value
        }
    }
}

/// A task try ran out of time.
public struct TaskTimeout: Error, CustomStringConvertible {
    public var timeout: Duration
    public var description: String { "the task took longer than \(timeout)" }
}

import Synchronization

final class ResultsBox<T: Sendable>: Sendable {
    private let m = Mutex<[T]>([])
    func append(_ v: T) { m.withLock { $0.append(v) } }
    var values: [T] { m.withLock { $0 } }
}

extension Golem {
    /// Runs a batch of tasks and hands `consume` the accepted results as an `AsyncSequence`,
    /// as they are accepted, while the job runs beside it. Returns what `consume` returns; if
    /// `consume` returns before the job ends, the rest of the job is cancelled (and cleaned up).
    ///
    /// ```swift
    /// let total = try await golem.executeTasks(Array(1...10), payload: image, worker: { ctx, task in … }) { results in
    ///     var sum = 0
    ///     for try await result in results { sum += result.value }
    ///     return sum
    /// }
    /// ```
    public func executeTasks<Data: Sendable, Value: Sendable, R: Sendable>(
        _ data: [Data], payload: VMPayload, maxWorkers: Int = 5, maxAttempts: Int = 3, taskTimeout: Duration? = nil,
        timeout: Duration = .seconds(15 * 60), offerTimeout: Duration = .seconds(60),
        worker: @escaping @Sendable (WorkContext, TaskHandle<Data>) async throws -> Value,
        consume: @escaping @Sendable (AsyncThrowingStream<TaskResult<Data, Value>, any Error>) async throws -> R
    ) async throws -> R {
        let (results, sink) = AsyncThrowingStream<TaskResult<Data, Value>, any Error>.makeStream()
        return try await withThrowingTaskGroup(of: R?.self) { group in
            group.addTask {
                do {
                    _ = try await self.executeTasks(
                        data, payload: payload, maxWorkers: maxWorkers, maxAttempts: maxAttempts, taskTimeout: taskTimeout, timeout: timeout,
                        offerTimeout: offerTimeout, worker: worker, onAccepted: { sink.yield($0) })
                    sink.finish()
                } catch {
                    sink.finish(throwing: error)
                }
                return nil
            }
            group.addTask { try await consume(results) }
            while let next = try await group.next() {
                if let value = next {
                    group.cancelAll()
                    return value
                }
            }
            throw CancellationError()
        }
    }
}
