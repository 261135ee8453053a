import ArgumentParser
import Dispatch
import Foundation
import GolemBus
import GolemProvider
import Logging
import Synchronization
import YagnaSimulator

extension GolemSim {
    struct Provide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Play the scenario's providers on a real yagna node.",
            discussion: """
                Each provider is one identity of the node with its own app key (PROVIDER_KEYS, \
                space-separated, as scripts/real-yagna.sh writes them). Offers, negotiation, \
                agreements, debit notes and invoices go through the node's REST API; activities \
                are served by an exe-unit on its service bus (GSB_URL). Stops cleanly on SIGINT/SIGTERM.
                """)

        @Option(help: "A scenario YAML file.") var scenario: String
        @Option(help: "The real node's REST API, e.g. http://127.0.0.1:17465.") var yagna: String
        @Option(name: .customLong("gsb-url"), help: "The node's service-bus router (default: $GSB_URL), e.g. unix:DATADIR/yagna.sock.") var gsbURL: String?
        @Option(help: "Seed of the providers' random choices (default: the scenario's).") var seed: UInt64?
        @Option(name: .customLong("provider-keys"), help: "The providers' app keys, space-separated (default: $PROVIDER_KEYS).") var providerKeys: String?
        @Flag(help: "Log every provider action.") var verbose = false
        @Option(name: .customLong("dump-bus"), help: "Keep the body of every service-bus call the exe-unit serves in this directory (N-Message.bin, as yagna sent it).") var dumpBus: String?

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let scenario = try loadScenario(self.scenario)
            guard let gsbText = gsbURL ?? environment["GSB_URL"] else {
                throw fail("no service bus: pass --gsb-url unix:DATADIR/yagna.sock (the node's GSB_URL) or set GSB_URL")
            }
            guard let bus = BusAddress(gsbText) else {
                throw fail("--gsb-url '\(gsbText)' is not unix:PATH or tcp://HOST:PORT")
            }
            guard let keysText = providerKeys ?? environment["PROVIDER_KEYS"], !keysText.isEmpty else {
                throw fail("no provider app keys: pass --provider-keys or set PROVIDER_KEYS (scripts/real-yagna.sh start DIR PORT \(scenario.providers.count) writes them to DIR/env)")
            }
            let keys = keysText.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
            guard yagna.hasPrefix("http://") || yagna.hasPrefix("https://") else { throw fail("--yagna '\(yagna)' is not an http:// URL") }
            let directory = DirectoryFileExchange.defaultDirectory(environment: environment)
            let files: DirectoryFileExchange
            do { files = try DirectoryFileExchange(directory: directory) } catch {
                throw fail("cannot use the gftp exchange directory \(directory.path): \(error)")
            }
            LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
            var logger = Logger(label: "golem-sim.provide")
            logger.logLevel = verbose ? .info : .warning
            let session: ProvideSession
            do {
                session = try ProvideSession(scenario: scenario, seed: seed ?? scenario.seed, yagna: yagna, keys: keys, files: files, logger: logger)
                try await session.start(requestorKey: environment["YAGNA_APPKEY"])
                if let dumpBus {
                    do { try FileManager.default.createDirectory(atPath: dumpBus, withIntermediateDirectories: true) } catch {
                        throw fail("--dump-bus \(dumpBus): \(error)")
                    }
                    await session.dumpBus(into: dumpBus)
                }
            } catch let error as ProvideError {
                throw fail(error.description)
            }
            let stop = SignalWatch([SIGINT, SIGTERM])
            let yagna = self.yagna
            do {
                try await BusConnection.run(bus, name: "golem-sim-provide", logger: logger) { connection in
                    FileHandle.standardOutput.write(Data("providing \(scenario.providers.count) providers on \(yagna)\n".utf8))
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask { await session.serve(bus: connection) }
                        group.addTask { await stop.wait() }
                        await group.next()
                        group.cancelAll()
                    }
                    // Not cancelled: the clean-up's own requests must reach the node.
                    await session.stop(bus: connection)
                }
            } catch let error as BusError {
                await stopOffers(session)
                throw fail(error.description)
            }
            let counts = await session.counts
            FileHandle.standardOutput.write(Data("stopped: \(counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))\n".utf8))
        }

        func stopOffers(_ session: ProvideSession) async {
            // Without the bus there are no exe-units to stop; the offers still go.
            await session.unsubscribeOffers()
        }
    }
}

/// Waits for one of the given signals (the first one; the default action is restored after it,
/// so a second signal ends the process at once).
final class SignalWatch: Sendable {
    private let stream: AsyncStream<Int32>
    /// Kept so the sources live as long as the watch.
    private let sources: Mutex<[any DispatchSourceSignal]>

    init(_ signals: [Int32]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        var sources: [any DispatchSourceSignal] = []
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                for s in signals { signal(s, SIG_DFL) }
                continuation.yield(sig)
            }
            source.resume()
            sources.append(source)
        }
        self.sources = Mutex(sources)
    }

    func wait() async {
        for await _ in stream { return }
    }
}
