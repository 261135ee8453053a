public import Hummingbird
public import Logging
import ServiceLifecycle
import UnixSignals

/// How the project's HTTP servers stop.
///
/// Cancelling Hummingbird's serving task outright can drop a connection the server accepted in
/// that same instant, before its handler took it; NIO then traps the whole process ("Deinited
/// NIOAsyncWriter without calling finish()", swift-nio#2637). So a server here never stops by
/// cancellation alone: being cancelled, or sent SIGINT/SIGTERM, starts a graceful shutdown —
/// the listening socket closes, every connection already accepted is handed to a handler, idle
/// ones close — and only requests still running after `grace` (a parked long poll) are
/// cancelled.
public enum StoppingServers {
    /// How long requests in flight may still run once a server is asked to stop.
    public static let grace: Duration = .seconds(1)

    /// Runs `app` until the calling task is cancelled or (with `handleSignals`) the process gets
    /// SIGINT or SIGTERM, then stops it gracefully (see the type's description). Returns once it has stopped;
    /// throws what the server threw (a port already taken, for instance).
    public static func run(
        _ app: some ApplicationProtocol, handleSignals: Bool, grace: Duration = grace, logger: Logger
    ) async throws {
        var configuration = ServiceGroupConfiguration(services: [.init(service: app)], gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger)
        configuration.maximumGracefulShutdownDuration = grace
        let group = ServiceGroup(configuration: configuration)
        // Not a child task: the caller's cancellation must reach the server as a graceful
        // shutdown, not as the cancellation that drops accepted connections.
        let running = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await running.value
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    }
}
