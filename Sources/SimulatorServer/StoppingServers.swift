public import Hummingbird
public import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// How the project's HTTP servers stop.
///
/// Cancelling Hummingbird's serving task outright can drop a connection the server accepted in
/// that same instant, before its handler took it; NIO then traps the whole process ("Deinited
/// NIOAsyncWriter without calling finish()", swift-nio#2637). So a server here never stops by
/// cancellation alone: being cancelled, or sent SIGINT/SIGTERM, starts a graceful shutdown —
/// the listening socket closes, every connection already accepted is handed to a handler, idle
/// ones close. A server stopped by a signal (`serve`, `record` at a terminal) lets the requests
/// in flight finish, as before (a parked long poll at its timeout: a recording proxy records it
/// as the daemon answered it). An embedded one cancels those still running after `grace`, and
/// if it has still not stopped after three times that (a graceful shutdown can stall when a
/// connection arrives as the socket closes), the caller stops waiting for it, with a warning,
/// rather than hang.
public enum StoppingServers {
    /// How long requests in flight may still run once an embedded server (one that handles no
    /// signals) is asked to stop.
    public static let grace: Duration = .seconds(1)

    /// Runs `app` until the calling task is cancelled or (with `handleSignals`) the process gets
    /// SIGINT or SIGTERM, then stops it gracefully (see the type's description; with
    /// `handleSignals` nothing in flight is cut short). Returns once it has stopped (`true`) or
    /// been given up on (`false`: its connections may still be open); throws what the server
    /// threw (a port already taken, for instance).
    @discardableResult
    public static func run(
        _ app: some ApplicationProtocol, handleSignals: Bool, logger: Logger
    ) async throws -> Bool {
        var configuration = ServiceGroupConfiguration(services: [.init(service: app)], gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger)
        configuration.maximumGracefulShutdownDuration = handleSignals ? nil : grace
        let group = ServiceGroup(configuration: configuration)
        // Not a child task: the caller's cancellation must reach the server as a graceful
        // shutdown, not as the cancellation that drops accepted connections.
        let running = Task { try await group.run() }
        let outcome = Outcome()
        Task { outcome.settle(await running.result.map { true }) }
        return try await withTaskCancellationHandler {
            try await outcome.wait()
        } onCancel: {
            Task {
                await group.triggerGracefulShutdown()
                // The group cancels the server's requests after `grace`; past three times that
                // the server is cancelled, then given up on.
                try? await Task.sleep(for: grace * 3)
                guard !outcome.isSettled else { return }
                running.cancel()
                try? await Task.sleep(for: grace)
                if outcome.settle(.success(false)) {
                    logger.warning("the server did not stop within \(grace * 4) of being asked to; it is left to stop on its own")
                }
            }
        }
    }

    /// The server's end, or the caller's giving up on it: whichever comes first.
    final class Outcome: Sendable {
        private let state = Mutex<(result: Result<Bool, any Error>?, waiter: CheckedContinuation<Bool, any Error>?)>((nil, nil))

        var isSettled: Bool { state.withLock { $0.result != nil } }

        /// Records `result` (whether the server stopped) and wakes the waiter; false if an
        /// outcome was already recorded.
        @discardableResult
        func settle(_ result: Result<Bool, any Error>) -> Bool {
            let waiter: CheckedContinuation<Bool, any Error>?? = state.withLock { s in
                guard s.result == nil else { return .none }
                s.result = result
                defer { s.waiter = nil }
                return .some(s.waiter)
            }
            guard case .some(let w) = waiter else { return false }
            w?.resume(with: result)
            return true
        }

        /// Whether the server stopped (`false`: given up on), once one or the other happened.
        func wait() async throws -> Bool {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Bool, any Error>) in
                let done: Result<Bool, any Error>? = state.withLock { s in
                    if s.result == nil { s.waiter = c }
                    return s.result
                }
                if let done { c.resume(with: done) }
            }
        }
    }
}
