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
}
