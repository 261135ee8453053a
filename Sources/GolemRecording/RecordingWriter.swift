public import Foundation
import GRDB
import YagnaAPI

/// Appends a session to a recording file, one committed transaction per exchange, in WAL mode:
/// a writer killed with `kill -9` loses nothing already committed and the file still opens.
///
/// ```swift
/// let writer = try RecordingWriter(path: "session.sqlite", info: SessionInfo(created: now, source: .live))
/// try writer.append(exchange)
/// try writer.finish()
/// ```
public final class RecordingWriter: Sendable {
    let queue: DatabaseQueue
    public let path: String
    private let state = Locked(WriterState())

    struct WriterState {
        var next = 1
        var divergences = 1
        var finished = false
    }

    /// Creates (or replaces) the file at `path` and writes the session's metadata. `path` may be
    /// `:memory:` for tests.
    public init(path: String, info: SessionInfo) throws(RecordingError) {
        self.path = path
        do {
            if path != ":memory:" {
                for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                    try FileManager.default.removeItem(atPath: path + suffix)
                }
                queue = try DatabaseQueue(path: path)
                try queue.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA journal_mode = WAL")
                    try db.execute(sql: "PRAGMA synchronous = NORMAL")
                }
            } else {
                queue = try DatabaseQueue()
            }
            try RecordingFormat.migrator.migrate(queue)
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO session (id, format_version, created, source, daemon_version, upstream, scenario, seed, notes)
                        VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        info.formatVersion, info.created, info.source.rawValue, info.daemonVersion, info.upstream, info.scenario,
                        info.seed.map { Int64(bitPattern: $0) }, info.notes,
                    ])
            }
        } catch let e as RecordingError {
            throw e
        } catch {
            throw RecordingError.io(path, "cannot create the recording: \(error)")
        }
    }

    /// Commits one exchange; its sequence number is assigned here, in commit order.
    @discardableResult
    public func append(_ exchange: RecordedExchange) throws(RecordingError) -> Int {
        let seq = state.withLock { s in
            defer { s.next += 1 }
            return s.next
        }
        do {
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO exchange (seq, start_ns, end_ns, api, operation, method, path, query, request_headers,
                            request_body, status, response_headers, response_body, streamed)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        seq, exchange.startOffset, exchange.endOffset, exchange.api, exchange.operation?.spec.name, exchange.method,
                        exchange.path, exchange.query, Self.headersJSON(exchange.requestHeaders), Data(exchange.requestBody),
                        exchange.status, Self.headersJSON(exchange.responseHeaders), Data(exchange.responseBody), exchange.streamed,
                    ])
                for (i, frame) in exchange.frames.enumerated() {
                    try db.execute(
                        sql: "INSERT INTO sse_frame (exchange_seq, idx, offset_ns, event, event_id, data) VALUES (?, ?, ?, ?, ?, ?)",
                        arguments: [seq, i, frame.offset, frame.event.event, frame.event.id, frame.event.data])
                }
            }
        } catch {
            throw RecordingError.io(path, "cannot write exchange \(seq): \(error)")
        }
        return seq
    }

    /// Commits a replay divergence.
    public func append(_ divergence: RecordedDivergence) throws(RecordingError) {
        let seq = state.withLock { s in
            defer { s.divergences += 1 }
            return s.divergences
        }
        do {
            try queue.write { db in
                try db.execute(
                    sql: "INSERT INTO divergence (seq, exchange_seq, offset_ns, operation, summary, report) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [seq, divergence.exchangeSequence, divergence.offset, divergence.operation, divergence.summary, divergence.report])
            }
        } catch {
            throw RecordingError.io(path, "cannot write divergence \(seq): \(error)")
        }
    }

    /// Marks the session ended, folds the write-ahead log into the file and leaves a single
    /// self-contained file. Safe to call more than once.
    public func finish(ended: String? = nil) throws(RecordingError) {
        let already = state.withLock { s in
            defer { s.finished = true }
            return s.finished
        }
        guard !already else { return }
        do {
            try queue.write { db in
                try db.execute(sql: "UPDATE session SET ended = ? WHERE id = 1", arguments: [ended ?? "unknown"])
            }
            if path != ":memory:" {
                try queue.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                    try db.execute(sql: "PRAGMA journal_mode = DELETE")
                }
            }
        } catch {
            throw RecordingError.io(path, "cannot finish the recording: \(error)")
        }
    }

    /// Reads back what was written so far (for in-memory recordings and tests).
    public func read() throws(RecordingError) -> Recording {
        try Recording.read(queue, file: path)
    }

    static func headersJSON(_ headers: [Header]) -> String {
        JSONWriter.string(.array(headers.map { .array([.string($0.name), .string($0.value)]) }))
    }
}

import Synchronization

/// A value behind a mutex.
final class Locked<Value: Sendable>: Sendable {
    private let m: Mutex<Value>
    init(_ value: Value) { m = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { m.withLock { body(&$0) } }
}
