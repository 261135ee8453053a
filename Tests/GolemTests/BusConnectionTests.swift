import Foundation
@testable import GolemBus
import Logging
import NIOCore
import NIOPosix
import SwiftProtobuf
import Testing

/// `BusConnection` against a stand-in for yagna's service-bus router on a unix socket: the
/// packets an exe-unit exchanges (hello, register, calls both ways, ping), with no yagna.
@Suite struct BusConnectionTests {
    @Test func anExeUnitRegistersServesCallsAndCallsOut() async throws {
        let (done, finish) = AsyncStream.makeStream(of: Void.self)
        let logger = { var l = Logger(label: "test"); l.logLevel = .critical; return l }()
        let (path, router, cleanUp) = try await TestRouter.listen { router in
            guard case .hello(let hello)? = try await router.next().kind else { throw BusError("no hello first") }
            #expect(hello.name == "test-exeunit")
            guard case .registerRequest(let register)? = try await router.next().kind else { throw BusError("no register") }
            #expect(register.serviceID == "/public/exeunit/act")
            try await router.send(.with { $0.registerReply = .with { $0.code = 0 } })
            // A call to the registered prefix, one to an address nobody serves, and the member's own call.
            try await router.send(.with { $0.callRequest = .with { $0.requestID = "r1"; $0.address = "/public/exeunit/act/Exec"; $0.caller = "0xr"; $0.data = Data([1, 2, 3]) } })
            try await router.send(.with { $0.callRequest = .with { $0.requestID = "r2"; $0.address = "/public/other/Exec"; $0.data = Data() } })
            var replies: [String: Gsb_CallReply] = [:]
            var outgoing: Gsb_CallRequest?
            while replies.count < 2 || outgoing == nil {
                switch try await router.next().kind {
                case .callReply(let r): replies[r.requestID] = r
                case .callRequest(let r): outgoing = r
                case let other: throw BusError("unexpected packet \(String(describing: other))")
                }
            }
            #expect(replies["r1"]?.code == 0 && Array(replies["r1"]!.data) == [3, 2, 1])
            #expect(replies["r2"]?.code == 400)
            #expect(outgoing?.address == "/local/activity/SetActivityState" && Array(outgoing!.data) == [7])
            try await router.send(.with { $0.callReply = .with { $0.requestID = outgoing!.requestID; $0.data = Data([9]) } })
            // Pings are answered while the member runs; unknown packet kinds are ignored.
            try await router.send(.with { $0.ping = Gsb_Ping() })
            guard case .pong? = try await router.next().kind else { throw BusError("no pong") }
            try await router.send(Gsb_Packet())
            try await router.send(.with { $0.ping = Gsb_Ping() })
            guard case .pong? = try await router.next().kind else { throw BusError("no pong after an unknown packet") }
            finish.yield()
        }
        defer { cleanUp() }
        try await bounded(20) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await router() }
                // The exe-unit's side.
                group.addTask {
                    try await BusConnection.run(.unix(path: path), name: "test-exeunit", logger: logger) { bus in
                        try await bus.register("/public/exeunit/act") { call in
                            try? await bus.reply(call.requestId, data: call.data.reversed())
                        }
                        let answer = try await bus.call("/local/activity/SetActivityState", body: [7])
                        #expect(answer == [9])
                        for await _ in done { break }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func anUnreachableRouterIsAClearError() async throws {
        await #expect(throws: BusError.self) {
            try await BusConnection.run(.unix(path: "/nonexistent/yagna.sock"), name: "t", logger: Logger(label: "t")) { _ in }
        }
        #expect(BusAddress("unix:/a/b.sock") == .unix(path: "/a/b.sock"))
        #expect(BusAddress("tcp://127.0.0.1:7464") == .tcp(host: "127.0.0.1", port: 7464))
        #expect(BusAddress("tcp://127.0.0.1:0") == nil && BusAddress("http://x") == nil && BusAddress("unix:") == nil)
    }
}
