public import Foundation
import Dispatch
import Synchronization

/// What the requestors in this process hold open on the daemon right now: agreements not yet
/// ended, activities not destroyed, allocations not released. Read when a process must exit
/// before cleanup finished, to say what was left behind.
public final class GolemLedger: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case agreement, activity, allocation
    }

    public static let shared = GolemLedger()
    private let open = Mutex<[Kind: Set<String>]>([:])

    func open(_ kind: Kind, _ id: String) { _ = open.withLock { $0[kind, default: []].insert(id) } }
    func close(_ kind: Kind, _ id: String) { _ = open.withLock { $0[kind]?.remove(id) } }

    /// Ids still open, by kind.
    public var snapshot: [Kind: Set<String>] { open.withLock { $0.filter { !$0.value.isEmpty } } }

    /// `nothing left open`, or e.g. `left open: 2 agreement(s) (…), 1 allocation(s) (…)`.
    public var summary: String {
        let s = snapshot
        guard !s.isEmpty else { return "nothing left open" }
        return "left open: " + Kind.allCases.compactMap { kind in
            s[kind].map { "\($0.count) \(kind.rawValue)(s) (\($0.sorted().joined(separator: ", ")))" }
        }.joined(separator: ", ")
    }
}

/// Graceful shutdown on signals, as yapapi does: the first SIGINT or SIGTERM cancels the work
/// (`withGolem` then ends agreements, destroys activities, waits a bounded time for invoices and
/// accepts them, and releases the allocation, shielded from that cancellation); a second one
/// exits at once, saying what was left open.
///
/// ```swift
/// do {
///     try await GracefulShutdown.run {
///         try await Golem.withGolem(transport: t, configuration: c) { golem in … }
///     }
/// } catch is GracefulShutdown.Interrupted {
///     exit(130)   // cleaned up; non-zero because the work did not finish
/// }
/// ```
public enum GracefulShutdown {
    /// The work was stopped by a signal (and cleaned up).
    public struct Interrupted: Error, CustomStringConvertible {
        public let signal: Int32
        public var description: String { "interrupted by signal \(signal); cleaned up (\(GolemLedger.shared.summary))" }
    }

    /// Runs `body`, cancelling it on the first of `signals` and exiting with `forcedExitCode`
    /// on the second. Throws `Interrupted` when a signal came, once `body` has ended (cleaned up).
    public static func run<R: Sendable>(
        signals: [Int32] = [SIGINT, SIGTERM], forcedExitCode: Int32 = 130,
        message: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
        _ body: @escaping @Sendable () async throws -> R
    ) async throws -> R {
        let received = Mutex<Int32?>(nil)
        let work = Task { try await body() }
        let queue = DispatchQueue(label: "golem.graceful-shutdown")
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                let first = received.withLock { r -> Bool in
                    defer { if r == nil { r = number } }
                    return r == nil
                }
                if first {
                    message("golem: signal \(number): shutting down gracefully (ending agreements, waiting for invoices); send it again to exit at once")
                    work.cancel()
                } else {
                    message("golem: second signal: exiting at once; \(GolemLedger.shared.summary)")
                    exit(forcedExitCode)
                }
            }
            source.resume()
            sources.append(source)
        }
        defer {
            for s in sources { s.cancel() }
            for number in signals { signal(number, SIG_DFL) }
        }
        // Cancelling the caller (a timeout around it, a task group) cancels the work too.
        let result = await withTaskCancellationHandler { await work.result } onCancel: { work.cancel() }
        // Stopped by a signal: the work did not run to its end, whatever it returned.
        if let number = received.withLock({ $0 }) { throw Interrupted(signal: number) }
        return try result.get()
    }
}
