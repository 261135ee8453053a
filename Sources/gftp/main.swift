import Foundation
import YagnaAPI
import YagnaSimulator

// A gftp stand-in for apps run against `golem-sim serve`: `gftp server` speaks gftp's
// line-delimited JSON-RPC 2.0 on stdin/stdout (version, publish, receive, close, upload,
// download, shutdown) and exits on stdin EOF. Files are shared with the simulator through the
// exchange directory ($GOLEM_SIM_GFTP_DIR, default golem-sim-gftp in the temporary directory).

let arguments = CommandLine.arguments.dropFirst()
guard arguments.first == "server" else {
    if arguments.first == "--version" || arguments.first == "-V" {
        print("gftp 0.14.0 (golem-sim stand-in)")
        exit(0)
    }
    FileHandle.standardError.write(Data("usage: gftp server   (the golem-sim stand-in speaks JSON-RPC on stdin/stdout)\n".utf8))
    exit(2)
}

let environment = ProcessInfo.processInfo.environment
let exchange: DirectoryFileExchange
do {
    exchange = try DirectoryFileExchange(directory: DirectoryFileExchange.defaultDirectory(environment: environment))
} catch {
    FileHandle.standardError.write(Data("gftp: cannot use the exchange directory: \(error)\n".utf8))
    exit(1)
}

func reply(_ id: JSONValue, result: JSONValue? = nil, error: String? = nil) {
    var object: [String: JSONValue] = ["jsonrpc": "2.0", "id": id]
    if let error { object["error"] = ["code": -32000, "message": .string(error)] } else { object["result"] = result ?? .null }
    FileHandle.standardOutput.write(Data((JSONWriter.string(.object(object)) + "\r\n").utf8))
}

func handle(_ method: String, _ params: JSONValue) throws -> JSONValue {
    switch method {
    case "version":
        return "0.14.0 (golem-sim)"
    case "publish":
        guard let files = params["files"]?.arrayValue?.compactMap(\.stringValue) else { throw FileExchangeError(description: "publish needs params.files") }
        return .array(try files.map { path in
            guard let data = FileManager.default.contents(atPath: path) else { throw FileExchangeError(description: "cannot read \(path)") }
            return ["file": .string(path), "url": .string(try exchange.publish(Array(data)))]
        })
    case "receive":
        guard let path = params["output_file"]?.stringValue else { throw FileExchangeError(description: "receive needs params.output_file") }
        // The node writes the file from its own working directory: a relative path is the
        // app's (this process's), as it is to yagna's gftp server the app runs.
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return ["file": .string(path), "url": .string(try exchange.receive(into: absolute))]
    case "close":
        let urls = params["urls"]?.arrayValue ?? []
        return .array(urls.map { _ in "ok" })
    case "upload":
        guard let path = params["file"]?.stringValue, let url = params["url"]?.stringValue,
            let data = FileManager.default.contents(atPath: path)
        else { throw FileExchangeError(description: "upload needs a readable params.file and params.url") }
        try exchange.write(url: url, bytes: Array(data))
        return .null
    case "download":
        guard let url = params["url"]?.stringValue, let path = params["output_file"]?.stringValue else {
            throw FileExchangeError(description: "download needs params.url and params.output_file")
        }
        try DirectoryFileExchange.writeTarget(try exchange.read(url: url), to: path)
        return .null
    case "shutdown":
        return "ok"
    default:
        throw FileExchangeError(description: "unknown method '\(method)'")
    }
}

while let line = readLine(strippingNewline: true) {
    let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
    if text.isEmpty { continue }
    guard let request = try? JSONParser.parse(text), let method = request["method"]?.stringValue else {
        reply(.null, error: "invalid JSON-RPC request")
        continue
    }
    let id = request["id"] ?? .null
    do { reply(id, result: try handle(method, request["params"] ?? .object([:]))) } catch { reply(id, error: "\(error)") }
    if method == "shutdown" { exit(0) }
}
exit(0)
