public import YagnaAPI
import GolemTime

/// A long-running process on a provider, driven through the same `WorkContext`/`Script`
/// mechanics as tasks. Override the phases you need; the defaults follow the seeds:
/// `start` deploys and starts, `run` waits until stopped, `shutdown` terminates.
///
/// ```swift
/// struct Stats: Service {
///     func run(_ ctx: WorkContext) async throws {
///         while true {
///             try await ctx.sleep(for: .seconds(10))
///             let script = ctx.newScript()
///             let stats = script.run("/golem/run/simple_service.py", "--stats")
///             try await ctx.execute(script)
///             print(try await stats.value.stdout ?? "")
///         }
///     }
/// }
/// ```
public protocol Service: Sendable {
    /// Prepares the instance: by default `deploy` (with the service's network, if any) then `start`.
    func start(_ ctx: WorkContext) async throws
    /// The instance's work while running; returning (or throwing) moves it to stopping.
    /// By default it waits until the instance is stopped.
    func run(_ ctx: WorkContext) async throws
    /// Cleans up while the activity is alive: by default `terminate`. Not run when the provider
    /// ended the instance abruptly.
    func shutdown(_ ctx: WorkContext) async throws
}

extension Service {
    public func start(_ ctx: WorkContext) async throws {
        let script = ctx.newScript()
        script.deploy(network: ctx.network.map { [$0.deploy] })
        script.start()
        try await ctx.execute(script)
    }

    public func run(_ ctx: WorkContext) async throws {
        while true { try await ctx.sleep(for: .seconds(3600)) }
    }

    public func shutdown(_ ctx: WorkContext) async throws {
        let script = ctx.newScript()
        script.terminate()
        try await ctx.execute(script)
    }
}

extension WorkContext {
    /// Sleeps on the engine's clock (virtual in simulations).
    public func sleep(for duration: Duration) async throws { try await golem.clock.sleep(for: duration) }

    /// The activity's current state (`GET /activity/{id}/state`).
    public func state() async throws -> ActivityStateResponse { try await golem.yagna.activity.state(activityId) }
}

/// What an instance is given when it is made: its number and the parameters passed for it.
public struct InstanceContext: Sendable, Hashable {
    public var index: Int
    public var parameters: [String: String]
}
