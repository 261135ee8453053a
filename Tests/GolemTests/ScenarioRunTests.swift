import Foundation
import GolemExamples
import GolemRequestor
import GolemTesting
import Testing
import YagnaAPI
import YagnaSimulator

func shipped(_ name: String) throws -> Scenario {
    let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "yaml")!
    return try Scenario.load(file: url.path)
}

@Suite struct ScenarioRunTests {
    /// The tests' copies of shipped scenarios are the shipped ones, byte for byte (a copy left
    /// behind tests a scenario nobody runs).
    @Test func fixtureScenariosAreTheShippedOnes() throws {
        let fixtures = repositoryRoot.appendingPathComponent("Tests/GolemTests/Fixtures")
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names.count >= 8)
        for name in names {
            let shipped = ["scenarios/\(name)", "scenarios/failing/\(name)"].map { repositoryRoot.appendingPathComponent($0) }
                .first { FileManager.default.fileExists(atPath: $0.path) }
            let original = try #require(shipped, "\(name) has no shipped scenario")
            #expect(try Data(contentsOf: fixtures.appendingPathComponent(name)) == Data(contentsOf: original), "\(name) differs from \(original.path)")
        }
    }

    @Test func helloTaskRunsEndToEnd() async throws {
        let report = try await SimulatedNetwork.runExample(scenario: try shipped("hello-task"))
        #expect(report.failures.isEmpty, "\(report.failures)")
        // The output is `date` on the virtual clock.
        #expect(report.output.first?.hasSuffix("UTC 2027") == true)
        // Every invoice accepted, exactly as due; the allocation released.
        #expect(!report.state.invoices.isEmpty)
        #expect(report.state.invoices.allSatisfy { $0.status == .accepted })
        #expect(report.state.allocations.allSatisfy { $0.released })
        #expect(report.summary?.totalCost == report.state.invoices.reduce(0) { $0 + $1.amount })
    }

    @Test func failingProviderTasksRunElsewhere() async throws {
        let report = try await SimulatedNetwork.runExample(scenario: try shipped("tasks-one-bad-provider"))
        #expect(report.failures.isEmpty, "\(report.failures)")
        let accepted = report.summary!.providers.values.reduce(0) { $0 + $1.tasksAccepted }
        #expect(accepted == 9)
        #expect(report.summary!.providers["bad"]?.tasksAccepted ?? 0 == 0)
        // The failed provider's agreement was ended and never reused.
        let bad = report.state.agreements.filter { $0.providerName == "bad" }
        #expect(bad.count == 1)
        #expect(bad.allSatisfy { $0.state == .terminated })
    }

    @Test func missingInvoiceIsWaitedForABoundedTime() async throws {
        let report = try await SimulatedNetwork.runExample(scenario: try shipped("missing-invoice"))
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.summary?.unpaidAgreements == 1)
        #expect(report.state.invoices.isEmpty)
        // The default 30 s wait, on the virtual clock.
        #expect(report.virtualSeconds >= 30 && report.virtualSeconds < 60)
    }

    @Test func sameSeedSameTraceHash() async throws {
        let scenario = try shipped("tasks-one-bad-provider")
        let a = try await SimulatedNetwork.runExample(scenario: scenario, seed: 7)
        let b = try await SimulatedNetwork.runExample(scenario: scenario, seed: 7)
        let c = try await SimulatedNetwork.runExample(scenario: scenario, seed: 8)
        #expect(a.traceHash == b.traceHash)
        #expect(a.journal == b.journal)
        #expect(a.traceHash != c.traceHash)
    }

    /// Every seed of a sweep comes back with a report, more seeds than jobs, and the same seed
    /// gives the same trace as a run of its own. (CI repeats this on the release build, where a
    /// sweep once lost every result.)
    @Test func aSweepReportsEverySeed() async throws {
        let scenario = try shipped("hello-task")
        let results = await SimulatedNetwork.sweep(scenario: scenario, seeds: 3...9, jobs: 2)
        #expect(results.keys.sorted() == Array(3...9))
        let reports = results.values.compactMap { try? $0.get() }
        #expect(reports.count == 7 && reports.allSatisfy(\.passed))
        let alone = try await SimulatedNetwork.runExample(scenario: scenario, seed: 5)
        // Passing seeds come back without their journal, with its hash and length kept.
        let five = try #require(try results[5]?.get())
        #expect(five.journalDropped && five.journal.isEmpty && five.output.isEmpty)
        #expect(five.traceHash == alone.traceHash && five.exchangeCount == alone.journal.count && alone.journal.count > 10)
        let kept = await SimulatedNetwork.sweep(scenario: scenario, seeds: 5...5, jobs: 1, keepJournals: true)
        let whole = try #require(try kept[5]?.get())
        #expect(!whole.journalDropped && whole.journal == alone.journal)
    }

    /// A failing seed of a sweep keeps its whole report (the CLI shrinks and saves it).
    @Test func aSweepKeepsTheJournalOfAFailingSeed() async throws {
        var scenario = try shipped("hello-task")
        scenario.expectations.append(.appFails)
        let results = await SimulatedNetwork.sweep(scenario: scenario, seeds: 1...2, jobs: 2)
        for seed in UInt64(1)...2 {
            let report = try #require(try results[seed]?.get())
            #expect(!report.passed && !report.journalDropped && !report.journal.isEmpty)
        }
    }

    @Test func noOffersIsAClearErrorNotAHang() async throws {
        var scenario = try shipped("hello-task")
        scenario.providers[0].properties["golem.runtime.name"] = "wasmtime"
        let report = try await SimulatedNetwork.run(scenario: scenario) { golem in
            _ = try await golem.executeTasks([1], payload: Examples.image, offerTimeout: .seconds(30)) { _, t in t.data }
        }
        #expect(report.error?.contains("no provider offered") == true)
        #expect(report.failures.first?.hasPrefix("app:") == true)
        #expect(report.state.allocations.allSatisfy { $0.released })
    }

    /// `echo -n` prints without the newline, as real images' shells do.
    @Test func echoWithoutNewline() async throws {
        let report = try await SimulatedNetwork.run(scenario: try shipped("hello-task")) { golem in
            let results = try await golem.executeTasks(["x"], payload: Examples.image) { ctx, _ in
                let script = ctx.newScript()
                let plain = script.run("/bin/sh", "-c", "echo -n a b")
                let newline = script.run("/bin/sh", "-c", "echo a b")
                try await ctx.execute(script)
                return [try await plain.value.stdout ?? "", try await newline.value.stdout ?? ""]
            }
            #expect(results.first?.value == ["a b", "a b\n"])
        }
        #expect(report.passed, "\(report.failures)")
    }

    @Test func commandFailureSurfacesAsTypedError() async throws {
        let report = try await SimulatedNetwork.run(scenario: try shipped("hello-task")) { golem in
            let results = try await golem.executeTasks(["x"], payload: Examples.image, maxAttempts: 1) { ctx, _ in
                let script = ctx.newScript()
                script.run("/bin/sh", "-c", "echo hi")
                let cat = script.run("/bin/sh", "-c", "cat /golem/work/missing.txt")
                do {
                    try await ctx.execute(script)
                    return "no error"
                } catch let error as CommandError {
                    let futureError = await #expect(throws: CommandError.self) { try await cat.value }
                    return "\(error.index):\(futureError?.stderr ?? "")"
                }
            }
            #expect(results.first?.value == "1:cat: /golem/work/missing.txt: No such file or directory\n")
        }
        #expect(report.failures.isEmpty, "\(report.failures)")
    }

    @Test func uploadedBytesDownloadBackByteForByte() async throws {
        let report = try await SimulatedNetwork.run(scenario: try shipped("hello-task")) { golem in
            let payload: [UInt8] = Array(0...255) + Array("tail".utf8)
            let results = try await golem.executeTasks([payload], payload: Examples.image) { ctx, task in
                let script = ctx.newScript()
                script.sendBytes(task.data, to: "/golem/work/blob")
                let back = script.downloadBytes(from: "/golem/work/blob")
                try await ctx.execute(script)
                return try await back.value
            }
            #expect(results.first?.value == payload)
        }
        #expect(report.failures.isEmpty, "\(report.failures)")
    }
}

@Suite struct ScenarioLoaderTests {
    @Test func everyShippedScenarioLoads() throws {
        for name in ["hello-task", "tasks-one-bad-provider", "simple-service", "service-provider-dies", "missing-invoice"] {
            let s = try shipped(name)
            #expect(!s.providers.isEmpty)
        }
        #expect(try shipped("tasks-one-bad-provider").providers.map(\.name) == ["good-1", "good-2", "bad"])
    }

    /// A provider's node id can be fixed in the scenario: its offers, proposals and documents carry it.
    @Test func aProviderNodeIdCanBeSet() async throws {
        let scenario = try Scenario.parse(yaml: """
            name: fixed-id
            app: hello-task
            providers:
              - name: p
                node-id: 0x1234567890ABCDEF1234567890abcdef12345678
            """)
        #expect(scenario.providers.first?.nodeId == "0x1234567890abcdef1234567890abcdef12345678")
        let report = try await SimulatedNetwork.runExample(scenario: scenario, seed: 1)
        #expect(report.passed, "\(report.failures)")
        #expect(!report.state.invoices.isEmpty)
        #expect(report.state.invoices.allSatisfy { $0.issuerId == "0x1234567890abcdef1234567890abcdef12345678" })
    }

    @Test func errorsNameTheLineAndKey() {
        let cases: [(String, Int?, String?)] = [
            ("name: x\nproviders:\n  - name: a\n    faults:\n      - fail-command: {exit-code: zero}\n", 5, "exit-code"),
            ("name: x\nprovidrs: []\n", 2, "providrs"),
            ("name: x\nproviders:\n  - name: a\n    faults:\n      - explode: {}\n", 5, "explode"),
            ("name: x\nproviders:\n  - name: a\n    offer-delay: soon\n", 4, "offer-delay"),
            ("name: x\nproviders:\n  - name: a\n  - name: a\n", nil, "providers"),
            ("name: [unclosed\n", 2, nil),
            ("name: x\nproviders:\n  - name: a\n    node-id: 0x12\n", 4, "node-id"),
            ("name: x\nproviders:\n  - name: a\n    count: 2\n    node-id: 0x1234567890abcdef1234567890abcdef12345678\n", 5, "node-id"),
        ]
        for (yaml, line, key) in cases {
            do {
                _ = try Scenario.parse(yaml: yaml, file: "test.yaml")
                Issue.record("accepted an invalid scenario: \(yaml)")
            } catch {
                if let line { #expect(error.line == line, "\(error)") }
                #expect(error.key == key, "\(error)")
                #expect(error.description.hasPrefix("test.yaml"))
            }
        }
    }
}

@Suite struct ConstraintTests {
    let offer: Properties = [
        "golem.inf.mem.gib": 8.0, "golem.runtime.name": "vm", "golem.node.debug.subnet": "public",
        "golem.activity.caps.transfer.protocol": ["gftp", "http"], "golem.srv.caps.multi-activity": true,
        "golem.com.payment.platform.erc20-holesky-tglm.address": "0xb2",
    ]

    @Test func realDemandsMatch() throws {
        let c = try Constraint.parse("(&(golem.node.debug.subnet=public)\n\t(golem.com.payment.platform.erc20-holesky-tglm.address=*)\n\t(golem.inf.mem.gib>=0.5)\n\t(golem.runtime.name=vm))")
        #expect(c.matches(offer))
        #expect(try Constraint.parse("(golem.inf.mem.gib>=16)").matches(offer) == false)
        #expect(try Constraint.parse("(|(golem.runtime.name=wasm)(golem.runtime.name=v*))").matches(offer))
        #expect(try Constraint.parse("(!(golem.runtime.name=vm))").matches(offer) == false)
        #expect(try Constraint.parse("(golem.activity.caps.transfer.protocol=http)").matches(offer))
        #expect(try Constraint.parse("(golem.srv.caps.multi-activity=true)").matches(offer))
        #expect(try Constraint.parse("(missing=*)").matches(offer) == false)
        #expect(try Constraint.parse("").matches(offer))
    }

    @Test func unsupportedSyntaxIsAClearError() {
        // An empty operand list is valid, as the daemon's matcher reads it: `(&)` matches every offer.
        #expect((try? Constraint.parse("(&)").matches(["golem.runtime.name": "vm"])) == true)
        for bad in ["(a~=b)", "(&(a=b)", "a=b", "(=b)"] {
            #expect(throws: Constraint.SyntaxError.self, "\(bad)") { try Constraint.parse(bad) }
        }
    }
}
