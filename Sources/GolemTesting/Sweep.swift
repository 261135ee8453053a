public import YagnaSimulator

extension SimulatedNetwork {
    /// Runs the scenario's app once per seed, `jobs` simulations at a time (each on its own
    /// thread), all in this process. Every seed gets a report or the error its run threw.
    ///
    /// Passing seeds come back without their journal (`dropJournal()`: verdict, figures, trace
    /// hash and exchange count kept) unless `keepJournals` is set; failing seeds keep everything.
    public static func sweep(
        scenario: Scenario, seeds: ClosedRange<UInt64>, jobs: Int, keepJournals: Bool = false
    ) async -> [UInt64: Result<SimulationReport, any Error>] {
        await sweep(scenario: scenario, seeds: Array(seeds), jobs: jobs, keepJournals: keepJournals)
    }

    /// Runs the scenario's app once per seed, `jobs` at a time; every seed's result comes back,
    /// a passing one without its journal unless `keepJournals` is set (a million-seed sweep
    /// would otherwise hold every run's exchanges). `progress` hears of each seed as it
    /// finishes (seeds done, failures so far).
    public static func sweep(
        scenario: Scenario, seeds: [UInt64], jobs: Int, keepJournals: Bool = false,
        progress: (@Sendable (_ done: Int, _ failed: Int) -> Void)? = nil
    ) async -> [UInt64: Result<SimulationReport, any Error>] {
        // No nested function capturing the group: the launch loop is written out, one seed per
        // child task, a new child as each finishes.
        await withTaskGroup(of: (UInt64, Result<SimulationReport, any Error>).self, returning: [UInt64: Result<SimulationReport, any Error>].self) { group in
            var out: [UInt64: Result<SimulationReport, any Error>] = [:]
            var pending = seeds.makeIterator()
            for _ in 0..<max(1, jobs) {
                guard let seed = pending.next() else { break }
                group.addTask { await runSeed(scenario: scenario, seed: seed, keepJournal: keepJournals) }
            }
            var failed = 0
            while let (seed, result) = await group.next() {
                out[seed] = result
                if case .success(let r) = result, r.passed {} else { failed += 1 }
                progress?(out.count, failed)
                if let seed = pending.next() { group.addTask { await runSeed(scenario: scenario, seed: seed, keepJournal: keepJournals) } }
            }
            return out
        }
    }

    static func runSeed(scenario: Scenario, seed: UInt64, keepJournal: Bool) async -> (UInt64, Result<SimulationReport, any Error>) {
        do {
            var report = try await SimulatedNetwork.runExample(scenario: scenario, seed: seed)
            if !keepJournal && report.passed { report.dropJournal() }
            return (seed, .success(report))
        } catch {
            return (seed, .failure(error))
        }
    }
}
