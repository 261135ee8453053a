public import Foundation
public import YagnaSimulator
import YagnaAPI

extension RecordedExchange {
    /// The recorded form of an exchange the simulated node served.
    public init(_ entry: JournalEntry, sequence: Int) {
        self.init(
            sequence: sequence, startOffset: entry.startOffset, endOffset: entry.endOffset, method: entry.method,
            path: entry.path, query: entry.query, requestBody: entry.requestBody,
            status: entry.status, responseHeaders: entry.frames.isEmpty ? Self.headers(entry.responseBody) : [Header("Content-Type", "text/event-stream")],
            responseBody: entry.responseBody, streamed: !entry.frames.isEmpty,
            frames: entry.frames.map { RecordedFrame(offset: $0.offset, event: $0.event) })
    }

    static func headers(_ body: [UInt8]) -> [Header] {
        body.isEmpty ? [] : [Header("Content-Type", body.first == UInt8(ascii: "{") || body.first == UInt8(ascii: "[") || body.first == UInt8(ascii: "\"") ? "application/json" : "text/plain")]
    }
}

extension SessionInfo {
    /// Metadata of a session served by the simulator.
    public static func simulated(start: Date, scenario: String, seed: UInt64, notes: String = "") -> SessionInfo {
        SessionInfo(created: WireTimestamp(start).text, source: .simulated, daemonVersion: "golem-sim", scenario: scenario, seed: seed, notes: notes)
    }
}

extension Recording {
    /// Writes a whole journal (an in-process run, a failing seed) as a recording file.
    @discardableResult
    public static func write(
        journal: [JournalEntry], info: SessionInfo, divergences: [RecordedDivergence] = [], to path: String
    ) throws(RecordingError) -> RecordingWriter {
        let writer = try RecordingWriter(path: path, info: info)
        for (i, entry) in journal.enumerated() { try writer.append(RecordedExchange(entry, sequence: i + 1)) }
        for d in divergences { try writer.append(d) }
        try writer.finish(ended: info.created)
        return writer
    }
}
