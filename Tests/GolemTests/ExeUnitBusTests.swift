import Foundation
@testable import GolemBus
@testable import GolemProvider
import Logging
import SwiftProtobuf
import Testing
import YagnaAPI
import YagnaSimulator

extension ProvideSession {
    /// The agreement as the daemon would have shown it at approval (the REST side, not tested here).
    func approveForTest(_ agreement: Agreement) { engine.agreementApproved(agreement, provider: 0, at: Date()) }
    var firstAgent: Agent { agents[0] }
}

extension TestRouter {
    /// Calls the member at `address` with a FlexBuffers body and collects its replies (every
    /// partial one, then the whole one), answering the member's own calls meanwhile with
    /// `{"Ok": null}` and keeping them in `calls`.
    mutating func call(_ address: String, _ body: [UInt8], id: String, calls: inout [(address: String, body: JSONValue)]) async throws -> (code: Int32, partial: [JSONValue], final: [UInt8]) {
        try await send(.with { $0.callRequest = .with { $0.requestID = id; $0.address = address; $0.caller = "0xrequestor"; $0.data = Data(body) } })
        var partial: [JSONValue] = []
        while true {
            switch try await next().kind {
            case .callReply(let r) where r.requestID == id:
                if r.replyType == 1 { partial.append(try BusBody.decode(Array(r.data))); continue }
                return (r.code, partial, Array(r.data))
            case .callRequest(let r):
                calls.append((r.address, (try? BusBody.decode(Array(r.data))) ?? .null))
                try await send(.with { $0.callReply = .with { $0.requestID = r.requestID; $0.data = Data(BusBody.ok(.null)) } })
            case .ping: try await send(.with { $0.pong = Gsb_Pong() })
            case .unregisterRequest: try await send(.with { $0.unregisterReply = .with { $0.code = 0 } })
            case let other: throw BusError("unexpected packet \(String(describing: other))")
            }
        }
    }
}

/// The exe-unit `golem-sim provide` registers on yagna's service bus, against a stand-in router:
/// the daemon's calls (FlexBuffers bodies, as yagna 0.17.6 sends them) and the exe-unit's
/// answers, errors included — what the real-daemon checks exercise only end to end.
@Suite struct ExeUnitBusTests {
    static let scenario = """
        name: exe-unit
        providers:
          - name: p
            deploy-duration: 50ms
            command-duration: 50ms
        """

    func agreement() -> Agreement {
        let stamp = WireTimestamp(Date())
        return Agreement(
            agreementId: "A",
            demand: Demand(properties: ["golem.srv.caps.multi-activity": true, "golem.com.payment.chosen-platform": "erc20-holesky-tglm"],
                           constraints: "()", demandId: "d", requestorId: "0xr", timestamp: stamp),
            offer: Offer(properties: ["golem.srv.caps.multi-activity": true], constraints: "()", offerId: "o", providerId: "0xp", timestamp: stamp),
            validTo: WireTimestamp(Date().addingTimeInterval(3600)), state: .approved, timestamp: stamp)
    }

    static func script(_ commands: [ExeScriptCommand]) throws -> JSONValue { try WireEncoder().encodeValue(commands) }

    @Test func theExeUnitAnswersTheDaemonsCalls() async throws {
        let logger = { var l = Logger(label: "test"); l.logLevel = .critical; return l }()
        let session = try ProvideSession(
            scenario: try Scenario.parse(yaml: Self.scenario), seed: 1, yagna: "http://127.0.0.1:9", keys: ["key"], files: InMemoryFileExchange(), logger: logger)
        await session.approveForTest(agreement())
        let agent = await session.firstAgent
        let (done, finish) = AsyncStream.makeStream(of: Void.self)
        let deploy = try Self.script([.deploy(DeployCommand()), .start(StartCommand()), .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "echo hello"], capture: .atEnd))])
        let sleep = try Self.script([.run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "sleep 30"]))])
        let (path, router, cleanUp) = try await TestRouter.listen { router in
            var calls: [(address: String, body: JSONValue)] = []
            guard case .hello? = try await router.next().kind else { throw BusError("no hello first") }
            guard case .registerRequest(let register)? = try await router.next().kind else { throw BusError("no register") }
            #expect(register.serviceID == "/public/exeunit/act")
            try await router.send(.with { $0.registerReply = .with { $0.code = 0 } })
            let unit = "/public/exeunit/act"
            func ok(_ r: (code: Int32, partial: [JSONValue], final: [UInt8])) throws -> JSONValue? { try BusBody.decode(r.final)["Ok"] }
            func err(_ r: (code: Int32, partial: [JSONValue], final: [UInt8])) throws -> JSONValue? { try BusBody.decode(r.final)["Err"] }

            // A batch: its id back, then its results after a poll that waits for them.
            let exec = try await router.call("\(unit)/Exec", BusBody.encode(["activityId": "act", "batchId": "b1", "exeScript": deploy, "timeout": nil]), id: "1", calls: &calls)
            #expect(exec.code == 0)
            #expect(try ok(exec) == "b1")
            let again = try await router.call("\(unit)/Exec", BusBody.encode(["activityId": "act", "batchId": "b1", "exeScript": deploy]), id: "2", calls: &calls)
            #expect(try err(again)?["badRequest"]?.stringValue?.contains("already exists") == true)
            let results = try await router.call("\(unit)/GetExecBatchResults", BusBody.encode(["activityId": "act", "batchId": "b1", "timeout": 5.0, "commandIndex": nil]), id: "3", calls: &calls)
            let list = try #require(try ok(results)?.arrayValue)
            #expect(list.count == 3 && list.last?["stdout"]?.stringValue == "hello\n" && list.last?["isBatchFinished"] == true, "\(list)")
            #expect(calls.contains { $0.address == "/local/activity/SetActivityState" && $0.body["state"]?["state"]?.arrayValue?.first == "Initialized" })
            // State and usage.
            let state = try await router.call("\(unit)/GetActivityState", BusBody.encode(["activityId": "act"]), id: "4", calls: &calls)
            #expect(try ok(state)?["state"]?.arrayValue?.first == "Ready")
            let usage = try await router.call("\(unit)/GetActivityUsage", BusBody.encode(["activityId": "act", "timeout": nil]), id: "5", calls: &calls)
            #expect(try ok(usage)?["currentUsage"]?.arrayValue?.count == 2)
            // The runtime events of a batch as partial replies, then an empty whole reply.
            _ = try await router.call("\(unit)/Exec", BusBody.encode(["activityId": "act", "batchId": "b3", "exeScript": try Self.script([.run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "echo streamed"]))])]), id: "8", calls: &calls)
            let stream = try await router.call("\(unit)/StreamExecBatchResults", BusBody.encode(["activity_id": "act", "batch_id": "b3"]), id: "9", calls: &calls)
            #expect(stream.final.isEmpty && stream.partial.count >= 2, "\(stream.partial)")
            #expect(stream.partial.contains { JSONWriter.string($0).contains("streamed") }, "\(stream.partial)")
            // A poll shorter than the command: the bare "timeout" error, as the daemon's exe-unit answers.
            _ = try await router.call("\(unit)/Exec", BusBody.encode(["activityId": "act", "batchId": "b2", "exeScript": sleep]), id: "6", calls: &calls)
            let short = try await router.call("\(unit)/GetExecBatchResults", BusBody.encode(["activityId": "act", "batchId": "b2", "timeout": 0.1, "commandIndex": 0]), id: "7", calls: &calls)
            #expect(try err(short) == "timeout")
            // Bad calls: each an error naming what is wrong, and the exe-unit serves on.
            let unknownBatch = try await router.call("\(unit)/GetExecBatchResults", BusBody.encode(["activityId": "act", "batchId": "nope", "timeout": 1.0]), id: "10", calls: &calls)
            #expect(try err(unknownBatch)?["notFound"] != nil)
            let foreign = try await router.call("\(unit)/Exec", BusBody.encode(["activityId": "other", "batchId": "b4", "exeScript": deploy]), id: "11", calls: &calls)
            #expect(try err(foreign)?["forbidden"] != nil)
            let garbage = try await router.call("\(unit)/Exec", [0xff, 0x00, 0x13], id: "12", calls: &calls)
            #expect(try err(garbage)?["badRequest"]?.stringValue?.contains("cannot read the body of Exec") == true)
            let badScript = try await router.call("\(unit)/Exec", BusBody.encode(["activityId": "act", "batchId": "b5", "exeScript": "not a list of commands"]), id: "13", calls: &calls)
            #expect(try err(badScript)?["badRequest"]?.stringValue?.contains("invalid ExeScript") == true, "\(String(describing: try? BusBody.decode(badScript.final)))")
            let unknown = try await router.call("\(unit)/Frobnicate", BusBody.encode(["activityId": "act"]), id: "14", calls: &calls)
            #expect(try err(unknown)?["badRequest"]?.stringValue?.contains("does not serve Frobnicate") == true)
            let running = try await router.call("\(unit)/GetRunningCommand", BusBody.encode(["activityId": "act", "timeout": nil]), id: "15", calls: &calls)
            #expect(try err(running)?["notFound"] != nil)
            // Still serving after all that.
            let after = try await router.call("\(unit)/GetActivityState", BusBody.encode(["activityId": "act"]), id: "16", calls: &calls)
            #expect(try ok(after)?["state"] != nil)
            finish.yield()
        }
        defer { cleanUp() }
        try await bounded(30) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await router() }
                group.addTask {
                    try await BusConnection.run(.unix(path: path), name: "golem-sim-provide", logger: logger) { bus in
                        try await session.createActivity(agent, "act", agreementId: "A", bus: bus)
                        for await _ in done { break }
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}
