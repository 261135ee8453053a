import Foundation
import GolemExamples
import GolemRequestor
import GolemTime
import YagnaAPI
import YagnaHTTP

// file-transfer: uploads bytes, runs a command on them, downloads the result — through the
// `gftp` on PATH (the real one, or the simulator's stand-in beside golem-sim serve).
let environment = ProcessInfo.processInfo.environment
do {
    let endpoints = try YagnaEndpoints.fromEnvironment(environment)
    let storage = try GftpProcessStorage()
    let summary = try await HTTPTransport.withTransport(endpoints: endpoints) { transport in
        try await Examples.run("file-transfer", arguments: [:], transport: transport, clock: SystemClock(), storage: storage, environment: environment) { print($0) }
    }
    await storage.close()
    print(summary)
} catch {
    FileHandle.standardError.write(Data("file-transfer: \(error)\n".utf8))
    exit(1)
}
