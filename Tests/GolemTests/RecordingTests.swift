import Foundation
import GolemExamples
import GolemRecording
import GolemRequestor
import GolemTesting
import Testing
import YagnaAPI
import YagnaSimulator

/// The repository's root (recordings are read from `recordings/`).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func shippedRecording(_ name: String) throws -> Recording {
    try Recording.open(repositoryRoot.appendingPathComponent("recordings/\(name).sqlite").path)
}

/// This test process's scratch directory: every `temporaryFile` lives under it, and it is
/// removed when the process exits (a run of the suite leaves nothing in the temporary directory).
let testScratchRoot: URL = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("golem-sim-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: testScratchRoot) }
    return dir
}()

/// A path for a file named `name` in a directory of its own (under `testScratchRoot`).
func temporaryFile(_ name: String) -> String {
    let dir = testScratchRoot.appendingPathComponent(UUID().uuidString)
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// Runs a scenario's example in-process and saves its journal as a recording.
func recordRun(_ scenario: String, app: AppSpec? = nil) async throws -> (Recording, SimulationReport) {
    let report = try await SimulatedNetwork.runExample(scenario: try shipped(scenario), app: app)
    let path = temporaryFile("\(scenario).sqlite")
    try Recording.write(journal: report.journal, info: .simulated(start: Date(timeIntervalSince1970: 0), scenario: scenario, seed: report.seed), to: path)
    return (try Recording.open(path), report)
}

@Suite struct RecordingFormatTests {
    @Test func journalRoundTripsThroughTheFile() async throws {
        let (recording, report) = try await recordRun("hello-task")
        #expect(recording.info.source == .simulated)
        #expect(recording.info.formatVersion == RecordingFormat.version)
        #expect(recording.info.scenario == "hello-task")
        #expect(recording.info.ended != nil)
        #expect(recording.exchanges.count == report.journal.count)
        for (e, j) in zip(recording.exchanges, report.journal.sorted { ($0.startOffset, $0.sequence) < ($1.startOffset, $1.sequence) }) {
            #expect(e.method == j.method)
            #expect(e.path == j.path)
            #expect(e.requestBody == j.requestBody)
            #expect(e.responseBody == j.responseBody)
            #expect(e.status == j.status)
            #expect(e.startOffset == j.startOffset)
        }
        #expect(recording.exchanges.map(\.sequence).sorted() == Array(1...recording.exchanges.count))
    }

    @Test func committedExchangesSurviveAKilledWriter() throws {
        let path = temporaryFile("killed.sqlite")
        let writer = try RecordingWriter(path: path, info: SessionInfo(created: "2026-01-01T00:00:00Z", source: .live))
        for i in 0..<5 {
            try writer.append(RecordedExchange(sequence: 0, startOffset: Int64(i), endOffset: Int64(i + 1), method: "GET", path: "/me", status: 200, responseBody: Array("{}".utf8)))
        }
        // Copy the file and its write-ahead log as they are now, as a `kill -9` would leave them.
        let copy = temporaryFile("copy.sqlite")
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix)
        }
        let recording = try Recording.open(copy)
        #expect(recording.exchanges.count == 5)
        #expect(recording.info.ended == nil)
        #expect(recording.exchanges.map(\.sequence) == [1, 2, 3, 4, 5])
    }

    @Test func badFilesAreRefusedWithTheFileAndTheProblem() throws {
        let missing = temporaryFile("nope.sqlite")
        #expect(throws: RecordingError.self) { try Recording.open(missing) }

        let text = temporaryFile("text.sqlite")
        try "not a database".write(toFile: text, atomically: true, encoding: .utf8)
        do { _ = try Recording.open(text); Issue.record("opened a text file") } catch {
            #expect(error.isCorrupt)
            #expect(error.description.hasPrefix(text))
        }

        // A file cut short.
        let (recording, _) = try awaitRecord()
        let cut = temporaryFile("cut.sqlite")
        let data = try Data(contentsOf: URL(fileURLWithPath: recording.file))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        do { _ = try Recording.open(cut); Issue.record("opened a truncated file") } catch {
            #expect(error.isCorrupt)
            #expect(error.description.contains(cut))
        }
    }

    func awaitRecord() throws -> (Recording, Int) {
        let path = temporaryFile("small.sqlite")
        let writer = try RecordingWriter(path: path, info: SessionInfo(created: "2026-01-01T00:00:00Z", source: .imported))
        for i in 0..<40 {
            try writer.append(RecordedExchange(sequence: 0, startOffset: Int64(i), endOffset: Int64(i), method: "POST", path: "/payment-api/v1/allocations", requestBody: Array(String(repeating: "x", count: 2000).utf8), status: 201))
        }
        try writer.finish()
        return (try Recording.open(path), 40)
    }

    @Test func newerFormatsAndMissingExchangesAreRefused() throws {
        let (recording, _) = try awaitRecord()
        let newer = temporaryFile("newer.sqlite")
        try FileManager.default.copyItem(atPath: recording.file, toPath: newer)
        try sqlite(newer, "UPDATE session SET format_version = 99")
        do { _ = try Recording.open(newer); Issue.record("opened a newer format") } catch {
            #expect(error.isNewerFormat)
            #expect(error.description.contains("99"))
        }
        let gap = temporaryFile("gap.sqlite")
        try FileManager.default.copyItem(atPath: recording.file, toPath: gap)
        try sqlite(gap, "DELETE FROM exchange WHERE seq = 7")
        do { _ = try Recording.open(gap); Issue.record("opened a session with a gap") } catch {
            #expect(error.description.contains("exchange 7 is missing"))
        }
    }

    @Test func sanitizerRedactsKeysAndKeepsPseudonymsConsistent() {
        let a = "0x" + String(repeating: "ab", count: 20)
        let b = "0x" + String(repeating: "cd", count: 20)
        let e = RecordedExchange(
            sequence: 1, startOffset: 0, endOffset: 0, method: "GET", path: "/market-api/v1/agreements/\(a)", query: "authToken=secret-key-123",
            requestHeaders: [Header("Authorization", "Bearer secret-key-123")], requestBody: Array("{\"issuerId\":\"\(a)\",\"x\":\"\(b)\"}".utf8),
            status: 200, responseBody: Array("[\"\(b)\",\"\(a.uppercased().replacingOccurrences(of: "0X", with: "0x"))\"]".utf8))
        let clean = Sanitizer(pseudonymizeAddresses: true).clean(e)
        let all = clean.path + clean.query + clean.requestHeaders.map(\.value).joined() + String(decoding: clean.requestBody + clean.responseBody, as: UTF8.self)
        #expect(!all.contains("secret-key-123"))
        #expect(!all.lowercased().contains(String(repeating: "ab", count: 20)))
        #expect(!all.contains(String(repeating: "cd", count: 20)))
        let body = try! JSONParser.parse(clean.requestBody)
        let answer = try! JSONParser.parse(clean.responseBody)
        // The same address gets the same pseudonym everywhere, different ones differ.
        #expect(body["issuerId"] == answer.arrayValue?[1])
        #expect(body["x"] == answer.arrayValue?[0])
        #expect(body["issuerId"] != body["x"])
        #expect(clean.path.hasSuffix(body["issuerId"]!.stringValue!))
        // Without pseudonyms only the key goes.
        let keyOnly = Sanitizer().clean(e)
        #expect(keyOnly.requestBody == e.requestBody)
        #expect(keyOnly.requestHeaders.first?.value == "Bearer <redacted>")
    }
}

/// Runs the `sqlite3` shell (installed by `.ci/run`) on a file.
func sqlite(_ path: String, _ sql: String) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["sqlite3", path, sql]
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
}

@Suite struct ReplayTests {
    @Test func aRunReplaysStrictlyWithTheSameRequestor() async throws {
        let (recording, original) = try await recordRun("tasks-one-bad-provider")
        let replay = try await SimulatedNetwork.replay(recording.replayPlan, app: AppSpec(name: "many-tasks", arguments: ["tasks": "9"]))
        #expect(replay.replay.isEmpty, "\(replay.replay)")
        #expect(replay.failures.isEmpty, "\(replay.failures)")
        // The recorded providers came back with their ids, and the bad one still fails its commands.
        #expect(Set(replay.state.agreements.map(\.providerName)).isSubset(of: Set(original.state.agreements.map(\.providerName))))
        #expect(replay.summary?.providers["bad"]?.tasksAccepted ?? 0 == 0)
    }

    @Test func recordedOutputIsReplayed() async throws {
        let (recording, original) = try await recordRun("hello-task")
        let replay = try await SimulatedNetwork.replay(recording.replayPlan, seed: 99, app: AppSpec(name: "hello-task"))
        #expect(replay.replay.isEmpty, "\(replay.replay)")
        // `date` answers what the recorded provider answered, not the replay's clock.
        #expect(replay.output.first == original.output.first)
    }

    @Test func aChangedRequestorGetsAPreciseDivergence() async throws {
        let (recording, _) = try await recordRun("hello-task")
        let replay = try await SimulatedNetwork.replay(recording.replayPlan) { golem in
            _ = try await golem.executeTasks(["x"], payload: Examples.image, timeout: .seconds(300)) { ctx, _ in
                let script = ctx.newScript()
                let r = script.run("/bin/sh", "-c", "uname -a")
                try await ctx.execute(script)
                return try await r.value.stdout ?? ""
            }
        }
        #expect(!replay.passed)
        let first = try #require(replay.replay.first)
        #expect(first.contains("activity.exec"))
        #expect(first.contains("fields differ"))
        // The field-level diff names the argument that changed.
        #expect(first.contains(#"[0].run.args[1]: "date" → "uname -a""#), "\(first)")
        #expect(replay.failures.contains { $0.hasPrefix("replay:") })
    }

    @Test func lenientReplayServesFromDefaultsAndOnlyReports() async throws {
        let (recording, _) = try await recordRun("hello-task")
        let replay = try await SimulatedNetwork.replay(recording.replayPlan, strict: false, app: AppSpec(name: "many-tasks", arguments: ["tasks": "2"]))
        #expect(replay.error == nil, "\(replay.error ?? "")")
        #expect(!replay.replay.isEmpty)
        #expect(!replay.failures.contains { $0.hasPrefix("replay:") })
    }

    /// Every shipped recording shows what its scenario is about (not just a session that
    /// happened to avoid the fault).
    @Test func shippedRecordingsShowTheirScenarios() throws {
        func lanes(_ name: String) throws -> [SessionReport.Lane] { SessionReport(try shippedRecording(name)).lanes }
        func lane(_ name: String, _ provider: String) throws -> SessionReport.Lane? { try lanes(name).first { $0.name == provider } }
        func agreements(_ l: SessionReport.Lane?) -> Int { l?.events.filter { $0.kind == .agreementApproved }.count ?? 0 }
        // service-provider-dies: the provider terminates under the running service, which is respawned elsewhere.
        let doomed = try lane("service-provider-dies", "doomed")
        #expect(doomed?.terminatedByProvider == true, "doomed never terminated its agreement")
        #expect(agreements(try lane("service-provider-dies", "steady")) >= 1, "the instance was not respawned on steady")
        // tasks-one-bad-provider: the bad provider's commands fail and the tasks run on the good ones.
        #expect((try lane("tasks-one-bad-provider", "bad")?.failedCommands ?? 0) >= 1, "the bad provider never failed a command")
        #expect(try lanes("tasks-one-bad-provider").filter { $0.name.hasPrefix("good") }.map(\.batches).reduce(0, +) >= 9)
        // missing-invoice: no invoice ever comes.
        #expect(try lanes("missing-invoice").allSatisfy { !$0.events.contains { $0.kind == .invoice } })
        #expect(try lanes("missing-invoice").contains { agreements($0) == 1 })
        // no-multi-activity: the requestor never terminates (the provider ends the agreement after the activity).
        #expect(try lanes("no-multi-activity").allSatisfy { !$0.events.contains { $0.kind == .agreementTerminated && $0.details["terminator"]?.stringValue == "Requestor" } })
        // simple-service: debit notes while the service runs, then the invoice.
        let host = try lanes("simple-service").first { agreements($0) > 0 }
        #expect(host?.events.contains { $0.kind == .debitNoteAccepted } == true)
        #expect(host?.events.contains { $0.kind == .invoiceAccepted } == true)
        for name in ["hello-task", "yapapi-hello"] {
            #expect(try lanes(name).contains { $0.events.contains { $0.kind == .invoiceAccepted } }, "\(name): no accepted invoice")
        }
    }

    @Test func shippedRecordingsReplayStrictlyWithTheirApps() async throws {
        for (name, app) in [
            ("hello-task", AppSpec(name: "hello-task")), ("tasks-one-bad-provider", AppSpec(name: "many-tasks", arguments: ["tasks": "9"])),
            ("no-multi-activity", AppSpec(name: "hello-task")),
            ("simple-service", AppSpec(name: "simple-service", arguments: ["instances": "1", "running-time": "35"])),
            ("service-10min", AppSpec(name: "simple-service", arguments: ["instances": "1", "running-time": "600"])),
            // Sessions of a real yagna 0.17.6 with golem-sim provide (recordings/record-real.sh).
            ("real-hello-task", AppSpec(name: "hello-task")),
            ("real-service-provider-dies", AppSpec(name: "simple-service", arguments: ["instances": "1", "running-time": "60"])),
            ("real-simple-service", AppSpec(name: "simple-service", arguments: ["instances": "1", "running-time": "35"])),
        ] {
            let recording = try shippedRecording(name)
            #expect(recording.info.source == (name.hasPrefix("real-") ? .live : .simulated), "\(name)")
            #expect(!recording.exchanges.contains { e in e.requestHeaders.contains { $0.value.contains("golem-sim-dev-key") } })
            let replay = try await SimulatedNetwork.replay(recording.replayPlan, app: app)
            #expect(replay.replay.isEmpty, "\(name): \(replay.replay)")
        }
    }

    @Test func theSwiftExampleReplaysARecordingOfYapapi() async throws {
        let recording = try shippedRecording("yapapi-hello")
        let replay = try await SimulatedNetwork.replay(recording.replayPlan, app: AppSpec(name: "hello-task"))
        #expect(replay.replay.isEmpty, "\(replay.replay)")
        #expect(replay.failures.isEmpty, "\(replay.failures)")
    }

    @Test func aScenarioCanStartFromARecordingAndAddFaults() async throws {
        let path = repositoryRoot.appendingPathComponent("recordings/hello-task.sqlite").path
        let scenario = try Scenario.parse(yaml: """
            name: hello on a recording, with a failing provider beside it
            base: \(path)
            app: hello-task
            providers:
              - name: provider-1
                faults:
                  - fail-command: { match: date, exit-code: 3, stderr: boom }
            """)
        let resolved = try scenario.resolvingBase()
        let recorded = try shippedRecording("hello-task").replayPlan.scenario.providers[0]
        #expect(resolved.providers.count == 1)
        #expect(resolved.providers[0].nodeId == recorded.nodeId)
        #expect(resolved.providers[0].faults.count == recorded.faults.count + 1)
    }
}

@Suite struct SessionToolTests {
    @Test func inspectShowsEachProvidersTimeline() async throws {
        let (recording, _) = try await recordRun("tasks-one-bad-provider")
        let report = SessionReport(recording)
        #expect(report.lanes.count == 3)
        let bad = try #require(report.lanes.first { $0.name == "bad" })
        #expect(bad.failedCommands >= 1)
        #expect(bad.events.contains { $0.kind == .agreementTerminated })
        let good = report.lanes.filter { $0.name != "bad" }
        #expect(good.allSatisfy { $0.accepted > 0 })
        #expect(report.text.contains("provider bad"))
        #expect(report.text.contains("✗"))
        // JSON for tools, HTML with one lane per provider plus the requestor.
        #expect(report.json["providers"]?.arrayValue?.count == 3)
        let html = report.html
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.components(separatedBy: "class=\"lane\"").count - 1 == 4)
        #expect(html.contains("batch failed"))
        #expect(!html.contains("<script src"))
    }

    @Test func diffOfTheSameWorkIsEmptyAndOfOtherWorkIsPrecise() async throws {
        let (a, _) = try await recordRun("hello-task")
        let (b, _) = try await recordRun("hello-task")
        #expect(SessionDiff(a, b).same)
        let (c, _) = try await recordRun("hello-task", app: AppSpec(name: "many-tasks", arguments: ["tasks": "2"]))
        let diff = SessionDiff(a, c)
        #expect(!diff.same)
        #expect(diff.text.contains { $0.contains("activity.exec") })
    }

    @Test func verifyReportsDriftOfADoctoredRecording() throws {
        let source = try shippedRecording("hello-task")
        let path = temporaryFile("doctored.sqlite")
        let writer = try RecordingWriter(path: path, info: source.info)
        for var e in source.exchanges {
            switch e.operation?.spec.name {
            case "payment.createAllocation":
                // A newer daemon adds a field and drops a required one.
                var o = try JSONParser.parse(e.responseBody).objectValue!
                o["spendingLimit"] = "5"
                o.removeValue(forKey: "allocationId")
                e.responseBody = Array(JSONWriter.string(.object(o)).utf8)
            case "identity.me": e.status = 418
            default: break
            }
            try writer.append(e)
        }
        try writer.append(RecordedExchange(sequence: 0, startOffset: 9, endOffset: 9, method: "GET", path: "/market-api/v1/scan/0123456789abcdef0123", status: 200))
        try writer.append(RecordedExchange(
            sequence: 0, startOffset: 9, endOffset: 9, method: "GET", path: "/market-api/v1/demands/x/events", status: 200,
            responseBody: Array(#"[{"eventType":"ProposalExpiredEvent","eventDate":"2026-01-01T00:00:00Z","proposalId":"p"}]"#.utf8)))
        try writer.finish()
        let drift = RecordingVerifier(try Recording.open(path)).drift
        #expect(drift.contains { $0.kind == .unreadableAnswer && $0.operation == "payment.createAllocation" && $0.detail.contains("allocationId") })
        #expect(drift.contains { $0.kind == .unknownEndpoint && $0.operation == "GET /market-api/v1/scan/{id}" })
        #expect(drift.contains { $0.kind == .unknownEventType && $0.detail == "ProposalExpiredEvent" })
        #expect(drift.contains { $0.kind == .unexpectedStatus && $0.operation == "identity.me" && $0.detail.hasPrefix("status 418") })
        let unchanged = RecordingVerifier(source)
        #expect(unchanged.drift.isEmpty, "\(unchanged.drift)")
    }
}
