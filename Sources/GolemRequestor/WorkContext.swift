public import YagnaAPI
import GolemTime
import Foundation

/// A provider's activity as a worker sees it: build scripts and hand them to the engine.
public struct WorkContext: Sendable {
    public let activityId: String
    public let agreementId: String
    /// The provider's name (or id when it has none).
    public let provider: String
    public let providerId: String
    /// The provider's offer as agreed (its properties: pricing, usage vector, capabilities).
    public let offer: Properties
    let golem: Golem
    /// The instance's place in the service's network (`ServiceOptions.network`), if any.
    public internal(set) var network: NetworkMembership? = nil

    /// A new, empty script.
    public func newScript(timeout: Duration? = nil, resultMode: ResultMode? = nil) -> Script {
        let script = Script(timeout: timeout)
        script.resultMode = resultMode
        return script
    }

    /// Runs a script on the provider and returns each command's outcome. The Swift
    /// counterpart of the work generator's `yield`.
    ///
    /// - Throws: `CommandError` when a command fails (its future and those after it fail too),
    ///   `BatchTimeout` when the script's timeout passes, `YagnaError` when the daemon fails.
    @discardableResult
    public func execute(_ script: Script) async throws -> [CommandOutcome] {
        try await golem.execute(script, on: self)
    }
}

/// A script did not finish within its timeout.
public struct BatchTimeout: Error, CustomStringConvertible {
    public var batchId: String
    public var timeout: Duration
    public var description: String { "batch \(batchId) did not finish within \(timeout)" }
}

/// The activity ended under the script (the provider terminated it).
public struct ActivityTerminated: Error, CustomStringConvertible {
    public var activityId: String
    public var reason: String
    public var description: String { "activity \(activityId) was terminated: \(reason)" }
}

extension Golem {
    func execute(_ script: Script, on ctx: WorkContext) async throws -> [CommandOutcome] {
        // One copy of the commands for the whole batch: steps added meanwhile (from another
        // task) belong to no batch sent here.
        let steps = script.steps
        var commands: [ExeScriptCommand] = []
        do {
            for step in steps { commands.append(try await step.prepare?(storage) ?? step.command) }
        } catch {
            for step in steps { await step.resolve(.failure(error)) }
            throw error
        }
        let activity = yagna.activity
        let results: [ExeScriptCommandResult]
        let batchId: String
        do {
            // A refused exec fails every step with the daemon's answer, as a failed poll does.
            batchId = try await activity.exec(ctx.activityId, commands: commands)
            emit(.scriptSent(provider: ctx.provider, batchId: batchId, commands: commands.count))
            if (script.resultMode ?? configuration.resultMode) == .stream {
                results = try await streamResults(ctx, batchId: batchId, count: commands.count, timeout: script.timeout)
            } else {
                results = try await pollResults(ctx, batchId: batchId, count: commands.count, timeout: script.timeout)
            }
        } catch {
            for step in steps { await step.resolve(.failure(error)) }
            throw error
        }
        var outcomes: [CommandOutcome] = []
        var failure: CommandError?
        for (i, step) in steps.enumerated() {
            if let failure {
                await step.resolve(.failure(failure))
                continue
            }
            guard let r = results.first(where: { $0.index == i }) else {
                failure = CommandError(command: commands[i].name, index: i, message: "no result", provider: ctx.provider)
                await step.resolve(.failure(failure!))
                continue
            }
            let outcome = CommandOutcome(index: i, stdout: r.stdout?.text, stderr: r.stderr?.text, message: r.message)
            if r.result == .error {
                let e = CommandError(
                    command: Self.describe(commands[i]), index: i, message: r.message ?? "failed", stdout: outcome.stdout, stderr: outcome.stderr,
                    provider: ctx.provider)
                emit(.commandFailed(provider: ctx.provider, command: e.command, message: e.message))
                failure = e
                await step.resolve(.failure(e))
            } else {
                outcomes.append(outcome)
                await step.resolve(.success(outcome))
            }
        }
        emit(.scriptFinished(provider: ctx.provider, batchId: batchId))
        if let failure { throw failure }
        return outcomes
    }

    static func describe(_ c: ExeScriptCommand) -> String {
        if case .run(let r) = c { return ([r.entryPoint] + r.args).joined(separator: " ") }
        return c.name
    }

    /// Reads a batch's results from its SSE stream: each command's output as it comes, its
    /// end from the `finished` event. A stream that ends early or cannot be opened hands over
    /// to polling, which picks up every result.
    func streamResults(_ ctx: WorkContext, batchId: String, count: Int, timeout: Duration?) async throws -> [ExeScriptCommandResult] {
        let clock = self.clock
        let yagna = self.yagna
        let deadline = timeout.map { clock.now.adding($0) }
        let streamed: [ExeScriptCommandResult]? = try await withThrowingTaskGroup(of: [ExeScriptCommandResult]?.self) { group in
            group.addTask {
                var stdout: [Int: String] = [:]
                var stderr: [Int: String] = [:]
                var results: [ExeScriptCommandResult] = []
                do {
                    for try await event in try await yagna.activity.streamResults(ctx.activityId, batchId: batchId) {
                        switch event.kind {
                        case .stdout(let out): stdout[event.index, default: ""] += out.text
                        case .stderr(let out): stderr[event.index, default: ""] += out.text
                        case .finished(let code, let message):
                            let failed = code != 0
                            results.append(ExeScriptCommandResult(
                                index: event.index, eventDate: event.timestamp, result: failed ? .error : .ok,
                                stdout: stdout[event.index].map { .text($0) }, stderr: stderr[event.index].map { .text($0) },
                                message: failed ? (message ?? "exited with code \(code)") : message,
                                isBatchFinished: failed || event.index == count - 1))
                            if failed || event.index == count - 1 { return results }
                        case .started, .progress: break
                        }
                    }
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    return nil  // the stream failed: poll instead
                }
                return nil  // the stream ended before the batch: poll instead
            }
            if let timeout {
                group.addTask {
                    try await clock.sleep(for: timeout)
                    throw BatchTimeout(batchId: batchId, timeout: timeout)
                }
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        if let streamed { return streamed }
        // Polling takes over with what is left of the batch's timeout.
        return try await pollResults(ctx, batchId: batchId, count: count, timeout: deadline.map { clock.now.duration(to: $0) })
    }

    /// Polls a batch until its last command (or an error) is reported, like yapapi: 5 s polls,
    /// 408 and intermittent errors retried, GSB errors retried three times.
    func pollResults(_ ctx: WorkContext, batchId: String, count: Int, timeout: Duration?) async throws -> [ExeScriptCommandResult] {
        var poll = BatchPoll(count: count, deadline: timeout.map { clock.now.adding($0) })
        while true {
            if poll.beforePoll(now: clock.now) == .timedOut { throw BatchTimeout(batchId: batchId, timeout: timeout!) }
            let action: BatchPoll.Action
            var results: [ExeScriptCommandResult] = []
            do {
                results = try await yagna.activity.results(ctx.activityId, batchId: batchId, timeout: poll.pollTimeout)
                action = poll.onResults(results)
            } catch let e as YagnaError {
                action = poll.onError(e)
                if action == .fail {
                    if let state = try? await yagna.activity.state(ctx.activityId), state.current == .terminated {
                        throw ActivityTerminated(activityId: ctx.activityId, reason: state.reason ?? e.description)
                    }
                    throw e
                }
            }
            switch action {
            case .done: return results
            case .pause(let pause): try await clock.sleep(for: pause)
            case .poll, .timedOut, .fail: break
            }
        }
    }
}
