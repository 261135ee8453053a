import Foundation
import GolemExamples
import GolemTime
import YagnaAPI
import YagnaHTTP

// simple-service --instances N --running-time SECONDS: service instances that poll a stats
// command every few seconds while they run, stopped after the running time.
let environment = ProcessInfo.processInfo.environment
func option(_ name: String, _ fallback: String) -> String {
    guard let i = CommandLine.arguments.firstIndex(of: name), i + 1 < CommandLine.arguments.count else { return fallback }
    return CommandLine.arguments[i + 1]
}
do {
    let endpoints = try YagnaEndpoints.fromEnvironment(environment)
    let arguments = ["instances": option("--instances", "1"), "running-time": option("--running-time", "30")]
    let summary = try await HTTPTransport.withTransport(endpoints: endpoints) { transport in
        try await Examples.run("simple-service", arguments: arguments, transport: transport, clock: SystemClock(), storage: nil, environment: environment) { print($0) }
    }
    print(summary)
} catch {
    FileHandle.standardError.write(Data("simple-service: \(error)\n".utf8))
    exit(1)
}
