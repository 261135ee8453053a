import Foundation
import GolemExamples
import GolemTime
import YagnaAPI
import YagnaHTTP

// hello-task: one task running `date` on one provider, printing its output and a summary.
// Reads YAGNA_API_URL, YAGNA_APPKEY and GOLEM_REGISTRY_URL like a yapapi app.
let environment = ProcessInfo.processInfo.environment
do {
    let endpoints = try YagnaEndpoints.fromEnvironment(environment)
    let summary = try await HTTPTransport.withTransport(endpoints: endpoints) { transport in
        try await Examples.run("hello-task", arguments: [:], transport: transport, clock: SystemClock(), storage: nil, environment: environment) { print($0) }
    }
    print(summary)
} catch {
    FileHandle.standardError.write(Data("hello-task: \(error)\n".utf8))
    exit(1)
}
