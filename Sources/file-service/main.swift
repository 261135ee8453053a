import Foundation
import GolemExamples
import GolemRequestor
import GolemTime
import YagnaAPI
import YagnaHTTP

// file-service --instances N --running-time SECONDS: service instances in a network (VPN) that
// move files both ways while they run (through the `gftp` on PATH: the real one, or the
// simulator's stand-in beside golem-sim serve), stopped after the running time.
let environment = ProcessInfo.processInfo.environment
func option(_ name: String, _ fallback: String) -> String {
    guard let i = CommandLine.arguments.firstIndex(of: name), i + 1 < CommandLine.arguments.count else { return fallback }
    return CommandLine.arguments[i + 1]
}
do {
    let endpoints = try YagnaEndpoints.fromEnvironment(environment)
    let storage = try GftpProcessStorage()
    let arguments = ["instances": option("--instances", "1"), "running-time": option("--running-time", "30")]
    let summary = try await HTTPTransport.withTransport(endpoints: endpoints) { transport in
        try await Examples.run("file-service", arguments: arguments, transport: transport, clock: SystemClock(), storage: storage, environment: environment) { print($0) }
    }
    await storage.close()
    print(summary)
} catch {
    FileHandle.standardError.write(Data("file-service: \(error)\n".utf8))
    exit(1)
}
