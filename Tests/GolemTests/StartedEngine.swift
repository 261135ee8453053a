import Foundation
import Testing
import YagnaAPI
@testable import YagnaSimulator

extension ProviderEngine {
    /// An engine on `yaml` with an approved agreement `A` and an activity `act` that deployed
    /// and started at `t0`, and when that start batch ended (tests of the exe-unit's runs).
    static func started(_ yaml: String, file: String = "<scenario>", at t0: Date) throws -> (ProviderEngine, Date) {
        var e = ProviderEngine(scenario: try Scenario.parse(yaml: yaml, file: file), seed: 1, files: InMemoryFileExchange())
        let stamp = WireTimestamp(t0)
        let agreement = Agreement(
            agreementId: "A",
            demand: Demand(properties: ["golem.com.payment.chosen-platform": "erc20-holesky-tglm"], constraints: "()", demandId: "d", requestorId: "0xr", timestamp: stamp),
            offer: Offer(properties: [:], constraints: "()", offerId: "o", providerId: "0xp", timestamp: stamp),
            validTo: WireTimestamp(t0.addingTimeInterval(3600)), state: .approved, timestamp: stamp)
        e.agreementApproved(agreement, provider: 0, at: t0)
        #expect(e.openActivity("act", agreementId: "A", at: t0) == nil)
        e.exec("start", [.deploy(DeployCommand()), .start(StartCommand())], on: "act", at: t0)
        return (e, try #require(e.batchEnd("start", on: "act")))
    }
}
