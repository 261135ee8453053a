import ArgumentParser
import Foundation
import GolemRecording
import YagnaAPI

extension GolemSim {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a recorded session as a per-provider timeline.")

        @Argument(help: "The recording file.") var file: String
        @Flag(help: "Print the timeline as JSON.") var json = false
        @Option(help: "Write a self-contained HTML timeline here.") var html: String?

        func validate() throws {
            if json && html != nil { throw ValidationError("give --json or --html, not both") }
        }

        func run() throws {
            let report = SessionReport(try openRecording(file))
            if let html {
                do { try report.html.write(toFile: html, atomically: true, encoding: .utf8) } catch { throw fail("cannot write \(html): \(error)") }
                print("wrote \(html)")
            } else if json {
                print(JSONWriter.string(report.json))
            } else {
                print(report.text, terminator: "")
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a recording against the API as the client models it and report drift (exit 1 if any).")

        @Argument(help: "The recording file.") var file: String

        func run() throws {
            let verifier = RecordingVerifier(try openRecording(file))
            if verifier.drift.isEmpty {
                print("\(file): \(verifier.checked) exchanges, no drift from the client's API model")
                return
            }
            print("\(file): \(verifier.checked) exchanges, \(verifier.drift.count) kind(s) of drift")
            for d in verifier.drift {
                let shown = d.exchanges.prefix(5).map(String.init).joined(separator: ", ") + (d.exchanges.count > 5 ? ", …" : "")
                print("  \(d.kind.rawValue): \(d.operation): \(d.detail) (exchange \(shown); \(d.exchanges.count) in all)")
            }
            throw Exit.checkFailed
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two sessions at the protocol level: operations, their order per resource, the fields that differ (exit 1 if any).")

        @Argument(help: "The first recording (A).") var a: String
        @Argument(help: "The second recording (B).") var b: String

        func run() throws {
            let diff = SessionDiff(try openRecording(a), try openRecording(b))
            if diff.same {
                print("same operations: \(diff.operationsA) in A, \(diff.operationsB) in B, in the same order per resource with the same fields")
                return
            }
            print("A: \(a) (\(diff.operationsA) operations)\nB: \(b) (\(diff.operationsB) operations)")
            for line in diff.text { print(line) }
            print("\(diff.lines.count) difference(s)")
            throw Exit.checkFailed
        }
    }
}
