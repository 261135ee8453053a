import Foundation
@testable import GolemBus
import NIOCore
import NIOPosix
import SwiftProtobuf
import Testing

/// The router's end of one member's connection, in a test standing in for yagna's service-bus
/// router: reads whole packets, writes packets.
struct TestRouter {
    var input: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let output: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var pending: [UInt8] = []
    var packets: [Gsb_Packet] = []

    mutating func next() async throws -> Gsb_Packet {
        while packets.isEmpty {
            guard var chunk = try await input.next() else { throw BusError("the member closed the connection") }
            pending += chunk.readBytes(length: chunk.readableBytes) ?? []
            packets = try BusFrame.split(&pending)
        }
        return packets.removeFirst()
    }

    func send(_ packet: Gsb_Packet) async throws {
        try await output.write(ByteBuffer(bytes: try BusFrame.encode(packet)))
    }

    /// A router listening on a fresh unix socket; `serve` gets the first member's connection.
    /// Returns the socket's path and the task's body, to run beside the member.
    static func listen(
        _ serve: @escaping @Sendable (inout TestRouter) async throws -> Void
    ) async throws -> (path: String, run: @Sendable () async throws -> Void, cleanUp: @Sendable () -> Void) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("golem-sim-bus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("yagna.sock").path
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(unixDomainSocketPath: path) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let run: @Sendable () async throws -> Void = {
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    try await connection.executeThenClose { input, output in
                        var router = TestRouter(input: input.makeAsyncIterator(), output: output)
                        try await serve(&router)
                    }
                    return
                }
            }
        }
        return (path, run, { try? FileManager.default.removeItem(at: dir) })
    }
}

/// Runs `body` with a bound, so a regression fails instead of hanging.
func bounded(_ seconds: Double, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask { try await body(); return true }
        group.addTask { try await Task.sleep(for: .seconds(seconds)); return false }
        let finished = try await group.next()!
        group.cancelAll()
        #expect(finished, "the exchange did not finish within \(seconds) s")
    }
}
