import GRDB

/// The SQLite recording format: the one session format of the project, written by the recording
/// proxy, by `golem-sim serve --journal` and for failing seeds. `recordings/README.md` documents
/// the tables for `sqlite3` users.
public enum RecordingFormat {
    /// The format version this build reads and writes. A file of a newer version is refused.
    public static let version = 1

    /// The schema, as migrations: a file is brought up to `version` when written.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE session (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    format_version INTEGER NOT NULL,
                    created TEXT NOT NULL,
                    source TEXT NOT NULL CHECK (source IN ('live', 'simulated', 'imported')),
                    daemon_version TEXT,
                    upstream TEXT,
                    scenario TEXT,
                    seed INTEGER,
                    notes TEXT NOT NULL DEFAULT '',
                    ended TEXT
                );
                CREATE TABLE exchange (
                    seq INTEGER PRIMARY KEY,
                    start_ns INTEGER NOT NULL,
                    end_ns INTEGER NOT NULL,
                    api TEXT NOT NULL,
                    operation TEXT,
                    method TEXT NOT NULL,
                    path TEXT NOT NULL,
                    query TEXT NOT NULL DEFAULT '',
                    request_headers TEXT NOT NULL DEFAULT '[]',
                    request_body BLOB NOT NULL,
                    status INTEGER NOT NULL,
                    response_headers TEXT NOT NULL DEFAULT '[]',
                    response_body BLOB NOT NULL,
                    streamed INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX exchange_by_start ON exchange(start_ns, seq);
                CREATE TABLE sse_frame (
                    exchange_seq INTEGER NOT NULL REFERENCES exchange(seq),
                    idx INTEGER NOT NULL,
                    offset_ns INTEGER NOT NULL,
                    event TEXT,
                    event_id TEXT,
                    data TEXT NOT NULL,
                    PRIMARY KEY (exchange_seq, idx)
                );
                CREATE TABLE divergence (
                    seq INTEGER PRIMARY KEY,
                    exchange_seq INTEGER,
                    offset_ns INTEGER NOT NULL,
                    operation TEXT,
                    summary TEXT NOT NULL,
                    report TEXT NOT NULL
                );
                """)
        }
        return m
    }
}
