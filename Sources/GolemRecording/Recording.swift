public import Foundation
import GRDB
public import YagnaAPI

/// A recorded session read from a file: its metadata, its exchanges in start order, and the
/// divergences a replay found.
///
/// ```swift
/// let recording = try Recording.open("recordings/hello-task.sqlite")
/// for e in recording.exchanges { print(e.method, e.path, e.status) }
/// ```
public struct Recording: Sendable {
    public var file: String
    public var info: SessionInfo
    /// Every exchange, ordered by start offset, then sequence.
    public var exchanges: [RecordedExchange]
    public var divergences: [RecordedDivergence]

    public init(file: String, info: SessionInfo, exchanges: [RecordedExchange], divergences: [RecordedDivergence] = []) {
        self.file = file
        self.info = info
        self.exchanges = exchanges.sorted { ($0.startOffset, $0.sequence) < ($1.startOffset, $1.sequence) }
        self.divergences = divergences
    }

    /// Opens and checks a recording: a missing, non-SQLite, damaged or newer-format file, or a
    /// session with exchanges missing, is refused with an error naming the file and the problem.
    public static func open(_ path: String) throws(RecordingError) -> Recording {
        guard FileManager.default.fileExists(atPath: path) else { throw .notFound(path) }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .io(path, "cannot open the file for reading") }
        let magic = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        guard magic.starts(with: Array("SQLite format 3".utf8)) else { throw .notSQLite(path) }
        let queue: DatabaseQueue
        do {
            var config = Configuration()
            config.readonly = false
            queue = try DatabaseQueue(path: path, configuration: config)
            let check = try queue.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
            guard check == "ok" else { throw RecordingError.corrupt(path, check ?? "quick_check failed") }
        } catch let e as RecordingError {
            throw e
        } catch {
            throw .corrupt(path, "\(error)")
        }
        return try read(queue, file: path)
    }

    static func read(_ queue: DatabaseQueue, file: String) throws(RecordingError) -> Recording {
        do {
            return try queue.read { db throws -> Recording in
                guard try db.tableExists("session"), try db.tableExists("exchange") else {
                    throw RecordingError.notARecording(file, "no 'session' and 'exchange' tables")
                }
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM session WHERE id = 1") else {
                    throw RecordingError.truncated(file, "the session row is missing")
                }
                let version: Int = row["format_version"]
                guard version <= RecordingFormat.version else { throw RecordingError.newerFormat(file, version) }
                guard let source = SessionSource(rawValue: row["source"] ?? "") else {
                    throw RecordingError.notARecording(file, "unknown session source '\(row["source"] as String? ?? "")'")
                }
                var info = SessionInfo(
                    created: row["created"], source: source, daemonVersion: row["daemon_version"], upstream: row["upstream"],
                    scenario: row["scenario"], seed: (row["seed"] as Int64?).map { UInt64(bitPattern: $0) }, notes: row["notes"] ?? "")
                info.formatVersion = version
                info.ended = row["ended"]

                var frames: [Int: [RecordedFrame]] = [:]
                for f in try Row.fetchAll(db, sql: "SELECT * FROM sse_frame ORDER BY exchange_seq, idx") {
                    let event = ServerSentEvent(event: f["event"], data: f["data"], id: f["event_id"])
                    frames[f["exchange_seq"], default: []].append(RecordedFrame(offset: f["offset_ns"], event: event))
                }
                var exchanges: [RecordedExchange] = []
                var expected = 1
                for r in try Row.fetchAll(db, sql: "SELECT * FROM exchange ORDER BY seq") {
                    let seq: Int = r["seq"]
                    guard seq == expected else {
                        throw RecordingError.truncated(file, "exchange \(expected) is missing (the next one is \(seq)); the file was edited or cut")
                    }
                    expected += 1
                    exchanges.append(RecordedExchange(
                        sequence: seq, startOffset: r["start_ns"], endOffset: r["end_ns"], method: r["method"], path: r["path"],
                        query: r["query"], requestHeaders: try headers(r["request_headers"], file, seq),
                        requestBody: bytes(r["request_body"]), status: r["status"],
                        responseHeaders: try headers(r["response_headers"], file, seq), responseBody: bytes(r["response_body"]),
                        streamed: r["streamed"], frames: frames[seq] ?? []))
                }
                var divergences: [RecordedDivergence] = []
                if try db.tableExists("divergence") {
                    for d in try Row.fetchAll(db, sql: "SELECT * FROM divergence ORDER BY seq") {
                        divergences.append(RecordedDivergence(
                            exchangeSequence: d["exchange_seq"], offset: d["offset_ns"], operation: d["operation"], summary: d["summary"],
                            report: d["report"]))
                    }
                }
                return Recording(file: file, info: info, exchanges: exchanges, divergences: divergences)
            }
        } catch let e as RecordingError {
            throw e
        } catch let e as DatabaseError {
            throw .corrupt(file, e.message ?? "\(e)")
        } catch {
            throw .notARecording(file, "\(error)")
        }
    }

    static func bytes(_ value: DatabaseValue) -> [UInt8] {
        switch value.storage {
        case .blob(let d): Array(d)
        case .string(let s): Array(s.utf8)
        default: []
        }
    }

    static func headers(_ text: String, _ file: String, _ seq: Int) throws -> [Header] {
        guard case .array(let items)? = try? JSONParser.parse(text) else {
            throw RecordingError.notARecording(file, "exchange \(seq): headers are not a JSON array of [name, value] pairs")
        }
        return items.compactMap { item in
            guard case .array(let pair) = item, pair.count == 2, case .string(let n) = pair[0], case .string(let v) = pair[1] else { return nil }
            return Header(n, v)
        }
    }

    /// How long the session lasted, in nanoseconds.
    public var duration: Int64 { exchanges.map(\.endOffset).max() ?? 0 }
}
