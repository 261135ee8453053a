public import YagnaSimulator

extension SimulatedNetwork {
    /// Runs the scenario's app once per seed, `jobs` simulations at a time (each on its own
    /// thread), all in this process. Every seed gets a report or the error its run threw.
    public static func sweep(
        scenario: Scenario, seeds: ClosedRange<UInt64>, jobs: Int
    ) async -> [UInt64: Result<SimulationReport, any Error>] {
        var out: [UInt64: Result<SimulationReport, any Error>] = [:]
        await withTaskGroup(of: (UInt64, Result<SimulationReport, any Error>).self) { group in
            var next = seeds.lowerBound
            var exhausted = false
            func launch() {
                let seed = next
                group.addTask {
                    do { return (seed, .success(try await SimulatedNetwork.runExample(scenario: scenario, seed: seed))) } catch {
                        return (seed, .failure(error))
                    }
                }
                if next == seeds.upperBound { exhausted = true } else { next += 1 }
            }
            for _ in 0..<max(1, jobs) where !exhausted { launch() }
            while let (seed, result) = await group.next() {
                out[seed] = result
                if !exhausted { launch() }
            }
        }
        return out
    }
}
