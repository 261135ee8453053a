public import Foundation
import Synchronization

/// Where the simulated node reads files the requestor published (`gftp://…` sources) and
/// writes files the requestor asked to receive (`gftp://…` targets).
public protocol FileExchange: Sendable {
    /// Registers bytes to publish; returns the gftp URL providers can fetch them from.
    func publish(_ bytes: [UInt8]) throws -> String
    /// Registers a download target; returns the gftp URL a provider can upload to.
    func receive(into path: String?) throws -> String
    /// The bytes published at `url`.
    func read(url: String) throws -> [UInt8]
    /// Stores bytes uploaded to a receive URL (and writes its target file, if any).
    func write(url: String, bytes: [UInt8]) throws
    /// The bytes uploaded to a receive URL so far.
    func received(url: String) throws -> [UInt8]
}

/// Why a gftp URL cannot be used.
public struct FileExchangeError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(description: String) { self.description = description }
}

/// gftp URL shapes: `gftp://<node>/<64 hex of content>` for published files and
/// `gftp://<node>/<65 alphanumerics>` for receive targets.
enum GftpURL {
    static func key(_ url: String) throws -> String {
        guard url.hasPrefix("gftp://"), let slash = url.dropFirst(7).firstIndex(of: "/") else {
            throw FileExchangeError(description: "'\(url)' is not a gftp URL (gftp://<node>/<id>)")
        }
        return String(url[url.index(after: slash)...])
    }

    /// A 64-hex content digest (four FNV-1a lanes): stable for the same bytes.
    static func contentHash(_ bytes: [UInt8]) -> String {
        var out = ""
        for lane in UInt64(0)..<4 {
            var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ (lane &* 0x9E37_79B9_7F4A_7C15)
            for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
            let s = String(h, radix: 16)
            out += String(repeating: "0", count: 16 - s.count) + s
        }
        return out
    }
}

extension FileExchange {
    /// Writes a download's bytes to the requestor's file, making its folders first, as yagna's
    /// gftp does (a download into `frames/out0000.png` creates `frames/`).
    public static func writeTarget(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }
}

/// An in-memory exchange for in-process runs: nothing touches the disk unless a receive
/// target path is given.
public final class InMemoryFileExchange: FileExchange {
    private struct State {
        var published: [String: [UInt8]] = [:]
        var targets: [String: String?] = [:]
        var received: [String: [UInt8]] = [:]
        var counter = 0
    }
    private let state = Mutex(State())
    public let nodeId: String

    public init(nodeId: String = "0x" + String(repeating: "a1", count: 20)) { self.nodeId = nodeId }

    public func publish(_ bytes: [UInt8]) throws -> String {
        let hash = GftpURL.contentHash(bytes)
        state.withLock { $0.published[hash] = bytes }
        return "gftp://\(nodeId)/\(hash)"
    }

    public func receive(into path: String?) throws -> String {
        let id = state.withLock { s -> String in
            s.counter += 1
            let n = String(s.counter)
            let key = "r" + String(repeating: "0", count: 64 - n.count) + n
            s.targets[key] = path
            return key
        }
        return "gftp://\(nodeId)/\(id)"
    }

    public func read(url: String) throws -> [UInt8] {
        let key = try GftpURL.key(url)
        guard let bytes = state.withLock({ $0.published[key] }) else {
            throw FileExchangeError(description: "nothing is published at \(url)")
        }
        return bytes
    }

    public func write(url: String, bytes: [UInt8]) throws {
        let key = try GftpURL.key(url)
        let target: String?? = state.withLock { s in
            guard let t = s.targets[key] else { return nil }
            s.received[key] = bytes
            return t
        }
        guard let target else { throw FileExchangeError(description: "\(url) was not registered with receive") }
        if let path = target { try Self.writeTarget(bytes, to: path) }
    }

    public func received(url: String) throws -> [UInt8] {
        let key = try GftpURL.key(url)
        guard let bytes = state.withLock({ $0.received[key] }) else {
            throw FileExchangeError(description: "nothing was uploaded to \(url)")
        }
        return bytes
    }
}

/// An exchange in a directory shared between `golem-sim serve` and the `gftp` stand-in run by
/// a requestor app: published content is copied in as `pub-<hash>`, receive targets are
/// recorded as `recv-<id>` files holding the output path.
public struct DirectoryFileExchange: FileExchange {
    public let directory: URL
    public let nodeId: String

    public init(directory: URL, nodeId: String = "0x" + String(repeating: "a1", count: 20)) throws {
        self.directory = directory
        self.nodeId = nodeId
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// The default shared directory: `$GOLEM_SIM_GFTP_DIR`, else `golem-sim-gftp` in the
    /// temporary directory.
    public static func defaultDirectory(environment: [String: String]) -> URL {
        if let dir = environment["GOLEM_SIM_GFTP_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        return FileManager.default.temporaryDirectory.appendingPathComponent("golem-sim-gftp")
    }

    public func publish(_ bytes: [UInt8]) throws -> String {
        let hash = GftpURL.contentHash(bytes)
        try Data(bytes).write(to: directory.appendingPathComponent("pub-\(hash)"))
        return "gftp://\(nodeId)/\(hash)"
    }

    public func receive(into path: String?) throws -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        let id = String((0..<65).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
        try Data((path ?? "").utf8).write(to: directory.appendingPathComponent("recv-\(id)"))
        return "gftp://\(nodeId)/\(id)"
    }

    public func read(url: String) throws -> [UInt8] {
        let key = try GftpURL.key(url)
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("pub-\(key)").path) else {
            throw FileExchangeError(description: "nothing is published at \(url) (is the app's gftp the simulator's stand-in, sharing \(directory.path)?)")
        }
        return Array(data)
    }

    public func write(url: String, bytes: [UInt8]) throws {
        let key = try GftpURL.key(url)
        guard let target = FileManager.default.contents(atPath: directory.appendingPathComponent("recv-\(key)").path) else {
            throw FileExchangeError(description: "\(url) was not registered with receive")
        }
        try Data(bytes).write(to: directory.appendingPathComponent("got-\(key)"))
        let path = String(decoding: target, as: UTF8.self)
        if !path.isEmpty { try Self.writeTarget(bytes, to: path) }
    }

    public func received(url: String) throws -> [UInt8] {
        let key = try GftpURL.key(url)
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("got-\(key)").path) else {
            throw FileExchangeError(description: "nothing was uploaded to \(url)")
        }
        return Array(data)
    }
}
