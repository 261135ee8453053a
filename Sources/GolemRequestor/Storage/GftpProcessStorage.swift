public import Foundation
import YagnaAPI

/// File transfers through a `gftp server` process, as yapapi and golem-js do: publish files
/// for providers to fetch, receive files providers upload. Works with the real gftp (next to a
/// yagna daemon) and with the simulator's `gftp` stand-in.
///
/// The process starts on first use; call `close()` when done (it also ends on deinit).
public actor GftpProcessStorage: FileStorage {
    let executable: String
    let workDirectory: URL
    var process: Process?
    var input: FileHandle?
    var output: FileHandle?
    var buffer: [UInt8] = []
    var nextId = 0
    var counter = 0

    /// - Parameter executable: the gftp binary (`gftp` on `PATH` by default).
    public init(executable: String = "gftp") throws {
        self.executable = executable
        workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("golem-requestor-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    /// Why gftp failed.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    func start() throws {
        guard process == nil else { return }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [executable, "server"]
        let stdin = Pipe()
        let stdout = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        do { try p.run() } catch { throw Failure(description: "cannot start '\(executable) server': \(error); put gftp on PATH") }
        process = p
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading
    }

    func call(_ method: String, _ params: JSONValue) throws -> JSONValue {
        try start()
        nextId += 1
        let request: JSONValue = ["jsonrpc": "2.0", "id": .int(nextId), "method": .string(method), "params": params]
        try input!.write(contentsOf: Data((JSONWriter.string(request) + "\n").utf8))
        while !buffer.contains(0x0A) {
            let chunk = output!.availableData
            guard !chunk.isEmpty else { throw Failure(description: "gftp closed its output during '\(method)'") }
            buffer += chunk
        }
        let end = buffer.firstIndex(of: 0x0A)!
        let line = Array(buffer[..<end])
        buffer.removeFirst(end + 1)
        let reply = try JSONParser.parse(line.filter { $0 != 0x0D })
        if let error = reply["error"] { throw Failure(description: "gftp \(method): \(error["message"]?.stringValue ?? "\(error)")") }
        return reply["result"] ?? .null
    }

    public func publish(_ bytes: [UInt8]) async throws -> String {
        counter += 1
        let path = workDirectory.appendingPathComponent("upload-\(counter)")
        try Data(bytes).write(to: path)
        guard let url = try call("publish", ["files": [.string(path.path)]]).arrayValue?.first?["url"]?.stringValue else {
            throw Failure(description: "gftp publish answered without a URL")
        }
        return url
    }

    public func receive() async throws -> (url: String, read: @Sendable () async throws -> [UInt8]) {
        counter += 1
        let path = workDirectory.appendingPathComponent("download-\(counter)")
        guard let url = try call("receive", ["output_file": .string(path.path)])["url"]?.stringValue else {
            throw Failure(description: "gftp receive answered without a URL")
        }
        return (url, {
            guard let data = FileManager.default.contents(atPath: path.path) else { throw Failure(description: "nothing arrived at \(path.path)") }
            return Array(data)
        })
    }

    /// Ends the gftp process and removes the temporary files.
    public func close() {
        try? input?.close()
        process?.waitUntilExit()
        process = nil
        try? FileManager.default.removeItem(at: workDirectory)
    }
}
