import Foundation
import GolemExamples
import GolemTime
import YagnaAPI
import YagnaHTTP

// many-tasks --tasks N: N tasks spread over providers, with retries elsewhere on failure.
let environment = ProcessInfo.processInfo.environment
var tasks = "10"
if let i = CommandLine.arguments.firstIndex(of: "--tasks"), i + 1 < CommandLine.arguments.count { tasks = CommandLine.arguments[i + 1] }
do {
    let endpoints = try YagnaEndpoints.fromEnvironment(environment)
    let summary = try await HTTPTransport.withTransport(endpoints: endpoints) { transport in
        try await Examples.run("many-tasks", arguments: ["tasks": tasks], transport: transport, clock: SystemClock(), storage: nil, environment: environment) { print($0) }
    }
    print(summary)
} catch {
    FileHandle.standardError.write(Data("many-tasks: \(error)\n".utf8))
    exit(1)
}
