public import YagnaAPI
import Synchronization
public import Foundation

/// Moves bytes between the requestor and providers (gftp, or the simulator's exchange).
public protocol FileStorage: Sendable {
    /// Publishes bytes; returns the URL a provider transfers them from.
    func publish(_ bytes: [UInt8]) async throws -> String
    /// Opens a download target; returns its URL and a way to read what arrived.
    func receive() async throws -> (url: String, read: @Sendable () async throws -> [UInt8])
}

/// A command of a script failed on the provider.
public struct CommandError: Error, Sendable, CustomStringConvertible {
    public var command: String
    public var index: Int
    public var message: String
    public var stdout: String?
    public var stderr: String?
    public var provider: String
    public var description: String {
        "command \(index) (\(command)) failed on \(provider): \(message)" + (stderr.map { $0.isEmpty ? "" : ", stderr: \($0)" } ?? "")
    }
}

/// What one command produced.
public struct CommandOutcome: Sendable, Hashable {
    public var index: Int
    public var stdout: String?
    public var stderr: String?
    public var message: String?
}

/// The awaitable result of one command of a script, resolved when the engine has run it.
public struct CommandFuture<Value: Sendable>: Sendable {
    let box: ResultBox<Value>

    /// The command's result; throws if the script failed before or at this command.
    public var value: Value {
        get async throws {
            guard let r = box.result else { throw ScriptNotExecuted() }
            return try r.get()
        }
    }
}

/// A script was awaited before it was handed to the engine.
public struct ScriptNotExecuted: Error, CustomStringConvertible {
    public var description: String { "the script has not been executed: pass it to WorkContext.execute(_:) first" }
}

final class ResultBox<Value: Sendable>: Sendable {
    private let m = Mutex<Result<Value, any Error>?>(nil)
    var result: Result<Value, any Error>? { m.withLock { $0 } }
    func set(_ r: Result<Value, any Error>) { m.withLock { $0 = r } }
}

/// A batch of commands built by a worker and handed to the engine, the work-generator
/// pattern's unit: every command returns a `CommandFuture`, resolved when the script runs.
///
/// ```swift
/// let script = ctx.newScript()
/// let date = script.run("/bin/sh", "-c", "date")
/// try await ctx.execute(script)
/// print(try await date.value.stdout ?? "")
/// ```
public final class Script: Sendable {
    struct Step: Sendable {
        var command: ExeScriptCommand
        /// Called with the command's outcome (or the error) once the batch ran.
        var resolve: @Sendable (Result<CommandOutcome, any Error>) async -> Void
        /// Work done before the batch is sent (publishing an upload).
        var prepare: (@Sendable ((any FileStorage)?) async throws -> ExeScriptCommand)?
    }

    private struct State {
        var steps: [Step] = []
        var timeout: Duration?
        var resultMode: ResultMode?
    }
    /// Built by one task and handed to the engine, possibly on another: the state is locked.
    private let state: Mutex<State>

    /// The commands so far, in order.
    var steps: [Step] { state.withLock { $0.steps } }
    /// The batch's timeout, if any.
    public var timeout: Duration? {
        get { state.withLock { $0.timeout } }
        set { state.withLock { $0.timeout = newValue } }
    }
    /// Results by long polls or by the SSE stream; `nil` takes the engine's default.
    public var resultMode: ResultMode? {
        get { state.withLock { $0.resultMode } }
        set { state.withLock { $0.resultMode = newValue } }
    }

    init(timeout: Duration?) { state = Mutex(State(timeout: timeout)) }

    private func add<V: Sendable>(_ command: ExeScriptCommand, prepare: (@Sendable ((any FileStorage)?) async throws -> ExeScriptCommand)? = nil,
        map: @escaping @Sendable (CommandOutcome) async throws -> V) -> CommandFuture<V>
    {
        let box = ResultBox<V>()
        let step = Step(command: command, resolve: { r in
            switch r {
            case .success(let o):
                do { box.set(.success(try await map(o))) } catch { box.set(.failure(error)) }
            case .failure(let e): box.set(.failure(e))
            }
        }, prepare: prepare)
        state.withLock { $0.steps.append(step) }
        return CommandFuture(box: box)
    }

    @discardableResult
    public func deploy(env: [String: String]? = nil, volumes: [String]? = nil, network: [DeployNetwork]? = nil) -> CommandFuture<CommandOutcome> {
        add(.deploy(DeployCommand(net: network, volumes: volumes, env: env))) { $0 }
    }

    @discardableResult
    public func start(_ args: String...) -> CommandFuture<CommandOutcome> { add(.start(StartCommand(args: args))) { $0 } }

    @discardableResult
    public func terminate() -> CommandFuture<CommandOutcome> { add(.terminate(UnknownFields())) { $0 } }

    /// Runs a program; its output is captured as `capture` says (streamed strings by default).
    @discardableResult
    public func run(_ entryPoint: String, _ args: String..., capture: Capture = .stream) -> CommandFuture<CommandOutcome> {
        add(.run(RunCommand(entryPoint: entryPoint, args: args, capture: capture))) { $0 }
    }

    /// Runs a program with an argument array.
    @discardableResult
    public func run(_ entryPoint: String, arguments: [String], capture: Capture = .stream) -> CommandFuture<CommandOutcome> {
        add(.run(RunCommand(entryPoint: entryPoint, args: arguments, capture: capture))) { $0 }
    }

    /// Uploads bytes to a path on the provider.
    @discardableResult
    public func sendBytes(_ bytes: [UInt8], to path: String) -> CommandFuture<CommandOutcome> {
        add(.transfer(TransferCommand(from: "", to: "container:\(path)")), prepare: { storage in
            guard let storage else { throw NoFileStorage() }
            return .transfer(TransferCommand(from: try await storage.publish(bytes), to: "container:\(path)"))
        }) { $0 }
    }

    /// Uploads a JSON value to a path on the provider.
    @discardableResult
    public func sendJSON(_ value: JSONValue, to path: String) -> CommandFuture<CommandOutcome> {
        sendBytes(JSONWriter.bytes(value), to: path)
    }

    /// Uploads a local file to a path on the provider.
    @discardableResult
    public func sendFile(_ localPath: String, to path: String) -> CommandFuture<CommandOutcome> {
        add(.transfer(TransferCommand(from: "", to: "container:\(path)")), prepare: { storage in
            guard let storage else { throw NoFileStorage() }
            guard let data = FileManager.default.contents(atPath: localPath) else { throw LocalFileMissing(path: localPath) }
            return .transfer(TransferCommand(from: try await storage.publish(Array(data)), to: "container:\(path)"))
        }) { $0 }
    }

    /// A download: the transfer to a target the storage opens, then `map` over what arrived.
    private func download<V: Sendable>(
        from path: String, map: @escaping @Sendable ([UInt8], CommandOutcome) async throws -> V
    ) -> CommandFuture<V> {
        let reader = ResultBox<@Sendable () async throws -> [UInt8]>()
        return add(.transfer(TransferCommand(from: "container:\(path)", to: "")), prepare: { storage in
            guard let storage else { throw NoFileStorage() }
            let (url, read) = try await storage.receive()
            reader.set(.success(read))
            return .transfer(TransferCommand(from: "container:\(path)", to: url))
        }) { outcome in
            guard let read = try reader.result?.get() else { throw ScriptNotExecuted() }
            return try await map(try await read(), outcome)
        }
    }

    /// Downloads a file from the provider as bytes.
    public func downloadBytes(from path: String) -> CommandFuture<[UInt8]> {
        download(from: path) { bytes, _ in bytes }
    }

    /// Downloads a JSON file from the provider.
    public func downloadJSON(from path: String) -> CommandFuture<JSONValue> {
        download(from: path) { bytes, _ in try JSONParser.parse(bytes) }
    }

    /// Downloads a file from the provider to a local path.
    public func downloadFile(from path: String, to localPath: String) -> CommandFuture<CommandOutcome> {
        download(from: path) { bytes, outcome in
            try Data(bytes).write(to: URL(fileURLWithPath: localPath))
            return outcome
        }
    }

    /// The number of commands.
    public var count: Int { steps.count }
}

/// Transfers need a `FileStorage`.
public struct NoFileStorage: Error, CustomStringConvertible {
    public var description: String { "this engine has no file storage: pass one to withGolem (gftp, or the simulator's exchange)" }
}

/// A local file to upload does not exist.
public struct LocalFileMissing: Error, CustomStringConvertible {
    public var path: String
    public var description: String { "cannot read the local file \(path)" }
}
