import ArgumentParser
import Foundation
import GolemTesting

extension GolemSim {
    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge the JUnit reports of a sharded sweep (sweep --shard K/N --junit) into one.",
            discussion: "Every shard of one sweep must be given once. Exit status: 0 every seed passed, 1 some failed, 2 bad input.")

        @Argument(help: "The shards' JUnit reports.") var reports: [String]
        @Option(help: "Write the merged JUnit report here.") var junit: String

        func validate() throws {
            guard !reports.isEmpty else { throw ValidationError("give the shards' JUnit reports to merge") }
        }

        func run() async throws {
            var inputs: [(file: String, report: JUnitReport)] = []
            for file in reports {
                guard let data = FileManager.default.contents(atPath: file) else { throw fail("cannot read \(file)") }
                do { inputs.append((file, try JUnitReport.parse(data, file: file))) } catch { throw fail("\(error)") }
            }
            let merged: JUnitReport
            do { merged = try JUnitReport.mergeShards(inputs) } catch { throw fail("\(error)") }
            do { try merged.write(to: junit) } catch { throw fail("\(error)") }
            let failed = merged.cases.filter { $0.failure != nil }
            for c in failed.prefix(10) { print("\(c.name) failed: \(c.failure ?? "")") }
            print("\(merged.cases.count - failed.count) passed, \(failed.count) failed (\(inputs.count) shards of scenario '\(merged.property("scenario") ?? "?")', seeds \(merged.property("seeds") ?? "?"); \(junit))")
            if !failed.isEmpty { throw Exit.checkFailed }
        }
    }
}
