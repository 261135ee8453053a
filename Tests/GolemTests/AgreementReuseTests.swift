import Foundation
import GolemExamples
import GolemRequestor
import GolemTesting
import Testing
import YagnaAPI
import YagnaSimulator

@Suite struct AgreementReuseTests {
    static func twoJobs(_ scenario: Scenario) async throws -> SimulationReport {
        try await SimulatedNetwork.run(scenario: scenario) { golem in
            for job in 0..<2 {
                let results = try await golem.executeTasks([job * 10, job * 10 + 1], payload: Examples.image, maxWorkers: 1, timeout: .seconds(120)) { ctx, task in
                    let script = ctx.newScript()
                    let out = script.run("/bin/sh", "-c", "echo \(task.data)")
                    try await ctx.execute(script)
                    return try await out.value.stdout ?? ""
                }
                #expect(results.count == 2)
            }
        }
    }

    /// A second job reuses the first job's multi-activity agreement: one agreement, two
    /// activities on it, terminated once at shutdown and invoiced once.
    @Test func aSecondJobReusesAMultiActivityAgreement() async throws {
        let report = try await Self.twoJobs(try fastScenario())
        #expect(report.passed, "\(report.failures)")
        #expect(report.state.agreements.count == 1)
        #expect(report.state.agreements.first?.activities.count == 2)
        #expect(report.state.agreements.first?.state == .terminated)
        #expect(report.journal.filter { $0.path.hasSuffix("/terminate") }.count == 1)
        #expect(report.state.invoices.count == 1 && report.state.invoices.allSatisfy { $0.status == .accepted })
    }

    /// Without multi-activity every job gets its own agreement.
    @Test func withoutMultiActivityEachJobAgreesAnew() async throws {
        var scenario = try fastScenario()
        scenario.providers[0].multiActivity = false
        let report = try await Self.twoJobs(scenario)
        #expect(report.passed, "\(report.failures)")
        #expect(report.state.agreements.count == 2)
        #expect(report.state.agreements.allSatisfy { $0.activities.count == 1 })
    }

    /// A provider that holds one agreement at a time, parked by a first job, is freed for a
    /// second job with another payload: its "No capacity" answer to the second job's counter
    /// ends the parked agreement, the provider offers again and agrees anew.
    @Test func aParkedAgreementGivesWayToAJobWithAnotherPayload() async throws {
        var scenario = try fastScenario()
        scenario.providers[0].maxAgreements = 1
        let other = VMPayload.image(hash: "0123456789abcdef0123456789abcdef0123456789abcdef01234567")
        let report = try await SimulatedNetwork.run(scenario: scenario) { golem in
            for payload in [Examples.image, other, Examples.image] {
                let results = try await golem.executeTasks([1, 2], payload: payload, maxWorkers: 1, timeout: .seconds(120)) { ctx, task in
                    let script = ctx.newScript()
                    let out = script.run("/bin/sh", "-c", "echo \(task.data)")
                    try await ctx.execute(script)
                    return try await out.value.stdout ?? ""
                }
                #expect(results.map(\.value).sorted() == ["1\n", "2\n"])
            }
        }
        #expect(report.failures == [])
        // One agreement per payload change, each ended before the next one was made.
        let agreements = report.state.agreements
        #expect(agreements.count == 3)
        #expect(agreements.allSatisfy { $0.state == .terminated && $0.activities.count == 1 })
        let ends = report.journal.filter { $0.path.hasSuffix("/terminate") }.map(\.startOffset)
        let starts = report.journal.filter { $0.method == "POST" && $0.path.hasSuffix("/market-api/v1/agreements") }.map(\.startOffset)
        #expect(ends.count == 3 && starts.count == 3)
        #expect(zip(ends, starts.dropFirst()).allSatisfy { $0 < $1 })
        #expect(report.state.invoices.count == 3 && report.state.invoices.allSatisfy { $0.status == .accepted })
    }
}
