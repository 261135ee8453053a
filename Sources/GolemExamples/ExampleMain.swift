public import Foundation
import GolemRequestor
import GolemTime
import YagnaAPI
import YagnaHTTP

extension Examples {
    /// The whole `main` of an example executable: reads `YAGNA_API_URL`, `YAGNA_APPKEY` and
    /// `GOLEM_REGISTRY_URL` like a yapapi app, takes `--NAME N` options for `options` (their
    /// defaults given; an empty default: unset; any other argument exits 2 with the usage), runs the example over HTTP with graceful shutdown on SIGINT/SIGTERM
    /// (`GracefulShutdown`), prints its summary, and exits: 0 when it finished, 1 when it failed,
    /// 130 when a signal stopped it (after cleaning up), 2 on bad configuration.
    public static func main(_ name: String, options: [String: String] = [:], gftp: Bool = false) async -> Never {
        let environment = ProcessInfo.processInfo.environment
        let arguments = CommandLine.arguments
        func fail(_ message: String, _ code: Int32) -> Never {
            FileHandle.standardError.write(Data("\(name): \(message)\n".utf8))
            exit(code)
        }
        let usage = "usage: \(name)" + options.keys.sorted().map { " [--\($0) N]" }.joined()
        var values = options.filter { !$0.value.isEmpty }
        var rest = arguments.dropFirst()[...]
        while let flag = rest.popFirst() {
            if flag == "--help" || flag == "-h" {
                print(usage + "\n(YAGNA_API_URL, YAGNA_APPKEY and GOLEM_REGISTRY_URL name the node; defaults: "
                    + options.keys.sorted().map { "--\($0) \(options[$0]!.isEmpty ? "none" : options[$0]!)" }.joined(separator: ", ") + ")")
                exit(0)
            }
            guard flag.hasPrefix("--"), options[String(flag.dropFirst(2))] != nil else {
                fail("unknown argument '\(flag)'; \(usage)", 2)
            }
            guard let value = rest.popFirst(), Double(value) != nil else {
                fail("\(flag) needs a number; \(usage)", 2)
            }
            values[String(flag.dropFirst(2))] = value
        }
        let endpoints: YagnaEndpoints
        let storage: GftpProcessStorage?
        do {
            endpoints = try YagnaEndpoints.fromEnvironment(environment)
            storage = gftp ? try GftpProcessStorage() : nil
        } catch {
            fail("\(error)", 2)
        }
        let chosen = values
        do {
            let summary = try await GracefulShutdown.run {
                try await HTTPTransport.withTransport(endpoints: endpoints) { transport in
                    // Each line written at once, even into a pipe or a file, so progress shows as it happens.
                    try await Examples.run(name, arguments: chosen, transport: transport, clock: SystemClock(), storage: storage, environment: environment) { line in
                        FileHandle.standardOutput.write(Data((line + "\n").utf8))
                    }
                }
            }
            await storage?.close()
            print(summary)
            exit(0)
        } catch let interrupted as GracefulShutdown.Interrupted {
            await storage?.close()
            fail("\(interrupted)", 130)
        } catch {
            await storage?.close()
            fail("\(error)", 1)
        }
    }
}
