/// Why a recording cannot be read or written: the file, the problem, and what to do.
public struct RecordingError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case notFound, notSQLite, corrupt, newerFormat(Int), notARecording, truncated, io
    }
    private let kind: Kind
    public let file: String
    public let message: String

    private init(_ kind: Kind, _ file: String, _ message: String) {
        self.kind = kind
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }

    static func notFound(_ file: String) -> RecordingError {
        RecordingError(.notFound, file, "no such file; give the path of a recording made by `golem-sim record` or `serve --journal`")
    }
    static func notSQLite(_ file: String) -> RecordingError {
        RecordingError(.notSQLite, file, "not an SQLite database, so not a golem-sim recording; give a file written by `golem-sim record` or `serve --journal`")
    }
    static func corrupt(_ file: String, _ detail: String) -> RecordingError {
        RecordingError(.corrupt, file, "the SQLite file is damaged (\(detail)); a recording cut short or overwritten cannot be read — record the session again")
    }
    static func newerFormat(_ file: String, _ version: Int) -> RecordingError {
        RecordingError(
            .newerFormat(version), file,
            "recording format version \(version) is newer than this golem-sim reads (\(RecordingFormat.version)); use a newer golem-sim")
    }
    static func notARecording(_ file: String, _ detail: String) -> RecordingError {
        RecordingError(.notARecording, file, "an SQLite database but not a golem-sim recording (\(detail)); give a file written by `golem-sim record` or `serve --journal`")
    }
    static func truncated(_ file: String, _ detail: String) -> RecordingError {
        RecordingError(.truncated, file, "the session is truncated: \(detail); record the session again")
    }
    static func io(_ file: String, _ detail: String) -> RecordingError {
        RecordingError(.io, file, detail)
    }

    /// Whether the file was written by a newer format version.
    public var isNewerFormat: Bool { if case .newerFormat = kind { true } else { false } }
    /// Whether the file is damaged or not a recording at all.
    public var isCorrupt: Bool {
        switch kind {
        case .notSQLite, .corrupt, .notARecording, .truncated: true
        default: false
        }
    }
}
