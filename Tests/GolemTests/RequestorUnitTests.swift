import Foundation
@testable import GolemRequestor
import GolemTime
import Logging
import Synchronization
import Testing
import YagnaAPI

/// The requestor library's building blocks without a node: scripts and their exe-script JSON,
/// results by command index, the engine's event buffer, summary and ledger, graceful shutdown's
/// plain path, service lifecycles and clusters, networks, configuration, the engine's start,
/// demand and payment decisions on the wire, and the typed clients' requests, over a stub transport.
@Suite struct RequestorUnitTests {
    // MARK: - Helpers

    /// A daemon stand-in: answers each request from a closure given the request and how many
    /// earlier requests had the same operation, and records every request.
    final class Stub: Transport {
        let answer: @Sendable (YagnaRequest, Int) -> YagnaResponse
        private let log = Mutex<[YagnaRequest]>([])

        init(_ answer: @escaping @Sendable (YagnaRequest, Int) -> YagnaResponse) { self.answer = answer }

        var requests: [YagnaRequest] { log.withLock { $0 } }

        private func record(_ request: YagnaRequest) -> Int {
            log.withLock { l -> Int in
                let earlier = l.filter { $0.operation == request.operation }.count
                l.append(request)
                return earlier
            }
        }

        func send(_ request: YagnaRequest) async throws -> YagnaResponse { answer(request, record(request)) }

        func openEventStream(_ request: YagnaRequest) async throws -> EventStreamResponse { .response(answer(request, record(request))) }
    }

    /// Publishes uploads as `gftp://fake/upN` and hands downloads `incoming`.
    final class FakeStorage: FileStorage {
        let published = Mutex<[[UInt8]]>([])
        let incoming: [UInt8]

        init(incoming: [UInt8] = []) { self.incoming = incoming }

        func publish(_ bytes: [UInt8]) async throws -> String {
            let n = published.withLock { p -> Int in
                p.append(bytes)
                return p.count - 1
            }
            return "gftp://fake/up\(n)"
        }

        func receive() async throws -> (url: String, read: @Sendable () async throws -> [UInt8]) {
            let bytes = incoming
            let read: @Sendable () async throws -> [UInt8] = { bytes }
            return (url: "gftp://fake/down", read: read)
        }
    }

    struct Boom: Error, Equatable { var code: Int }

    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let platformKey = "golem.com.payment.platform.erc20-holesky-tglm.address"
    static let stamp = WireTimestamp(text: "2027-01-15T08:00:00Z")

    func makeGolem(_ stub: Stub, storage: (any FileStorage)? = nil, _ configure: (inout GolemConfiguration) -> Void = { _ in }) -> Golem {
        var configuration = GolemConfiguration(budget: 1)
        configure(&configuration)
        return Golem(
            yagna: YagnaClient(transport: stub), configuration: configuration, clock: Simulation(start: Self.start).clock,
            storage: storage, logger: Logger(label: "requestor-unit-tests"))
    }

    func context(_ golem: Golem) -> WorkContext {
        WorkContext(activityId: "act-1", agreementId: "agr-1", provider: "p", providerId: "0xp", offer: [:], golem: golem)
    }

    func body(_ request: YagnaRequest) throws -> JSONValue { try JSONParser.parse(request.body ?? []) }

    func exeText(_ script: Script) throws -> String { try ExeScriptRequest(commands: script.steps.map(\.command)).text }

    static func result(
        _ index: Int, _ kind: CommandResultKind = .ok, stdout: CommandOutput? = nil, stderr: CommandOutput? = nil, message: String? = nil,
        finished: Bool = false
    ) -> ExeScriptCommandResult {
        ExeScriptCommandResult(index: index, eventDate: stamp, result: kind, stdout: stdout, stderr: stderr, message: message, isBatchFinished: finished)
    }

    /// An activity whose batch `batch-1` reports `results` to every poll.
    func execStub(_ results: [ExeScriptCommandResult]) -> Stub {
        let answer = JSONValue(results)
        return Stub { r, _ in
            switch r.operation {
            case "activity.exec": return .json(200, "batch-1")
            case "activity.getExecBatchResults": return .json(200, answer)
            default: return .json(500, .string("unexpected \(r.operation)"))
            }
        }
    }

    /// Identity, allocation and decorations as the daemon answers them; `more` answers first.
    func daemon(
        allocationId: String, total: Decimal = 1, _ more: @escaping @Sendable (YagnaRequest, Int) -> YagnaResponse? = { _, _ in nil }
    ) -> Stub {
        let allocation = JSONValue(Allocation(
            allocationId: allocationId, address: "0xreq", paymentPlatform: "erc20-holesky-tglm", totalAmount: total, spentAmount: 0,
            remainingAmount: total, timestamp: Self.stamp))
        let decoration = JSONValue(DemandDecoration(properties: [.init(key: Self.platformKey, value: "0xreq")], constraints: ["(\(Self.platformKey)=*)"]))
        return Stub { r, n in
            if let answer = more(r, n) { return answer }
            switch r.operation {
            case "identity.me": return .json(200, ["identity": "0xreq"])
            case "payment.createAllocation": return .json(201, allocation)
            case "payment.getDemandDecorations": return .json(200, decoration)
            case "payment.releaseAllocation": return YagnaResponse(status: 204)
            default: return .json(500, .string("the stub has no answer for \(r.operation)"))
            }
        }
    }

    /// A net API that echoes the network it is asked for, with `id` if given.
    func netStub(id: String?) -> Stub {
        Stub { r, _ in
            switch r.operation {
            case "net.createNetwork":
                guard let sent = try? JSONParser.parse(r.body ?? []) else { return .json(400, nil) }
                var answer = sent.objectValue ?? [:]
                if let id { answer["id"] = .string(id) }
                return .json(201, .object(answer))
            case "net.addAddress", "net.addNode": return YagnaResponse(status: 201)
            case "net.removeNetwork": return YagnaResponse(status: 204)
            default: return .json(500, nil)
            }
        }
    }

    static func invoice(_ id: String, agreement: String, issuer: String, amount: Decimal) -> Invoice {
        Invoice(
            invoiceId: id, issuerId: issuer, recipientId: "0xreq", payeeAddr: issuer, payerAddr: "0xreq", paymentPlatform: "erc20-holesky-tglm",
            timestamp: stamp, agreementId: agreement, activityIds: ["act-1"], amount: amount, paymentDueDate: WireTimestamp(text: "2027-01-16T08:00:00Z"),
            status: .received)
    }

    static func debitNote(_ id: String, activity: String, due: Decimal) -> DebitNote {
        DebitNote(
            debitNoteId: id, issuerId: "0xa", recipientId: "0xreq", payeeAddr: "0xa", payerAddr: "0xreq", paymentPlatform: "erc20-holesky-tglm",
            previousDebitNoteId: nil, timestamp: stamp, agreementId: "agr-1", activityId: activity, totalAmountDue: due, usageCounterVector: nil,
            paymentDueDate: nil, status: .received)
    }

    // MARK: - Script building

    @Test func aScriptKeepsItsCommandsInOrderWithTransfersAsPlaceholdersUntilPrepared() throws {
        let s = Script(timeout: nil)
        s.deploy()
        s.start()
        s.run("/bin/echo", "a")
        s.sendBytes([1, 2], to: "/golem/input/blob")
        s.sendJSON(["k": 1], to: "/golem/input/p.json")
        s.sendFile("/nonexistent/in.txt", to: "/golem/input/f")
        _ = s.downloadBytes(from: "/golem/output/a")
        _ = s.downloadJSON(from: "/golem/output/b.json")
        _ = s.downloadFile(from: "/golem/output/c", to: "/nonexistent/c")
        s.terminate()
        #expect(s.count == 10)
        #expect(s.steps.map(\.command.name) == ["deploy", "start", "run", "transfer", "transfer", "transfer", "transfer", "transfer", "transfer", "terminate"])
        // Only transfers need the storage before the batch goes out.
        #expect(s.steps.map { $0.prepare != nil } == [false, false, false, true, true, true, true, true, true, false])
        #expect(s.steps[3].command == .transfer(TransferCommand(from: "", to: "container:/golem/input/blob")))
        #expect(s.steps[5].command == .transfer(TransferCommand(from: "", to: "container:/golem/input/f")))
        #expect(s.steps[6].command == .transfer(TransferCommand(from: "container:/golem/output/a", to: "")))
        #expect(s.timeout == nil && s.resultMode == nil)
    }

    @Test func deployStartRunAndTerminateBecomeTheExeScriptTextWithEscapedArguments() throws {
        let s = Script(timeout: nil)
        s.deploy(env: ["GREETING": "hi"], volumes: ["/golem/work"])
        s.start("--verbose")
        s.run("/bin/sh", "-c", "echo \"a\\b\"\tdone\n", capture: .atEnd)
        s.terminate()
        let text = try exeText(s)
        #expect(text == #"[{"deploy":{"env":{"GREETING":"hi"},"volumes":["/golem/work"]}},{"start":{"args":["--verbose"]}},{"run":{"args":["-c","echo \"a\\b\"\tdone\n"],"capture":{"stderr":{"atEnd":{}},"stdout":{"atEnd":{}}},"entry_point":"/bin/sh"}},{"terminate":{}}]"#)
        #expect(try ExeScriptRequest(text: text).commands() == s.steps.map(\.command))
    }

    @Test func aBareDeployAndAnEmptyStartAreWrittenAsYapapiWritesThemAndANetworkDeployNamesItsNodes() throws {
        let bare = Script(timeout: nil)
        bare.deploy()
        bare.start()
        #expect(try exeText(bare) == #"[{"deploy":{}},{"start":{"args":[]}}]"#)
        let net = Script(timeout: nil)
        let join = DeployNetwork(
            id: "net-1", ip: "192.168.0.0", mask: "255.255.255.0", nodeIp: "192.168.0.2", nodes: ["192.168.0.3": "0xother", "192.168.0.2": "0xprov"])
        net.deploy(network: [join])
        #expect(try exeText(net) == #"[{"deploy":{"net":[{"id":"net-1","ip":"192.168.0.0","mask":"255.255.255.0","nodeIp":"192.168.0.2","nodes":{"192.168.0.2":"0xprov","192.168.0.3":"0xother"}}]}}]"#)
    }

    @Test func runWithAnArgumentArrayEqualsTheVariadicFormAndControlCharactersAreEscaped() throws {
        let a = Script(timeout: nil)
        a.run("/bin/echo", "ünï", "\u{1}", "a/b")
        let b = Script(timeout: nil)
        b.run("/bin/echo", arguments: ["ünï", "\u{1}", "a/b"])
        #expect(a.steps.map(\.command) == b.steps.map(\.command))
        let text = try exeText(a)
        #expect(text == #"[{"run":{"args":["ünï","\u0001","a/b"],"capture":{"stderr":{"stream":{}},"stdout":{"stream":{}}},"entry_point":"/bin/echo"}}]"#)
        #expect(try ExeScriptRequest(text: text).commands() == a.steps.map(\.command))
        // No capture at all: the output is discarded, and no arguments is an empty list.
        let quiet = Script(timeout: nil)
        quiet.run("/bin/true", capture: Capture())
        #expect(try exeText(quiet) == #"[{"run":{"args":[],"capture":{},"entry_point":"/bin/true"}}]"#)
    }

    @Test func uploadsArePublishedWhenPreparedAndPointTheTransferAtTheStorage() async throws {
        let s = Script(timeout: nil)
        s.sendBytes([0, 255, 10], to: "/golem/input/blob")
        s.sendJSON(["b": "x", "a": [1, 2]], to: "/golem/input/p.json")
        let storage = FakeStorage()
        var prepared: [ExeScriptCommand] = []
        for step in s.steps { prepared.append(try await step.prepare?(storage) ?? step.command) }
        #expect(prepared == [
            .transfer(TransferCommand(from: "gftp://fake/up0", to: "container:/golem/input/blob")),
            .transfer(TransferCommand(from: "gftp://fake/up1", to: "container:/golem/input/p.json")),
        ])
        // JSON goes up compact with sorted keys.
        #expect(storage.published.withLock { $0 } == [[0, 255, 10], Array(#"{"a":[1,2],"b":"x"}"#.utf8)])
        // Without a storage every transfer, either way, fails with NoFileStorage.
        _ = s.downloadBytes(from: "/golem/output/x")
        for step in s.steps {
            await #expect(throws: NoFileStorage.self) { _ = try await step.prepare?(nil) }
        }
    }

    @Test func aLocalFileIsReadWhenTheScriptRunsNotWhenItIsBuilt() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("requestor-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let local = dir.appendingPathComponent("params.txt")
        let s = Script(timeout: nil)
        s.sendFile(local.path, to: "/golem/input/params.txt")
        let step = try #require(s.steps.first)
        let storage = FakeStorage()
        let missing = await #expect(throws: LocalFileMissing.self) { _ = try await step.prepare?(storage) }
        #expect(missing?.path == local.path)
        #expect(missing?.description == "cannot read the local file \(local.path)")
        #expect(storage.published.withLock { $0 }.isEmpty)
        try Data("written later\n".utf8).write(to: local)
        let command = try await step.prepare?(storage)
        #expect(command == .transfer(TransferCommand(from: "gftp://fake/up0", to: "container:/golem/input/params.txt")))
        #expect(storage.published.withLock { $0 } == [Array("written later\n".utf8)])
    }

    @Test func downloadsResolveToBytesJSONOrALocalFileOnceTheirTransferRan() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("requestor-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("out.json")
        let arrived = Array(#"{"frames":[1,2]}"#.utf8)
        let s = Script(timeout: nil)
        let bytes = s.downloadBytes(from: "/golem/output/r.json")
        let json = s.downloadJSON(from: "/golem/output/r.json")
        let file = s.downloadFile(from: "/golem/output/r.json", to: target.path)
        var commands: [ExeScriptCommand] = []
        for step in s.steps { commands.append(try await step.prepare?(FakeStorage(incoming: arrived)) ?? step.command) }
        #expect(commands == Array(repeating: ExeScriptCommand.transfer(TransferCommand(from: "container:/golem/output/r.json", to: "gftp://fake/down")), count: 3))
        for (i, step) in s.steps.enumerated() { await step.resolve(.success(CommandOutcome(index: i, stdout: nil, stderr: nil, message: nil))) }
        #expect(try await bytes.value == arrived)
        #expect(try await json.value == ["frames": [1, 2]])
        #expect(try await file.value.index == 2)
        #expect(try Data(contentsOf: target) == Data(arrived))

        // What arrived is not JSON: the parser's error, not a crash.
        let bad = Script(timeout: nil)
        let notJSON = bad.downloadJSON(from: "/golem/output/bad.json")
        let badStep = try #require(bad.steps.first)
        _ = try await badStep.prepare?(FakeStorage(incoming: Array("not json".utf8)))
        await badStep.resolve(.success(CommandOutcome(index: 0, stdout: nil, stderr: nil, message: nil)))
        await #expect(throws: JSONParser.SyntaxError.self) { _ = try await notJSON.value }

        // The transfer failed: the future carries that error and no file is written.
        let failed = Script(timeout: nil)
        let elsewhere = dir.appendingPathComponent("never.bin")
        let never = failed.downloadFile(from: "/golem/output/x", to: elsewhere.path)
        await failed.steps[0].resolve(.failure(Boom(code: 4)))
        await #expect(throws: Boom(code: 4)) { _ = try await never.value }
        #expect(!FileManager.default.fileExists(atPath: elsewhere.path))
    }

    @Test func aFutureOfAScriptNeverRunOrADownloadNeverPreparedSaysSo() async throws {
        let s = Script(timeout: nil)
        let run = s.run("/bin/true")
        let error = await #expect(throws: ScriptNotExecuted.self) { _ = try await run.value }
        #expect(error?.description.contains("WorkContext.execute") == true)
        // Resolved without its transfer having been prepared: nothing to read.
        let download = s.downloadBytes(from: "/golem/output/x")
        await s.steps[1].resolve(.success(CommandOutcome(index: 1, stdout: nil, stderr: nil, message: nil)))
        await #expect(throws: ScriptNotExecuted.self) { _ = try await download.value }
    }

    @Test func commandErrorsDescribeTheCommandTheProviderAndAnyStderr() throws {
        var e = CommandError(command: "/bin/sh -c exit 3", index: 1, message: "exited with code 3", provider: "p1")
        #expect(e.description == "command 1 (/bin/sh -c exit 3) failed on p1: exited with code 3")
        e.stderr = ""
        #expect(e.description == "command 1 (/bin/sh -c exit 3) failed on p1: exited with code 3")
        e.stderr = "sh: oops"
        #expect(e.description == "command 1 (/bin/sh -c exit 3) failed on p1: exited with code 3, stderr: sh: oops")
        // A run is named by its command line, anything else by its wire name.
        #expect(Golem.describe(.run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "echo a b"]))) == "/bin/sh -c echo a b")
        #expect(Golem.describe(.run(RunCommand(entryPoint: "/golem/run.sh"))) == "/golem/run.sh")
        #expect(Golem.describe(.deploy(DeployCommand())) == "deploy")
        #expect(Golem.describe(.transfer(TransferCommand(from: "a", to: "b"))) == "transfer")
        #expect(Golem.describe(.other(name: "sign-x", body: .null)) == "sign-x")
    }

    // MARK: - Executing a script over a stub activity

    @Test func outcomesFollowTheCommandsWhateverOrderTheResultsArriveIn() async throws {
        let stub = execStub([
            Self.result(2, stdout: .text("two\n"), stderr: .text(""), message: "done", finished: true),
            Self.result(0),
            Self.result(1, stdout: .bytes(Array("one\n".utf8))),
        ])
        let golem = makeGolem(stub)
        let ctx = context(golem)
        let script = ctx.newScript()
        let deploy = script.deploy()
        let one = script.run("/bin/echo", "one")
        let two = script.run("/bin/echo", "two")
        let outcomes = try await ctx.execute(script)
        #expect(outcomes == [
            CommandOutcome(index: 0, stdout: nil, stderr: nil, message: nil),
            CommandOutcome(index: 1, stdout: "one\n", stderr: nil, message: nil),
            CommandOutcome(index: 2, stdout: "two\n", stderr: "", message: "done"),
        ])
        #expect(try await deploy.value == outcomes[0])
        #expect(try await one.value.stdout == "one\n")
        #expect(try await two.value.index == 2)
        // One exe script for the batch, polled as yapapi polls (5 s long polls).
        let exec = try #require(stub.requests.first { $0.operation == "activity.exec" })
        #expect(exec.method == .POST && exec.path == "/activity/act-1/exec")
        let sent = try body(exec)
        let text = try #require(sent["text"]?.stringValue)
        #expect(try ExeScriptRequest(text: text).commands() == script.steps.map(\.command))
        let poll = try #require(stub.requests.first { $0.operation == "activity.getExecBatchResults" })
        #expect(poll.path == "/activity/act-1/exec/batch-1" && poll.query == [QueryItem("timeout", "5")] && poll.longPoll == .seconds(5))
        #expect(await Array(golem.events) == [.scriptSent(provider: "p", batchId: "batch-1", commands: 3), .scriptFinished(provider: "p", batchId: "batch-1")])
    }

    @Test func aFailedCommandFailsItsFutureAndEveryOneAfterIt() async throws {
        let stub = execStub([
            Self.result(0, stdout: .text("hi\n")),
            Self.result(1, .error, stderr: .text("boom\n"), message: "ExeScript command exited with code 3", finished: true),
        ])
        let golem = makeGolem(stub)
        let ctx = context(golem)
        let script = ctx.newScript()
        let first = script.run("/bin/echo", "hi")
        let failing = script.run("/bin/sh", "-c", "exit 3")
        let after = script.run("/bin/echo", "never")
        let thrown = await #expect(throws: CommandError.self) { _ = try await ctx.execute(script) }
        #expect(thrown?.index == 1 && thrown?.command == "/bin/sh -c exit 3" && thrown?.provider == "p")
        #expect(thrown?.message == "ExeScript command exited with code 3" && thrown?.stderr == "boom\n")
        #expect(thrown?.description == "command 1 (/bin/sh -c exit 3) failed on p: ExeScript command exited with code 3, stderr: boom\n")
        #expect(try await first.value.stdout == "hi\n")
        let own = await #expect(throws: CommandError.self) { _ = try await failing.value }
        let later = await #expect(throws: CommandError.self) { _ = try await after.value }
        #expect(own?.index == 1 && later?.index == 1 && later?.command == "/bin/sh -c exit 3")
        #expect(await Array(golem.events) == [
            .scriptSent(provider: "p", batchId: "batch-1", commands: 3),
            .commandFailed(provider: "p", command: "/bin/sh -c exit 3", message: "ExeScript command exited with code 3"),
            .scriptFinished(provider: "p", batchId: "batch-1"),
        ])
        #expect(await golem.summary.providers["p"]?.failures == 1)
    }

    @Test func aCommandMissingFromAFinishedBatchFailsAsNoResultWithThoseAfterIt() async throws {
        let golem = makeGolem(execStub([Self.result(0), Self.result(2, finished: true)]))
        let ctx = context(golem)
        let script = ctx.newScript()
        let first = script.run("/bin/echo", "a")
        let missing = script.run("/bin/echo", "b")
        let last = script.run("/bin/echo", "c")
        let thrown = await #expect(throws: CommandError.self) { _ = try await ctx.execute(script) }
        #expect(thrown?.index == 1 && thrown?.message == "no result")
        #expect(try await first.value.index == 0)
        await #expect(throws: CommandError.self) { _ = try await missing.value }
        let lastError = await #expect(throws: CommandError.self) { _ = try await last.value }
        #expect(lastError?.index == 1, "the first failure, not the command's own result")
    }

    @Test func aTransferWithoutStorageFailsTheWholeScriptBeforeAnythingIsSent() async throws {
        let stub = execStub([])
        let golem = makeGolem(stub)
        let ctx = context(golem)
        let script = ctx.newScript()
        let run = script.run("/bin/echo", "a")
        script.sendBytes([1, 2, 3], to: "/golem/input/b")
        await #expect(throws: NoFileStorage.self) { _ = try await ctx.execute(script) }
        await #expect(throws: NoFileStorage.self) { _ = try await run.value }
        #expect(stub.requests.isEmpty)
        #expect(await golem.events.isEmpty)
    }

    @Test func anExecTheDaemonRefusesFailsTheFuturesWithItsError() async throws {
        let golem = makeGolem(Stub { _, _ in .json(500, ["message": "exe unit gone"]) })
        let ctx = context(golem)
        let script = ctx.newScript()
        let run = script.run("/bin/echo", "a")
        let thrown = await #expect(throws: YagnaError.self) { _ = try await ctx.execute(script) }
        #expect(thrown?.operation == "activity.exec" && thrown?.code == .serverError && thrown?.message == "exe unit gone")
        await #expect(throws: YagnaError.self) { _ = try await run.value }
    }

    @Test func aPollTheDaemonRefusesNamesTheActivitysTerminationWhenThatIsTheCause() async throws {
        func pollFailing(_ state: ActivityStateResponse) -> Stub {
            let answer = JSONValue(state)
            return Stub { r, _ in
                switch r.operation {
                case "activity.exec": return .json(200, "batch-1")
                case "activity.getExecBatchResults": return .json(404, ["message": "batch not found"])
                case "activity.getActivityState": return .json(200, answer)
                default: return .json(500, nil)
                }
            }
        }
        // Terminated with a reason: that reason.
        let gone = context(makeGolem(pollFailing(ActivityStateResponse(current: .terminated, reason: "provider went away"))))
        let script = gone.newScript()
        let run = script.run("/bin/echo", "a")
        let ended = await #expect(throws: ActivityTerminated.self) { _ = try await gone.execute(script) }
        #expect(ended?.activityId == "act-1" && ended?.description == "activity act-1 was terminated: provider went away")
        await #expect(throws: ActivityTerminated.self) { _ = try await run.value }
        // Terminated without one: the failed poll says what happened.
        let silent = context(makeGolem(pollFailing(ActivityStateResponse(current: .terminated))))
        let quiet = silent.newScript()
        quiet.run("/bin/echo", "a")
        let unexplained = await #expect(throws: ActivityTerminated.self) { _ = try await silent.execute(quiet) }
        #expect(unexplained?.reason == "activity.getExecBatchResults failed: GET /activity/act-1/exec/batch-1 answered 404: batch not found")
        // Still alive: the daemon's own error.
        let alive = context(makeGolem(pollFailing(ActivityStateResponse(current: .ready))))
        let other = alive.newScript()
        other.run("/bin/echo", "a")
        let refused = await #expect(throws: YagnaError.self) { _ = try await alive.execute(other) }
        #expect(refused?.code == .notFound && refused?.operation == "activity.getExecBatchResults")
    }

    @Test func aScriptWhoseTimeoutHasPassedTimesOutBeforeItsFirstPoll() async throws {
        let stub = execStub([Self.result(0, finished: true)])
        let golem = makeGolem(stub)
        let ctx = context(golem)
        let script = ctx.newScript(timeout: .zero)
        #expect(script.timeout == .zero && script.resultMode == nil)
        let run = script.run("/bin/echo", "a")
        let thrown = await #expect(throws: BatchTimeout.self) { _ = try await ctx.execute(script) }
        #expect(thrown?.batchId == "batch-1" && thrown?.timeout == .zero)
        #expect(thrown?.description.hasPrefix("batch batch-1 did not finish within ") == true)
        await #expect(throws: BatchTimeout.self) { _ = try await run.value }
        #expect(stub.requests.map(\.operation) == ["activity.exec"])
    }

    // MARK: - The event buffer

    @Test func theEngineKeepsTheNewestEventsTrimmingInStepsWhileOnEventSeesAll() async throws {
        let seen = EventLog()
        let golem = makeGolem(Stub { _, _ in .json(500, nil) }) { c in
            c.eventBufferLimit = 3
            c.onEvent = { seen.add($0) }
        }
        var lengths: [Int] = []
        for i in 0..<10 {
            await golem.emit(.demandSubscribed(id: "d\(i)"))
            lengths.append(await golem.eventLog.count)
        }
        // Trimmed back to the limit whenever twice the limit is reached.
        #expect(lengths == [1, 2, 3, 4, 5, 3, 4, 5, 3, 4])
        #expect(await Array(golem.events) == [.demandSubscribed(id: "d7"), .demandSubscribed(id: "d8"), .demandSubscribed(id: "d9")])
        #expect(seen.all == (0..<10).map { GolemEvent.demandSubscribed(id: "d\($0)") })
    }

    @Test func aLimitBelowOneStillKeepsTheLatestEventAndTheSummaryCountsEverything() async throws {
        let golem = makeGolem(Stub { _, _ in .json(500, nil) }) { $0.eventBufferLimit = 0 }
        let stream = await golem.eventStream()
        for i in 1...3 { await golem.emit(.invoiceAccepted(provider: "a", invoiceId: "i\(i)", amount: Decimal(i))) }
        #expect(await Array(golem.events) == [.invoiceAccepted(provider: "a", invoiceId: "i3", amount: 3)])
        #expect(await golem.eventLog.count == 1)
        #expect(await golem.summary.totalCost == 6)
        await golem.finishStreams()
        var got: [GolemEvent] = []
        for await e in stream { got.append(e) }
        #expect(got == [.invoiceAccepted(provider: "a", invoiceId: "i3", amount: 3)])
    }

    @Test func eachStreamHoldsTheNewestEventsSinceItOpenedAndOneOpenedAfterTheEndIsEmpty() async throws {
        let golem = makeGolem(Stub { _, _ in .json(500, nil) }) { $0.eventBufferLimit = 2 }
        let early = await golem.eventStream()
        await golem.emit(.demandSubscribed(id: "s1"))
        await golem.emit(.demandSubscribed(id: "s2"))
        let late = await golem.eventStream()
        await golem.emit(.demandSubscribed(id: "s3"))
        await golem.finishStreams()
        #expect(await golem.streams.isEmpty)
        let afterEnd = await golem.eventStream()
        var a: [GolemEvent] = [], b: [GolemEvent] = [], c: [GolemEvent] = []
        for await e in early { a.append(e) }
        for await e in late { b.append(e) }
        for await e in afterEnd { c.append(e) }
        #expect(a == [.demandSubscribed(id: "s2"), .demandSubscribed(id: "s3")])
        #expect(b == [.demandSubscribed(id: "s3")])
        #expect(c.isEmpty)
    }

    // MARK: - Run summary and ledger

    @Test func theSummaryTotalsInvoicesPerProviderAndPrintsAnAlignedTable() throws {
        var summary = RunSummary()
        for e: GolemEvent in [
            .invoiceAccepted(provider: "alpha", invoiceId: "i1", amount: Decimal(string: "0.0012")!),
            .invoiceAccepted(provider: "alpha", invoiceId: "i2", amount: Decimal(string: "0.0003")!),
            // Debit notes are not what is paid: only invoices count as cost.
            .debitNoteAccepted(provider: "alpha", debitNoteId: "dn", amount: 5),
            .taskAccepted(job: 1, taskId: 0, provider: "alpha"), .taskAccepted(job: 1, taskId: 1, provider: "alpha"),
            .commandFailed(provider: "beta", command: "x", message: "m"), .activityCreateFailed(provider: "beta", reason: "r"),
            .taskRejected(job: 1, taskId: 2, provider: "beta", reason: "r", retry: true),
            .unpaidAgreement(provider: "beta", agreementId: "agr-b"),
        ] { summary.record(e) }
        #expect(summary.providers["alpha"] == ProviderSummary(name: "alpha", tasksAccepted: 2, failures: 0, cost: Decimal(string: "0.0015")!))
        #expect(summary.providers["beta"] == ProviderSummary(name: "beta", tasksAccepted: 0, failures: 3, cost: 0))
        #expect(summary.unpaidAgreements == 1 && summary.totalCost == Decimal(string: "0.0015")!)
        #expect(summary.description == [
            "provider                 tasks  failures  cost (GLM)",
            "alpha" + String(repeating: " ", count: 19) + "     2         0  0.0015",
            "beta" + String(repeating: " ", count: 20) + "     0         3  0",
            "total cost: 0.0015 GLM, 1 agreement(s) left unpaid",
        ].joined(separator: "\n"))
        #expect(RunSummary().description == "provider                 tasks  failures  cost (GLM)\ntotal cost: 0 GLM")
    }

    @Test func instancesCountAsRunningOnlyFromStartingAndRespawnsOnlyFromTerminated() throws {
        var summary = RunSummary()
        let path: [(ServiceState, ServiceState)] = [
            (.pending, .starting), (.starting, .running), (.running, .unresponsive), (.unresponsive, .running),
            (.running, .stopping), (.stopping, .terminated), (.terminated, .pending), (.pending, .starting), (.starting, .running),
            (.pending, .terminated),
        ]
        for (from, to) in path { summary.record(.serviceStateChanged(instance: 0, from: from, to: to)) }
        #expect(summary.instancesRunning == 2)
        #expect(summary.respawns == 1)
    }

    @Test func taskKeysSortByJobThenTaskAndCancelledTasksAreGivenUp() throws {
        typealias K = RunSummary.TaskKey
        #expect([K(job: 2, task: 0), K(job: 1, task: 5), K(job: 1, task: 2)].sorted() == [K(job: 1, task: 2), K(job: 1, task: 5), K(job: 2, task: 0)])
        #expect(K(job: 1, task: 3).description == "task 3")
        #expect(K(job: 0, task: 3).description == "task 3")
        #expect(K(job: 2, task: 3).description == "task 3 of job 2")
        var summary = RunSummary()
        for e: GolemEvent in [
            .taskStarted(job: 1, taskId: 0, provider: "a"), .taskCancelled(job: 1, taskId: 0, provider: "a"),
            .taskStarted(job: 1, taskId: 1, provider: "a"), .taskRejected(job: 1, taskId: 1, provider: "a", reason: "x", retry: true),
            .jobFinished(job: 1, failure: nil), .jobFinished(job: 2, failure: "the job timed out"),
        ] { summary.record(e) }
        // A job that succeeds gives nothing up; a retried rejection is not given up either.
        #expect(summary.tasksGivenUp == [K(job: 1, task: 0)])
        let finished: [Int: String?] = [1: nil, 2: "the job timed out"]
        #expect(summary.jobsFinished == finished)
        #expect(summary.providers["a"]?.failures == 1)
    }

    @Test func theLedgerSaysWhatIsLeftOpenByKindInOrder() throws {
        let ledger = GolemLedger()
        #expect(ledger.summary == "nothing left open")
        ledger.open(.agreement, "a2")
        ledger.open(.agreement, "a1")
        ledger.open(.agreement, "a1")
        ledger.open(.activity, "x")
        ledger.open(.allocation, "al")
        ledger.close(.activity, "x")
        ledger.close(.activity, "never-opened")
        ledger.close(.allocation, "other")
        #expect(ledger.snapshot == [.agreement: ["a1", "a2"], .allocation: ["al"]])
        #expect(ledger.summary == "left open: 2 agreement(s) (a1, a2), 1 allocation(s) (al)")
        ledger.close(.agreement, "a1")
        ledger.close(.agreement, "a2")
        ledger.close(.allocation, "al")
        #expect(ledger.summary == "nothing left open" && ledger.snapshot.isEmpty)
    }

    // MARK: - Graceful shutdown without signals

    @Test func withoutSignalsTheBodysResultAndErrorPassThrough() async throws {
        let answer = try await GracefulShutdown.run(signals: []) { 42 }
        #expect(answer == 42)
        await #expect(throws: Boom(code: 7)) {
            _ = try await GracefulShutdown.run(signals: []) { () async throws -> Int in throw Boom(code: 7) }
        }
        let interrupted = GracefulShutdown.Interrupted(signal: 15)
        #expect(interrupted.description.hasPrefix("interrupted by signal 15; cleaned up (") && interrupted.description.hasSuffix(")"))
    }

    @Test func cancellingTheCallerCancelsTheWork() async throws {
        let (gate, opener) = AsyncStream<Void>.makeStream()
        let (started, didStart) = AsyncStream<Void>.makeStream()
        let caller = Task {
            try await GracefulShutdown.run(signals: []) { () async -> Bool in
                didStart.yield(())
                for await _ in gate { break }
                return Task.isCancelled
            }
        }
        for await _ in started { break }
        caller.cancel()
        opener.yield(())
        let sawCancellation = try await caller.value
        #expect(sawCancellation)
    }

    // MARK: - Service lifecycle and cluster

    @Test func transitionsReportTheirPairAndRefusalsNameStateAndEvent() throws {
        var m = ServiceStateMachine()
        let first = try m.handle(.activityObtained)
        #expect(first.from == .pending && first.to == .starting)
        let second = try m.handle(.startSucceeded)
        #expect(second.from == .starting && second.to == .running)
        let third = try m.handle(.activityUnresponsive)
        #expect(third.from == .running && third.to == .unresponsive)
        #expect(throws: ServiceStateMachine.Refused(state: .unresponsive, event: .runFinished)) { _ = try m.handle(.runFinished) }
        #expect(m.state == .unresponsive)
        #expect(ServiceStateMachine.Refused(state: .terminated, event: .activityObtained).description == "a terminated instance cannot take 'activityObtained'")
    }

    @Test func spawnedInstancesAreNumberedPendingAndHandedToTheEngineWithTheirParameters() async throws {
        let (stream, sink) = AsyncStream<InstanceContext>.makeStream()
        let cluster = Cluster(spawnSink: sink)
        #expect(await cluster.all.isEmpty)
        await cluster.spawn(2, parameters: ["mode": "a"])
        await cluster.spawn()
        await cluster.finishSpawning()
        var contexts: [InstanceContext] = []
        for await c in stream { contexts.append(c) }
        let expected: [InstanceContext] = [
            InstanceContext(index: 0, parameters: ["mode": "a"]), InstanceContext(index: 1, parameters: ["mode": "a"]),
            InstanceContext(index: 2, parameters: [:]),
        ]
        #expect(contexts == expected)
        let all = await cluster.all
        #expect(all.map(\.index) == [0, 1, 2])
        #expect(all.allSatisfy { $0.state == .pending && $0.providers.isEmpty && !$0.shutdownRan && $0.respawns == 0 && $0.networkAddress == nil })
    }

    @Test func theClusterMirrorsEachMachineRefusesBadEventsAndRespawnsFresh() async throws {
        let (_, sink) = AsyncStream<InstanceContext>.makeStream()
        let cluster = Cluster(spawnSink: sink)
        await cluster.spawn(2)
        let started = try await cluster.transition(0, .activityObtained).get()
        #expect(started.from == .pending && started.to == .starting)
        #expect(await cluster.state(of: 0) == .starting)
        #expect(await cluster.all.map(\.state) == [.starting, .pending])
        let refused = await cluster.transition(0, .shutdownFinished)
        #expect(throws: ServiceStateMachine.Refused(state: .starting, event: .shutdownFinished)) { _ = try refused.get() }
        #expect(await cluster.all[0].state == .starting)
        _ = await cluster.transition(0, .startFailed)
        #expect(await cluster.all[0].state == .terminated)
        // Started again: a fresh machine from pending, the count of respawns kept.
        let left = await cluster.respawn(0, respawns: 1)
        #expect(left == .terminated)
        let instance = await cluster.all[0]
        #expect(instance.state == .pending && instance.respawns == 1 && !instance.shutdownRan)
        #expect(try await cluster.transition(0, .activityObtained).get().to == .starting)
        // An instance never spawned reads as pending.
        #expect(await cluster.state(of: 9) == .pending)
    }

    @Test func stopsAreRequestedPerInstanceOrForAllAndAWaitingStopIsCancellable() async throws {
        let (_, sink) = AsyncStream<InstanceContext>.makeStream()
        let cluster = Cluster(spawnSink: sink)
        await cluster.spawn(2)
        let waiter = Task { try await cluster.waitForStop(0) }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        let before = cluster.stops.generation
        await cluster.stop(instance: 1)
        #expect(cluster.stops.generation == before + 1)
        let one = await cluster.isStopRequested(1)
        let zero = await cluster.isStopRequested(0)
        #expect(one && !zero)
        try await cluster.waitForStop(1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await cluster.waitForStop(0) }
            await cluster.stop()
            try await group.waitForAll()
        }
        // Stopping all covers instances spawned later too.
        let later = await cluster.isStopRequested(7)
        #expect(later)
    }

    @Test func waitingUntilAllAreRunningEndsWhenTheLastEitherRunsOrTerminates() async throws {
        let (_, sink) = AsyncStream<InstanceContext>.makeStream()
        let cluster = Cluster(spawnSink: sink)
        await cluster.waitUntilAll(.running)  // no instances: at once
        await cluster.spawn(2)
        _ = await cluster.transition(0, .activityObtained)
        _ = await cluster.transition(0, .startSucceeded)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await cluster.waitUntilAll(.running) }
            _ = await cluster.transition(1, .activityObtained)
            _ = await cluster.transition(1, .startFailed)
            await group.waitForAll()
        }
        #expect(await cluster.all.map(\.state) == [.running, .terminated])
    }

    // MARK: - Networks

    @Test func aBadAddressOrOwnerIsRefusedWithTheValueBeforeAnyRequest() async throws {
        let stub = netStub(id: "net-1")
        let golem = makeGolem(stub)
        let shape = "is not a network such as 192.168.0.0/24 (prefix 8 to 30)"
        let cases: [(cidr: String, owner: String?, message: String)] = [
            ("10.0.0.0/7", nil, "'10.0.0.0/7' \(shape)"),
            ("10.0.0.0/31", nil, "'10.0.0.0/31' \(shape)"),
            ("10.0.0.0/x", nil, "'10.0.0.0/x' \(shape)"),
            ("10.0.0/24", nil, "'10.0.0/24' \(shape)"),
            ("256.0.0.0/8", nil, "'256.0.0.0/8' \(shape)"),
            ("", nil, "'' \(shape)"),
            ("192.168.0.0/24", "192.168.1.1", "the requestor's address 192.168.1.1 is not in 192.168.0.0/24"),
            ("192.168.0.0/24", "not-an-ip", "the requestor's address not-an-ip is not in 192.168.0.0/24"),
        ]
        for c in cases {
            let error = await #expect(throws: InvalidNetwork.self) { _ = try await golem.createNetwork(c.cidr, ownerIp: c.owner) }
            #expect(error?.description == c.message, "\(c.cidr)")
        }
        #expect(stub.requests.isEmpty)
        #expect(await golem.networks.isEmpty)
    }

    @Test func aNetworkIsCreatedOnItsBaseAddressWithTheDaemonsIdAndTheOwnersAddress() async throws {
        let stub = netStub(id: "net-7")
        let golem = makeGolem(stub)
        let network = try await golem.createNetwork("10.1.2.3/16")
        #expect(network.id == "net-7" && network.ip == "10.1.0.0" && network.mask == "255.255.0.0" && network.ownerIp == "10.1.0.1")
        #expect(stub.requests.map(\.operation) == ["net.createNetwork", "net.addAddress"])
        #expect(try body(stub.requests[0]) == ["ip": "10.1.0.0", "mask": "255.255.0.0"])
        #expect(stub.requests[1].path == "/net/net-7/addresses")
        #expect(try body(stub.requests[1]) == ["ip": "10.1.0.1"])
        // A daemon that answers without an id: a clear error, and no address is added.
        let anonymous = netStub(id: nil)
        let other = makeGolem(anonymous)
        let error = await #expect(throws: InvalidNetwork.self) { _ = try await other.createNetwork("192.168.0.0/24") }
        #expect(error?.description == "the daemon answered a network without an id")
        #expect(anonymous.requests.map(\.operation) == ["net.createNetwork"])
    }

    @Test func nodesTakeTheNextFreeAddressSkippingTheOwnerUntilTheNetworkIsFull() async throws {
        let stub = netStub(id: "net-1")
        let golem = makeGolem(stub)
        let network = try await golem.createNetwork("10.0.0.0/29", ownerIp: "10.0.0.2")
        #expect(network.mask == "255.255.255.248")
        #expect(try await network.addNode("0xa") == "10.0.0.3")
        #expect(try await network.addNode("0xb", ip: "10.0.0.4") == "10.0.0.4")
        #expect(try await network.addNode("0xc") == "10.0.0.5")
        #expect(try await network.addNode("0xd") == "10.0.0.6")
        let full = await #expect(throws: NetworkFull.self) { _ = try await network.addNode("0xe") }
        #expect(full?.description == "network net-1 has no free address left")
        // A node added again keeps its address without asking the daemon.
        #expect(try await network.addNode("0xa") == "10.0.0.3")
        let added = stub.requests.filter { $0.operation == "net.addNode" }
        #expect(added.count == 4 && added.allSatisfy { $0.path == "/net/net-1/nodes" })
        #expect(try body(added[0]) == ["id": "0xa", "ip": "10.0.0.3"])
        let deploy = await network.deployArguments(nodeIp: "10.0.0.5")
        #expect(deploy == DeployNetwork(
            id: "net-1", ip: "10.0.0.0", mask: "255.255.255.248", nodeIp: "10.0.0.5",
            nodes: ["10.0.0.3": "0xa", "10.0.0.4": "0xb", "10.0.0.5": "0xc", "10.0.0.6": "0xd"]))
        // Removed once, at shutdown or by hand, whichever comes first.
        await golem.removeNetworks()
        try await network.remove()
        #expect(stub.requests.filter { $0.operation == "net.removeNetwork" }.map(\.path) == ["/net/net-1"])
        let removed = await network.removed
        let remaining = await golem.networks
        #expect(removed && remaining.isEmpty)
    }

    @Test func aCidrWithTrailingGarbageIsRefused() async throws {
        let golem = makeGolem(netStub(id: "net-1"))
        for cidr in ["10.0.0.0/24/8", "10.0.0.0/"] {
            await #expect(throws: InvalidNetwork.self) { _ = try await golem.createNetwork(cidr) }
        }
    }

    @Test func anExplicitAddressMustBeFreeAndInsideTheNetwork() async throws {
        let golem = makeGolem(netStub(id: "net-1"))
        let network = try await golem.createNetwork("10.0.0.0/24")
        #expect(try await network.addNode("0xa") == "10.0.0.2")
        await #expect(throws: (any Error).self) { _ = try await network.addNode("0xb", ip: "10.0.0.2") }
        #expect(await network.nodes["10.0.0.2"] == "0xa")
        await #expect(throws: (any Error).self) { _ = try await network.addNode("0xc", ip: "192.168.7.7") }
    }

    // MARK: - Configuration

    @Test func thePaymentPlatformAndEnvironmentFollowYapapi() throws {
        var c = GolemConfiguration(budget: 1)
        #expect(c.paymentPlatform == "erc20-holesky-tglm")
        c.paymentNetwork = "polygon"
        #expect(c.paymentPlatform == "erc20-polygon-glm")
        c.paymentNetwork = "mainnet"
        #expect(c.paymentPlatform == "erc20-mainnet-glm")
        c.paymentDriver = "zksync"
        c.paymentNetwork = "sepolia"
        #expect(c.paymentPlatform == "zksync-sepolia-tglm")
        var env = GolemConfiguration(budget: 1)
        env.apply(environment: ["YAGNA_SUBNET": "devnet-beta", "YAGNA_PAYMENT_DRIVER": "", "YAGNA_PAYMENT_NETWORK": "polygon", "YAGNA_APPKEY": "k"])
        #expect(env.subnet == "devnet-beta" && env.paymentDriver == "erc20" && env.paymentNetwork == "polygon")
        #expect(env.paymentPlatform == "erc20-polygon-glm")
        env.apply(environment: [:])
        #expect(env.subnet == "devnet-beta", "an absent variable keeps what was set")
    }

    // MARK: - The engine's start, demand and payments over the wire

    @Test func startReservesTheBudgetAsYapapiDoesAndReleaseGivesItBack() async throws {
        let id = "alloc-\(UUID().uuidString)"
        let stub = daemon(allocationId: id, total: Decimal(string: "2.5")!) { r, _ in
            if r.operation == "identity.me" { return .json(404, ["message": "no identity"]) }
            return nil
        }
        let golem = makeGolem(stub) { c in
            c.budget = Decimal(string: "2.5")!
            c.paymentNetwork = "polygon"
        }
        try await golem.start()
        #expect(stub.requests.map(\.operation) == ["identity.me", "payment.createAllocation", "payment.getDemandDecorations"])
        let create = try body(stub.requests[1])
        // Without an identity the allocation goes out without an address.
        #expect(create["address"] == nil)
        let keys = try #require(create.objectValue?.keys)
        #expect(Set(keys) == ["allocationId", "paymentPlatform", "totalAmount", "spentAmount", "remainingAmount", "timestamp", "timeout", "makeDeposit"])
        #expect(create["paymentPlatform"] == .string("erc20-polygon-glm") && create["totalAmount"] == .string("2.5"))
        #expect(create["allocationId"] == .string("") && create["spentAmount"] == .string("") && create["remainingAmount"] == .string(""))
        #expect(create["makeDeposit"] == .bool(false))
        let timeoutText = try #require(create["timeout"]?.stringValue)
        let timeout = try #require(WireTimestamp(text: timeoutText).date)
        #expect(abs(timeout.timeIntervalSince(Self.start.addingTimeInterval(10 * 365 * 86400))) < 0.001)
        let sentAtText = try #require(create["timestamp"]?.stringValue)
        let sentAt = try #require(WireTimestamp(text: sentAtText).date)
        #expect(abs(sentAt.timeIntervalSince(Self.start)) < 0.001)
        #expect(stub.requests[2].query == [QueryItem("allocationIds", id)])
        #expect(await golem.allocation?.allocationId == id)
        #expect(await golem.decoration == DemandDecoration(properties: [.init(key: Self.platformKey, value: "0xreq")], constraints: ["(\(Self.platformKey)=*)"]))
        #expect(GolemLedger.shared.snapshot[.allocation]?.contains(id) == true)
        await golem.release()
        let release = try #require(stub.requests.last)
        #expect(release.operation == "payment.releaseAllocation" && release.method == .DELETE && release.path == "/allocations/\(id)")
        #expect(await Array(golem.events) == [.allocationCreated(id: id, amount: Decimal(string: "2.5")!), .allocationReleased(id: id)])
        #expect(await golem.allocation == nil)
        #expect(GolemLedger.shared.snapshot[.allocation]?.contains(id) != true)
    }

    @Test func aStartThatFailsAfterTheAllocationReleasesIt() async throws {
        let id = "alloc-\(UUID().uuidString)"
        let stub = daemon(allocationId: id) { r, _ in
            if r.operation == "payment.getDemandDecorations" { return .json(500, ["message": "decorations broke"]) }
            return nil
        }
        let golem = makeGolem(stub)
        let error = await #expect(throws: YagnaError.self) { try await golem.start() }
        #expect(error?.operation == "payment.getDemandDecorations" && error?.message == "decorations broke")
        #expect(try body(stub.requests[1])["address"] == .string("0xreq"))
        #expect(stub.requests.map(\.operation) == ["identity.me", "payment.createAllocation", "payment.getDemandDecorations", "payment.releaseAllocation"])
        #expect(stub.requests[3].path == "/allocations/\(id)" && stub.requests[3].method == .DELETE)
        #expect(await Array(golem.events) == [.allocationCreated(id: id, amount: 1), .allocationReleased(id: id)])
        #expect(await golem.allocation == nil)
        // An identity error other than 404 stops the start before any allocation.
        let broken = daemon(allocationId: id) { r, _ in
            if r.operation == "identity.me" { return .json(500, ["message": "identity service down"]) }
            return nil
        }
        let other = makeGolem(broken)
        let refused = await #expect(throws: YagnaError.self) { try await other.start() }
        #expect(refused?.code == .serverError && broken.requests.map(\.operation) == ["identity.me"])
    }

    @Test func theDemandCarriesTheSubnetTheDecorationsAndThePayloadInYapapisOrder() async throws {
        let stub = daemon(allocationId: "alloc-\(UUID().uuidString)") { r, _ in
            switch r.operation {
            case "registry.imageInfo": return .json(200, ["sha3": "abc123", "https": "https://registry.example/abc123.gvmi"])
            case "market.subscribeDemand": return .json(201, "sub-1")
            case "market.unsubscribeDemand": return YagnaResponse(status: 204)
            default: return nil
            }
        }
        let golem = makeGolem(stub) { $0.subnet = "devnet-beta" }
        try await golem.start()
        let (id, demand) = try await golem.subscribe(.image(hash: "abc123"), expiration: .seconds(900))
        #expect(id == "sub-1")
        let registry = try #require(stub.requests.first { $0.operation == "registry.imageInfo" })
        #expect(registry.service == .registry && registry.pathWithQuery == "/v1/image/info?hash=abc123&count=true")
        let properties: Properties = [
            "golem.srv.comp.expiration": 1_800_000_900_000,
            "golem.srv.caps.multi-activity": true,
            "golem.node.debug.subnet": "devnet-beta",
            Self.platformKey: "0xreq",
            "golem.srv.comp.task_package": "hash:sha3:abc123:https://registry.example/abc123.gvmi",
            "golem.srv.comp.vm.package_format": "gvmkit-squash",
        ]
        #expect(demand.properties == properties)
        let constraints = [
            "(golem.node.debug.subnet=devnet-beta)", "(\(Self.platformKey)=*)", "(golem.com.pricing.model=linear)",
            "(golem.inf.mem.gib>=0.5)", "(golem.inf.storage.gib>=2.0)", "(golem.inf.cpu.threads>=1)", "(golem.runtime.name=vm)",
        ]
        #expect(demand.constraints == "(&" + constraints.joined(separator: "\n\t") + ")")
        let subscribe = try #require(stub.requests.first { $0.operation == "market.subscribeDemand" })
        #expect(try body(subscribe) == JSONValue(demand))
        #expect(await Array(golem.events).last == .demandSubscribed(id: "sub-1"))
        #expect(await golem.subscriptions == ["sub-1"])
        await golem.unsubscribe("sub-1")
        await golem.unsubscribe("sub-unknown")
        #expect(stub.requests.filter { $0.operation == "market.unsubscribeDemand" }.map(\.path) == ["/demands/sub-1"])
        #expect(await golem.subscriptions.isEmpty)
    }

    @Test func invoicesAreAcceptedOnceAndUnsolicitedOrOverBudgetOnesRejectedOnTheWire() async throws {
        let id = "alloc-\(UUID().uuidString)"
        let stub = daemon(allocationId: id) { r, _ in
            switch r.operation {
            case "payment.getInvoice":
                let invoiceId = String(r.path.split(separator: "/").last ?? "")
                let row: (agreement: String, issuer: String, amount: String)
                switch invoiceId {
                case "inv-1": row = ("agr-1", "0xa", "0.4")
                case "inv-2": row = ("agr-9", "0xzz", "0.1")
                default: row = ("agr-2", "0xb", "0.7")
                }
                return .json(200, JSONValue(Self.invoice(invoiceId, agreement: row.agreement, issuer: row.issuer, amount: Decimal(string: row.amount)!)))
            case "payment.acceptInvoice", "payment.rejectInvoice": return YagnaResponse(status: 200)
            default: return nil
            }
        }
        let golem = makeGolem(stub)
        try await golem.start()
        await golem.register(agreement: "agr-1", provider: "alpha", providerId: "0xa")
        await golem.register(agreement: "agr-2", provider: "beta", providerId: "0xb")
        await golem.handleInvoice("inv-1")
        await golem.handleInvoice("inv-1")
        await golem.handleInvoice("inv-2")
        await golem.handleInvoice("inv-3")
        let accepts = stub.requests.filter { $0.operation == "payment.acceptInvoice" }
        #expect(accepts.map(\.path) == ["/invoices/inv-1/accept"])
        #expect(try body(accepts[0]) == ["totalAmountAccepted": "0.4", "allocationId": .string(id)])
        let rejects = stub.requests.filter { $0.operation == "payment.rejectInvoice" }
        #expect(rejects.map(\.path) == ["/invoices/inv-2/reject", "/invoices/inv-3/reject"])
        #expect(try body(rejects[0]) == ["rejectionReason": "UNSOLICITED_SERVICE", "totalAmountAccepted": "0", "message": "no agreement of this requestor"])
        #expect(try body(rejects[1]) == ["rejectionReason": "INCORRECT_AMOUNT", "totalAmountAccepted": "0", "message": "over the budget"])
        #expect(await Array(golem.events).dropFirst() == [
            .invoiceAccepted(provider: "alpha", invoiceId: "inv-1", amount: Decimal(string: "0.4")!),
            .invoiceRejected(provider: "0xzz", invoiceId: "inv-2", reason: "unsolicited"),
            .invoiceRejected(provider: "beta", invoiceId: "inv-3", reason: "over budget"),
        ])
        #expect(await golem.payments.spent == Decimal(string: "0.4")!)
        #expect(await golem.summary.totalCost == Decimal(string: "0.4")!)
    }

    @Test func anUnacceptableDebitNoteEndsItsAgreementOnceEvenIfTheFirstTryFails() async throws {
        let id = "alloc-\(UUID().uuidString)"
        let stub = daemon(allocationId: id) { r, n in
            switch r.operation {
            case "payment.getDebitNote":
                let noteId = String(r.path.split(separator: "/").last ?? "")
                let note: DebitNote
                switch noteId {
                case "dn-ok": note = Self.debitNote(noteId, activity: "act-1", due: Decimal(string: "0.25")!)
                case "dn-other": note = Self.debitNote(noteId, activity: "act-other", due: Decimal(string: "0.25")!)
                default: note = Self.debitNote(noteId, activity: "act-1", due: 5)
                }
                return .json(200, JSONValue(note))
            case "payment.acceptDebitNote": return YagnaResponse(status: 200)
            case "market.terminateAgreement":
                if n == 0 { return .json(500, ["message": "net down"]) }
                return YagnaResponse(status: 204)
            default: return nil
            }
        }
        let golem = makeGolem(stub)
        try await golem.start()
        await golem.register(agreement: "agr-1", provider: "alpha", providerId: "0xa")
        await golem.track(activity: "act-1")
        for note in ["dn-ok", "dn-other", "dn-1", "dn-2", "dn-3"] { await golem.handleDebitNote(note) }
        await golem.untrack(activity: "act-1")
        let accepts = stub.requests.filter { $0.operation == "payment.acceptDebitNote" }
        #expect(accepts.map(\.path) == ["/debitNotes/dn-ok/accept"])
        #expect(try body(accepts[0]) == ["totalAmountAccepted": "0.25", "allocationId": .string(id)])
        // Over the budget: refused, and the agreement terminated with the reason's code; the first
        // terminate failed, so the next note tries again; once ended, no more terminates.
        let terminates = stub.requests.filter { $0.operation == "market.terminateAgreement" }
        #expect(terminates.count == 2 && terminates.allSatisfy { $0.path == "/agreements/agr-1/terminate" })
        #expect(try body(terminates[1]) == ["message": "Debit note over budget", "golem.requestor.code": "TooMuchDue"])
        #expect(await Array(golem.events).dropFirst() == [
            .debitNoteAccepted(provider: "alpha", debitNoteId: "dn-ok", amount: Decimal(string: "0.25")!),
            .debitNoteIgnored(provider: "alpha", debitNoteId: "dn-1", reason: "over budget"),
            .debitNoteIgnored(provider: "alpha", debitNoteId: "dn-2", reason: "over budget"),
            .agreementTerminated(provider: "alpha", agreementId: "agr-1", byProvider: false, reason: "Debit note over budget"),
            .debitNoteIgnored(provider: "alpha", debitNoteId: "dn-3", reason: "over budget"),
        ])
        #expect(await golem.payments.isTerminated("agr-1"))
    }

    // MARK: - The typed clients' requests

    @Test func longPollsCarryTheirTimeoutInSecondsAndTimestampsKeepTheirPlusSign() async throws {
        let stub = Stub { r, _ in
            switch r.operation {
            case "registry.imageInfo": return .json(200, ["sha3": "abc"])
            case "market.waitForApproval": return YagnaResponse(status: 204)
            default: return .json(200, [])
            }
        }
        let y = YagnaClient(transport: stub)
        _ = try await y.activity.results("act-1", batchId: "b-1", timeout: .milliseconds(500), commandIndex: 2)
        _ = try await y.activity.results("act-1", batchId: "b-1")
        _ = try await y.market.events("sub-1", maxEvents: 10)
        _ = try await y.payment.invoiceEvents(afterTimestamp: WireTimestamp(text: "2026-11-22T13:24:22.655933+00:00"), timeout: nil)
        _ = try await y.payment.debitNoteEvents()
        try await y.market.waitForApproval("agr-1")
        _ = try await y.registry.imageInfo(tag: "golem/alpine:latest")
        let r = stub.requests
        try #require(r.count == 7)
        #expect(r[0].pathWithQuery == "/activity/act-1/exec/b-1?timeout=0.5&commandIndex=2" && r[0].longPoll == .milliseconds(500))
        #expect(r[0].method == .GET && r[0].service == .activity)
        #expect(r[1].query.isEmpty && r[1].longPoll == nil)
        #expect(r[2].pathWithQuery == "/demands/sub-1/events?timeout=5&maxEvents=10" && r[2].longPoll == .seconds(5) && r[2].service == .market)
        #expect(r[3].pathWithQuery == "/invoiceEvents?afterTimestamp=2026-11-22T13:24:22.655933%2B00:00" && r[3].longPoll == nil)
        #expect(r[4].pathWithQuery == "/debitNoteEvents?timeout=5" && r[4].service == .payment)
        #expect(r[5].method == .POST && r[5].pathWithQuery == "/agreements/agr-1/wait?timeout=15" && r[5].longPoll == .seconds(15))
        #expect(r[6].service == .registry && r[6].pathWithQuery == "/v1/image/info?tag=golem%2Falpine:latest&count=true")
    }

    @Test func requestBodiesAreWrittenAsTheDaemonReadsThem() async throws {
        let stub = Stub { r, _ in
            switch r.operation {
            case "activity.exec": return .json(200, "batch-9")
            case "activity.createActivity": return .json(201, "act-9")
            case "payment.getDemandDecorations": return .json(200, ["properties": [], "constraints": []])
            default: return YagnaResponse(status: 204)
            }
        }
        let y = YagnaClient(transport: stub)
        #expect(try await y.activity.exec("act-1", commands: [.deploy(DeployCommand()), .start(StartCommand())]) == "batch-9")
        #expect(try await y.activity.create(.legacy(agreementId: "agr-1"), timeout: .seconds(30)) == "act-9")
        try await y.market.rejectProposal("sub-1", proposalId: "prop-1", reason: nil)
        try await y.market.rejectProposal("sub-1", proposalId: "prop-2", reason: Reason(message: "too expensive", extra: ["golem.requestor.code": "TooExpensive"]))
        _ = try await y.payment.demandDecorations(allocationIds: ["a-1", "a-2"])
        let r = stub.requests
        try #require(r.count == 5)
        // The exe script travels as text inside an object; yapapi's `{"text": "[…]"}`.
        #expect(try body(r[0]) == ["text": .string(#"[{"deploy":{}},{"start":{"args":[]}}]"#)])
        #expect(r[0].headers.contains(Header("Content-Type", "application/json")))
        // The legacy create sends the bare agreement id as a JSON string.
        #expect(r[1].body.map { String(decoding: $0, as: UTF8.self) } == "\"agr-1\"")
        #expect(r[1].pathWithQuery == "/activity?timeout=30" && r[1].longPoll == .seconds(30))
        #expect(r[2].path == "/demands/sub-1/proposals/prop-1/reject" && r[2].body == Array("null".utf8))
        #expect(try body(r[3]) == ["message": "too expensive", "golem.requestor.code": "TooExpensive"])
        #expect(r[4].pathWithQuery == "/demandDecorations?allocationIds=a-1,a-2")
    }

    @Test func refusalsBecomeTypedErrorsNamingTheOperationAndTheDaemonsWords() async throws {
        let stub = Stub { r, _ in
            switch r.operation {
            case "market.getAgreement": return .json(404, ["message": "Agreement not found: agr-x"])
            case "payment.getDebitNote": return .json(404, ["message": nil])
            case "market.subscribeDemand": return YagnaResponse(status: 400, headers: [Header("Content-Type", "text/plain")], body: Array("Json deserialize error: missing field `constraints`\n".utf8))
            case "payment.getInvoice": return .json(200, ["invoiceId": 5])
            default: return YagnaResponse(status: 200)
            }
        }
        let y = YagnaClient(transport: stub)
        let missing = await #expect(throws: YagnaError.self) { _ = try await y.market.agreement("agr-x") }
        #expect(missing?.code == .notFound && missing?.status == 404)
        #expect(missing?.description == "market.getAgreement failed: GET /agreements/agr-x answered 404: Agreement not found: agr-x")
        // Payment 404s carry {"message": null}: no message rather than "null".
        let note = await #expect(throws: YagnaError.self) { _ = try await y.payment.debitNote("dn-0") }
        #expect(note?.message == nil && note?.description == "payment.getDebitNote failed: GET /debitNotes/dn-0 answered 404")
        let bad = await #expect(throws: YagnaError.self) { _ = try await y.market.subscribe(DemandBody(properties: [:], constraints: "()")) }
        #expect(bad?.code == .badRequest && bad?.message == "Json deserialize error: missing field `constraints`")
        let malformed = await #expect(throws: YagnaError.self) { _ = try await y.payment.invoice("inv-1") }
        #expect(malformed?.code == .malformedResponse && malformed?.status == 200 && malformed?.operation == "payment.getInvoice")
        // A 2xx answer to a stream request that is not a stream.
        let stream = await #expect(throws: YagnaError.self) { _ = try await y.activity.streamResults("act-1", batchId: "b-1") }
        #expect(stream?.code == .malformedResponse && stream?.message == "expected a text/event-stream answer")
        let asked = try #require(stub.requests.last)
        #expect(asked.acceptsEventStream && asked.headers.contains(Header("Accept", "text/event-stream")))
    }

    @Test func anExplicitAddressIsReadAsANumberNotAsText() async throws {
        let golem = makeGolem(netStub(id: "net-1"))
        let network = try await golem.createNetwork("10.0.0.0/24")
        #expect(try await network.addNode("0xa", ip: "10.0.0.010") == "10.0.0.10")
        await #expect(throws: InvalidNetwork.self) { _ = try await network.addNode("0xb", ip: "10.0.0.10") }
        await #expect(throws: InvalidNetwork.self) { _ = try await network.addNode("0xc", ip: "10.0.0.001") }
        await #expect(throws: InvalidNetwork.self) { _ = try await network.addNode("0xd", ip: "10.0.0.255") }
        // The last block of the address space has no room past its end to overflow into.
        let top = try await golem.createNetwork("255.255.255.0/24")
        #expect(try await top.addNode("0xe", ip: "255.255.255.7") == "255.255.255.7")
        await #expect(throws: InvalidNetwork.self) { _ = try await top.addNode("0xf", ip: "255.255.255.255") }
    }
}
