// The SQLite recording format and the recording proxy are not built yet (see the recording issue).
import GRDB

/// The recording format version this build reads and writes (reserved; the format is not built yet).
public enum RecordingFormat {
    public static let version = 0
}
