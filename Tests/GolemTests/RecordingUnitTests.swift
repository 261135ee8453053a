import Foundation
import GolemRecording
import Testing
import YagnaAPI
@testable import YagnaSimulator

/// GolemRecording in small pieces: the sanitizer, the SQLite file (every field, versions, damaged
/// and foreign files), journals as recordings, SessionReport's figures, text, JSON and escaped
/// HTML for a hand-built session, and the verifier's drift rules.
@Suite struct RecordingUnitTests {
    /// A fresh directory of its own for one test; `discard` removes it.
    static func scratchDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recording-unit-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func discard(_ dir: URL) { try? FileManager.default.removeItem(at: dir) }

    /// Why `Recording.open` refused the file, or `nil` if it opened.
    static func refusal(_ path: String) -> RecordingError? {
        do {
            _ = try Recording.open(path)
            return nil
        } catch {
            return error
        }
    }

    /// A finished two-exchange recording (the second one streamed) at `path`.
    static func writeSmallRecording(_ path: String) throws {
        let writer = try RecordingWriter(
            path: path, info: SessionInfo(created: "2026-01-01T00:00:00Z", source: .simulated, scenario: "small", seed: 7))
        try writer.append(RecordedExchange(
            sequence: 0, startOffset: 0, endOffset: 10, method: "GET", path: "/me", requestHeaders: [Header("Accept", "application/json")],
            status: 200, responseHeaders: [Header("Content-Type", "application/json")], responseBody: Array(#"{"identity":"0x01"}"#.utf8)))
        try writer.append(RecordedExchange(
            sequence: 0, startOffset: 20, endOffset: 40, method: "GET", path: "/activity-api/v1/activity/a/exec/b", status: 200,
            streamed: true, frames: [RecordedFrame(offset: 30, event: ServerSentEvent(event: "runtime", data: "{}", id: "1"))]))
        try writer.finish(ended: "2026-01-01T00:00:01Z")
    }

    // MARK: - Sanitizer

    @Suite struct SanitizerCases {
        static let a = "0x" + String(repeating: "ab", count: 20)
        static let b = "0x" + String(repeating: "cd", count: 20)
        static let c = "0x" + String(repeating: "ef", count: 20)
        static let d = "0x" + String(repeating: "09", count: 20)
        /// The n-th pseudonym a sanitizer hands out: `0x`, zeros, `5eed`, n in hex — 40 hex digits.
        static let p1 = "0x" + String(repeating: "0", count: 35) + "5eed1"
        static let p2 = "0x" + String(repeating: "0", count: 35) + "5eed2"
        static let p3 = "0x" + String(repeating: "0", count: 35) + "5eed3"
        static let p4 = "0x" + String(repeating: "0", count: 35) + "5eed4"

        static func body(_ s: String) -> RecordedExchange {
            RecordedExchange(sequence: 1, startOffset: 0, endOffset: 0, method: "POST", path: "/x", requestBody: Array(s.utf8), status: 200)
        }

        @Test func withoutPseudonymsOnlyTheKeyChangesAndEverythingElseIsByteIdentical() throws {
            let a = Self.a
            let e = RecordedExchange(
                sequence: 3, startOffset: 10, endOffset: 20, method: "POST", path: "/market-api/v1/demands/\(a)/proposals/p1",
                query: "timeout=5&authToken=s3cr3t-key&afterTimestamp=2026-01-01T00:00:00.000%2B01:00",
                requestHeaders: [Header("authorization", "Bearer s3cr3t-key"), Header("Content-Type", "application/json"), Header("AUTHORIZATION", "s3cr3t-key")],
                requestBody: Array(#"{"providerId":"\#(a)","key":"x"}"#.utf8), status: 201, responseHeaders: [Header("Location", a)],
                responseBody: Array("\"\(a)\"".utf8), streamed: true,
                frames: [RecordedFrame(offset: 5, event: ServerSentEvent(event: "x", data: a, id: "1"))])
            let clean = Sanitizer().clean(e)
            var expected = e
            // Every spelling of the header loses its value (and keeps its name); the key goes from the query.
            expected.requestHeaders = [
                Header("authorization", "Bearer <redacted>"), Header("Content-Type", "application/json"), Header("AUTHORIZATION", "Bearer <redacted>"),
            ]
            expected.query = "timeout=5&authToken=%3Credacted%3E&afterTimestamp=2026-01-01T00:00:00.000%2B01:00"
            #expect(clean == expected)
            #expect(clean.queryValue("authToken") == "<redacted>")
            #expect(clean.queryValue("afterTimestamp") == "2026-01-01T00:00:00.000+01:00")
            let everything = clean.query + clean.requestHeaders.map(\.value).joined() + String(decoding: clean.requestBody + clean.responseBody, as: UTF8.self)
            #expect(!everything.contains("s3cr3t-key"))
        }

        @Test func aQueryWithoutTheKeyAndAnEmptyQueryAreLeftAlone() throws {
            var e = Self.body("{}")
            e.query = "timeout=5&maxEvents=10&afterTimestamp=2026-01-01T00:00:00.000%2B00:00"
            #expect(Sanitizer().clean(e).query == e.query)
            e.query = ""
            #expect(Sanitizer(pseudonymizeAddresses: true).clean(e).query == "")
            e.query = "authToken=k"
            #expect(Sanitizer(pseudonymizeAddresses: true).clean(e).query == "authToken=%3Credacted%3E")
        }

        @Test func theAuthorizationHeaderIsRedactedNotPseudonymised() throws {
            var e = Self.body("{}")
            e.requestHeaders = [Header("Authorization", "Bearer \(Self.a)")]
            let clean = Sanitizer(pseudonymizeAddresses: true).clean(e)
            #expect(clean.requestHeaders == [Header("Authorization", "Bearer <redacted>")])
        }

        @Test func pseudonymsAreConsistentAcrossExchangesAndInsideJSONStrings() throws {
            let (a, b, c, d) = (Self.a, Self.b, Self.c, Self.d)
            let (p1, p2, p3, p4) = (Self.p1, Self.p2, Self.p3, Self.p4)
            let sanitizer = Sanitizer(pseudonymizeAddresses: true)
            // Cleaned in this order: request headers, response headers, query, path, bodies, frames.
            let first = RecordedExchange(
                sequence: 1, startOffset: 0, endOffset: 1, method: "POST", path: "/market-api/v1/demands/dm/proposals/pr",
                query: "nodeId=\(a)&authToken=app-key-1", requestHeaders: [Header("Authorization", "Bearer app-key-1"), Header("X-Node", b)],
                requestBody: Array(#"{"properties":{"golem.node.id.name":"node-\#(a)","golem.com.payment.platform.erc20-holesky-tglm.address":"\#(c)"}}"#.utf8),
                status: 201, responseBody: Array("\"\(b)\"".utf8))
            let one = sanitizer.clean(first)
            #expect(one.requestHeaders == [Header("Authorization", "Bearer <redacted>"), Header("X-Node", p1)])
            #expect(one.query == "nodeId=\(p2)&authToken=%3Credacted%3E")
            #expect(String(decoding: one.requestBody, as: UTF8.self)
                == #"{"properties":{"golem.node.id.name":"node-\#(p2)","golem.com.payment.platform.erc20-holesky-tglm.address":"\#(p3)"}}"#)
            #expect(one.responseBody == Array("\"\(p1)\"".utf8))
            #expect(one.path == first.path)

            // A later exchange: known addresses keep their pseudonyms (whatever their case), a new one gets the next.
            let second = RecordedExchange(
                sequence: 2, startOffset: 2, endOffset: 3, method: "POST", path: "/activity-api/v1/activity/act/exec",
                requestBody: Array(#"{"text":"[{\"run\":{\"entry_point\":\"/bin/echo\",\"args\":[\"\#(b)\"]}}]"}"#.utf8),
                status: 200, responseHeaders: [Header("X-Issuer", "0X" + String(repeating: "EF", count: 20))],
                responseBody: Array(#"["\#(d)","\#(a)"]"#.utf8), streamed: true,
                frames: [RecordedFrame(offset: 7, event: ServerSentEvent(event: "runtime", data: #"{"provider":"\#(c)"}"#, id: "3"))])
            let two = sanitizer.clean(second)
            var expected = second
            expected.responseHeaders = [Header("X-Issuer", p3)]
            expected.requestBody = Array(#"{"text":"[{\"run\":{\"entry_point\":\"/bin/echo\",\"args\":[\"\#(p1)\"]}}]"}"#.utf8)
            expected.responseBody = Array(#"["\#(p4)","\#(p2)"]"#.utf8)
            expected.frames = [RecordedFrame(offset: 7, event: ServerSentEvent(event: "runtime", data: #"{"provider":"\#(p3)"}"#, id: "3"))]
            #expect(two == expected)
            // The pseudonymised body is still the JSON it was.
            let parsed: [JSONValue]? = (try? JSONParser.parse(two.responseBody))?.arrayValue
            #expect(parsed == [JSONValue.string(p4), JSONValue.string(p2)])
        }

        @Test func addressesInThePathAndAtTheEdgesOfABodyAreReplaced() throws {
            let (a, b) = (Self.a, Self.b)
            var e = Self.body(a)
            e.path = "/payment-api/v1/providerAccounts/\(b)"
            let clean = Sanitizer(pseudonymizeAddresses: true).clean(e)
            // The path is cleaned before the body: b is first.
            #expect(clean.path == "/payment-api/v1/providerAccounts/\(Self.p1)")
            #expect(clean.requestBody == Array(Self.p2.utf8))
            // Delimited by anything that is not a hex digit.
            let mixed = Sanitizer(pseudonymizeAddresses: true).clean(Self.body("node-\(a)/x:\(b),\(a)"))
            #expect(String(decoding: mixed.requestBody, as: UTF8.self) == "node-\(Self.p1)/x:\(Self.p2),\(Self.p1)")
        }

        @Test func hexThatIsNotAnAddressIsLeftAlone() throws {
            let hash = "0x" + String(repeating: "12", count: 32)  // a transaction hash: 64 hex digits
            let short = "0x" + String(repeating: "a", count: 39)
            let glued = "f0x" + String(repeating: "b", count: 40)  // inside a longer hex run
            let long = "0x" + String(repeating: "c", count: 41)
            let notHex = "0x" + String(repeating: "d", count: 39) + "g"
            let text = "\(hash) \(short) \(glued) \(long) \(notHex) 0x12"
            let clean = Sanitizer(pseudonymizeAddresses: true).clean(Self.body(text))
            #expect(String(decoding: clean.requestBody, as: UTF8.self) == text)
            // Shorter than an address at all.
            let tiny = Sanitizer(pseudonymizeAddresses: true).clean(Self.body("0xab"))
            #expect(tiny.requestBody == Array("0xab".utf8))
        }

        @Test func pseudonymsStayFortyHexDigitsPastFifteenAddresses() throws {
            let addresses = (0..<17).map { i in "0x" + String(repeating: "d", count: 38) + (i < 16 ? "0" : "") + String(i, radix: 16) }
            #expect(Set(addresses).count == 17)
            let clean = Sanitizer(pseudonymizeAddresses: true).clean(Self.body(addresses.joined(separator: ",")))
            let out = String(decoding: clean.requestBody, as: UTF8.self).split(separator: ",").map(String.init)
            #expect(out.count == 17)
            #expect(Set(out).count == 17)
            #expect(out[0] == Self.p1)
            #expect(out[15] == "0x" + String(repeating: "0", count: 34) + "5eed10")
            #expect(out[16] == "0x" + String(repeating: "0", count: 34) + "5eed11")
            #expect(out.allSatisfy { $0.count == 42 && $0.hasPrefix("0x") && $0.dropFirst(2).allSatisfy(\.isHexDigit) })
            #expect(Set(out).isDisjoint(with: addresses))
        }

        @Test func copiesShareTheirPseudonymsAndAFreshSanitizerStartsOver() throws {
            let sanitizer = Sanitizer(pseudonymizeAddresses: true)
            let copy = sanitizer  // the recording proxy captures its sanitizer by value
            #expect(sanitizer.clean(Self.body(Self.b)).requestBody == Array(Self.p1.utf8))
            #expect(copy.clean(Self.body(Self.a)).requestBody == Array(Self.p2.utf8))
            #expect(copy.clean(Self.body(Self.b)).requestBody == Array(Self.p1.utf8))
            #expect(Sanitizer(pseudonymizeAddresses: true).clean(Self.body(Self.a)).requestBody == Array(Self.p1.utf8))
            // Switched off on a copy, addresses pass through.
            var off = sanitizer
            off.pseudonymizeAddresses = false
            #expect(off.clean(Self.body(Self.a)).requestBody == Array(Self.a.utf8))
        }
    }

    // MARK: - The SQLite file

    @Suite struct FileRoundTrip {
        @Test func everyFieldSurvivesTheFile() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let path = dir.appendingPathComponent("all-fields.sqlite").path
            let info = SessionInfo(
                created: "2026-03-04T05:06:07.123456Z", source: .live, daemonVersion: "0.17.6 (a1b2c3d)", upstream: "http://127.0.0.1:7465",
                scenario: "round trip ✓", seed: UInt64.max - 6, notes: "line one\nline 'two' \"quoted\"")
            let a = RecordedExchange(
                sequence: 99, startOffset: 5_000, endOffset: 9_000, method: "POST", path: "/market-api/v1/demands",
                requestHeaders: [Header("Content-Type", "application/json"), Header("X-Quote", "a \"b\" \\ c ✓")],
                requestBody: [0x00, 0xFF, 0xFE, 0x7B, 0x0A], status: 201, responseHeaders: [Header("Content-Type", "application/json")],
                responseBody: Array("\"d-1\"".utf8))
            let b = RecordedExchange(
                sequence: 0, startOffset: 1_000, endOffset: 2_000_000_000_000, method: "GET", path: "/activity-api/v1/activity/act-1/exec/batch-1",
                query: "timeout=5&pollTimeout=10", status: 200, responseHeaders: [Header("Content-Type", "text/event-stream")], streamed: true,
                frames: [
                    RecordedFrame(offset: 10, event: ServerSentEvent(event: "runtime", data: "{\"index\":0}\nsecond line", id: "7")),
                    RecordedFrame(offset: 20, event: ServerSentEvent(data: "")),
                ])
            let c = RecordedExchange(sequence: 0, startOffset: 5_000, endOffset: 5_000, method: "DELETE", path: "/unknown/π", query: "a=%20b&c", status: -1)
            let d1 = RecordedDivergence(exchangeSequence: 2, offset: 1_500, operation: "activity.getExecBatchResults", summary: "frames differ", report: #"{"path":"[0]"}"#)
            let d2 = RecordedDivergence(exchangeSequence: nil, offset: 0, operation: nil, summary: "an extra request", report: "{}")

            let writer = try RecordingWriter(path: path, info: info)
            #expect(writer.path == path)
            // Sequence numbers are assigned in commit order, whatever the exchange carried.
            #expect(try writer.append(a) == 1)
            #expect(try writer.append(b) == 2)
            #expect(try writer.append(c) == 3)
            try writer.append(d1)
            try writer.append(d2)
            try writer.finish(ended: "2026-03-04T05:07:00Z")
            // One self-contained file.
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))

            let r = try Recording.open(path)
            var expectedInfo = info
            expectedInfo.ended = "2026-03-04T05:07:00Z"
            #expect(r.info == expectedInfo)
            #expect(r.info.seed == UInt64.max - 6)
            #expect(r.info.formatVersion == RecordingFormat.version)
            #expect(r.file == path)
            var ea = a, eb = b, ec = c
            ea.sequence = 1
            eb.sequence = 2
            ec.sequence = 3
            // Ordered by start offset, then sequence.
            #expect(r.exchanges == [eb, ea, ec])
            #expect(r.divergences == [d1, d2])
            #expect(r.duration == 2_000_000_000_000)
        }

        @Test func anInMemoryRecordingReadsBackAndFinishesOnce() throws {
            let writer = try RecordingWriter(path: ":memory:", info: SessionInfo(created: "c", source: .imported))
            try writer.append(RecordedExchange(sequence: 0, startOffset: 3, endOffset: 4, method: "GET", path: "/me", status: 200))
            try writer.append(RecordedExchange(sequence: 0, startOffset: 1, endOffset: 8, method: "GET", path: "/me", status: 401))
            var r = try writer.read()
            #expect(r.file == ":memory:")
            #expect(r.info.source == .imported)
            #expect(r.info.ended == nil)
            #expect(r.exchanges.map(\.sequence) == [2, 1])
            #expect(r.exchanges.map(\.status) == [401, 200])
            #expect(r.duration == 8)
            try writer.finish()
            r = try writer.read()
            #expect(r.info.ended == "unknown")
            // A second finish changes nothing.
            try writer.finish(ended: "later")
            #expect(try writer.read().info.ended == "unknown")
        }

        @Test func anEmptySessionHasNoExchangesAndNoDuration() throws {
            let writer = try RecordingWriter(path: ":memory:", info: SessionInfo(created: "c", source: .simulated))
            let r = try writer.read()
            #expect(r.exchanges.isEmpty)
            #expect(r.divergences.isEmpty)
            #expect(r.duration == 0)
        }

        @Test func aNewerFormatVersionIsRefusedAndAnOlderOneRead() throws {
            let v = RecordingFormat.version
            var newer = SessionInfo(created: "c", source: .live)
            newer.formatVersion = v + 1
            let writer = try RecordingWriter(path: ":memory:", info: newer)
            do {
                _ = try writer.read()
                Issue.record("read a recording of format \(v + 1)")
            } catch {
                #expect(error.isNewerFormat)
                #expect(!error.isCorrupt)
                #expect(error.file == ":memory:")
                #expect(error.message.contains("version \(v + 1)"))
                #expect(error.message.contains("(\(v))"))
                #expect(error.message.contains("use a newer golem-sim"))
            }
            var older = SessionInfo(created: "c", source: .live)
            older.formatVersion = v - 1
            let old = try RecordingWriter(path: ":memory:", info: older)
            #expect(try old.read().info.formatVersion == v - 1)
        }

        @Test func aNewerFormatFileIsRefusedOnOpenWithTheFileName() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let path = dir.appendingPathComponent("newer.sqlite").path
            var info = SessionInfo(created: "c", source: .live)
            info.formatVersion = RecordingFormat.version + 5
            let writer = try RecordingWriter(path: path, info: info)
            try writer.finish()
            let error = try #require(RecordingUnitTests.refusal(path))
            #expect(error.isNewerFormat)
            #expect(error.file == path)
            #expect(error.description.hasPrefix("\(path): "))
            #expect(error.description.contains("\(RecordingFormat.version + 5)"))
        }

        @Test func theWriterReplacesAnExistingFileAndItsStaleLog() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let path = dir.appendingPathComponent("reused.sqlite").path
            try Data("not a database".utf8).write(to: URL(fileURLWithPath: path))
            try Data("stale log".utf8).write(to: URL(fileURLWithPath: path + "-wal"))
            let writer = try RecordingWriter(path: path, info: SessionInfo(created: "c", source: .simulated))
            try writer.append(RecordedExchange(sequence: 0, startOffset: 0, endOffset: 1, method: "GET", path: "/me", status: 200))
            try writer.finish()
            let r = try Recording.open(path)
            #expect(r.exchanges.count == 1)
            #expect(r.info.source == .simulated)
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        }

        @Test func aRecordingThatCannotBeCreatedNamesTheFile() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let path = dir.appendingPathComponent("no-such-directory/deeper/x.sqlite").path
            do {
                _ = try RecordingWriter(path: path, info: SessionInfo(created: "c", source: .live))
                Issue.record("created a recording in a missing directory")
            } catch {
                #expect(error.file == path)
                #expect(error.message.hasPrefix("cannot create the recording"))
                #expect(!error.isCorrupt)
                #expect(!error.isNewerFormat)
            }
        }
    }

    // MARK: - Files that are not (whole) recordings

    @Suite struct RefusedFiles {
        @Test func aMissingFileSaysWhereRecordingsComeFrom() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let path = dir.appendingPathComponent("absent.sqlite").path
            let error = try #require(RecordingUnitTests.refusal(path))
            #expect(error.file == path)
            #expect(error.message.contains("no such file"))
            #expect(error.message.contains("golem-sim record"))
            #expect(!error.isCorrupt)
            #expect(!error.isNewerFormat)
        }

        @Test func emptyTextAndBinaryFilesAreNotSQLite() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let files: [(String, Data)] = [
                ("empty.sqlite", Data()),
                ("journal.json", Data(#"[{"method":"GET","path":"/me"}]"#.utf8)),
                ("image.png", Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 64))),
                ("almost.sqlite", Data("SQLite format 2\0".utf8) + Data(count: 4096)),
            ]
            for (name, data) in files {
                let path = dir.appendingPathComponent(name).path
                try data.write(to: URL(fileURLWithPath: path))
                let error = try #require(RecordingUnitTests.refusal(path), "\(name) opened")
                #expect(error.isCorrupt, "\(name)")
                #expect(error.file == path)
                #expect(error.message.contains("not an SQLite database"), "\(name): \(error)")
            }
        }

        @Test func anSQLiteHeaderFollowedByGarbageIsDamagedAndSaysRecordAgain() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let path = dir.appendingPathComponent("garbage.sqlite").path
            try Data(Array("SQLite format 3\0".utf8) + [UInt8](repeating: 0xAB, count: 8192)).write(to: URL(fileURLWithPath: path))
            let error = try #require(RecordingUnitTests.refusal(path))
            #expect(error.isCorrupt)
            #expect(error.file == path)
            #expect(error.message.contains("damaged"))
            #expect(error.message.contains("record the session again"))
        }

        @Test func aRecordingCutToItsFirstKilobyteIsRefused() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let path = dir.appendingPathComponent("whole.sqlite").path
            try RecordingUnitTests.writeSmallRecording(path)
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(data.count > 1024)
            let cut = dir.appendingPathComponent("cut.sqlite").path
            try data.prefix(1024).write(to: URL(fileURLWithPath: cut))
            let error = try #require(RecordingUnitTests.refusal(cut))
            #expect(error.isCorrupt)
            #expect(error.file == cut)
            #expect(error.description.hasPrefix(cut))
        }

        @Test func anSQLiteDatabaseWithoutTheTablesIsNotARecording() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let other = dir.appendingPathComponent("other.sqlite").path
            try sqlite(other, "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('hello');")
            let error = try #require(RecordingUnitTests.refusal(other))
            #expect(error.isCorrupt)
            #expect(error.file == other)
            #expect(error.message.contains("not a golem-sim recording"))
            #expect(error.message.contains("'session' and 'exchange'"))

            // A recording whose exchange table was dropped is refused the same way.
            let dropped = dir.appendingPathComponent("dropped.sqlite").path
            try RecordingUnitTests.writeSmallRecording(dropped)
            try sqlite(dropped, "DROP TABLE exchange;")
            let e2 = try #require(RecordingUnitTests.refusal(dropped))
            #expect(e2.file == dropped)
            #expect(e2.message.contains("'session' and 'exchange'"))
        }

        @Test func aMissingFrameTableIsReportedAsDamageNamingTheTable() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let path = dir.appendingPathComponent("no-frames.sqlite").path
            try RecordingUnitTests.writeSmallRecording(path)
            try sqlite(path, "DROP TABLE sse_frame;")
            let error = try #require(RecordingUnitTests.refusal(path))
            #expect(error.isCorrupt)
            #expect(error.file == path)
            #expect(error.message.contains("sse_frame"))
            #expect(error.message.contains("record the session again"))
        }

        @Test func aFileWithoutTheDivergenceTableStillOpens() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let path = dir.appendingPathComponent("no-divergences.sqlite").path
            try RecordingUnitTests.writeSmallRecording(path)
            try sqlite(path, "DROP TABLE divergence;")
            let r = try Recording.open(path)
            #expect(r.divergences.isEmpty)
            #expect(r.exchanges.count == 2)
            #expect(r.exchanges[1].frames == [RecordedFrame(offset: 30, event: ServerSentEvent(event: "runtime", data: "{}", id: "1"))])
            #expect(r.info.scenario == "small")
            #expect(r.info.seed == 7)
        }

        @Test func aMissingSessionRowIsATruncatedSession() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let path = dir.appendingPathComponent("no-session.sqlite").path
            try RecordingUnitTests.writeSmallRecording(path)
            try sqlite(path, "DELETE FROM session;")
            let error = try #require(RecordingUnitTests.refusal(path))
            #expect(error.isCorrupt)
            #expect(error.file == path)
            #expect(error.message.contains("truncated"))
            #expect(error.message.contains("session row is missing"))
        }

        @Test func headersThatAreNotJSONNameTheExchange() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let path = dir.appendingPathComponent("bad-headers.sqlite").path
            try RecordingUnitTests.writeSmallRecording(path)
            try sqlite(path, "UPDATE exchange SET response_headers = 'Content-Type: text/plain' WHERE seq = 2;")
            let error = try #require(RecordingUnitTests.refusal(path))
            #expect(error.isCorrupt)
            #expect(error.file == path)
            #expect(error.message.contains("exchange 2"))
            #expect(error.message.contains("headers are not a JSON array"))
        }

        @Test func malformedHeaderPairsAreDroppedAndATextBodyIsReadAsItsBytes() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let path = dir.appendingPathComponent("edited.sqlite").path
            try RecordingUnitTests.writeSmallRecording(path)
            try sqlite(path, #"UPDATE exchange SET request_headers = '[["A","1"],["B"],[1,2],"x",["C","3"]]', request_body = 'plain text' WHERE seq = 1;"#)
            let r = try Recording.open(path)
            let first = try #require(r.exchanges.first { $0.sequence == 1 })
            #expect(first.requestHeaders == [Header("A", "1"), Header("C", "3")])
            #expect(first.requestBody == Array("plain text".utf8))
            #expect(first.responseBody == Array(#"{"identity":"0x01"}"#.utf8))
        }

        /// RecordingError promises "the file, the problem, and what to do"; three kinds say only
        /// what is wrong.
        @Test func everyRefusalSaysWhatToDo() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            // "not a golem-sim recording" is the problem, not advice: look for a next step.
            func advises(_ m: String) -> Bool {
                m.contains("`golem-sim record`") || m.contains("record the session again") || m.contains("serve --journal") || m.contains("use a newer")
            }
            let empty = dir.appendingPathComponent("empty.sqlite").path
            try Data().write(to: URL(fileURLWithPath: empty))
            let other = dir.appendingPathComponent("other.sqlite").path
            try sqlite(other, "CREATE TABLE notes (x TEXT);")
            let noSession = dir.appendingPathComponent("no-session.sqlite").path
            try RecordingUnitTests.writeSmallRecording(noSession)
            try sqlite(noSession, "DELETE FROM session;")
            var errors: [RecordingError] = []
            for path in [empty, other, noSession] { errors.append(try #require(RecordingUnitTests.refusal(path), "\(path) opened")) }
            #expect(errors.allSatisfy { $0.description.hasPrefix($0.file) })
            for e in errors { #expect(advises(e.message), "\(e)") }
        }
    }

    // MARK: - Journals

    @Suite struct JournalCases {
        @Test func aJournalEntryBecomesAnExchangeWithItsQuerySplitAndAContentType() throws {
            func entry(_ body: String, frames: [(offset: Int64, event: ServerSentEvent)] = []) -> JournalEntry {
                JournalEntry(
                    sequence: 40, startOffset: 10, endOffset: 20, method: "POST", target: "/market-api/v1/demands?x=1&y=%2B",
                    requestBody: Array("{}".utf8), status: 201, responseBody: Array(body.utf8), frames: frames)
            }
            let json = RecordedExchange(entry("\"d1\""), sequence: 7)
            #expect(json.sequence == 7)
            #expect(json.path == "/market-api/v1/demands")
            #expect(json.query == "x=1&y=%2B")
            #expect(json.startOffset == 10 && json.endOffset == 20)
            #expect(json.requestHeaders.isEmpty)
            #expect(json.requestBody == Array("{}".utf8))
            #expect(json.responseHeaders == [Header("Content-Type", "application/json")])
            #expect(!json.streamed && json.frames.isEmpty)
            #expect(RecordedExchange(entry("[1]"), sequence: 1).responseHeaders == [Header("Content-Type", "application/json")])
            #expect(RecordedExchange(entry("{}"), sequence: 1).responseHeaders == [Header("Content-Type", "application/json")])
            #expect(RecordedExchange(entry("Accepted"), sequence: 1).responseHeaders == [Header("Content-Type", "text/plain")])
            #expect(RecordedExchange(entry(""), sequence: 1).responseHeaders.isEmpty)

            let frames: [(offset: Int64, event: ServerSentEvent)] = [
                (offset: 12, event: ServerSentEvent(event: "runtime", data: "a")), (offset: 15, event: ServerSentEvent(data: "b", id: "2")),
            ]
            let stream = RecordedExchange(entry("", frames: frames), sequence: 2)
            #expect(stream.streamed)
            #expect(stream.responseHeaders == [Header("Content-Type", "text/event-stream")])
            #expect(stream.frames == [
                RecordedFrame(offset: 12, event: ServerSentEvent(event: "runtime", data: "a")), RecordedFrame(offset: 15, event: ServerSentEvent(data: "b", id: "2")),
            ])
        }

        @Test func aWrittenJournalIsNumberedInOrderEndedAndKeepsItsDivergences() throws {
            let dir = try RecordingUnitTests.scratchDirectory()
            defer { RecordingUnitTests.discard(dir) }
            let path = dir.appendingPathComponent("journal.sqlite").path
            let journal = [
                JournalEntry(sequence: 9, startOffset: 50, endOffset: 60, method: "GET", target: "/me", requestBody: [], status: 200,
                             responseBody: Array(#"{"identity":"0x01"}"#.utf8), frames: []),
                JournalEntry(sequence: 3, startOffset: 5, endOffset: 70, method: "GET", target: "/version/get", requestBody: [], status: 200,
                             responseBody: Array("{}".utf8), frames: []),
            ]
            let start = Date(timeIntervalSince1970: 1_700_000_000)
            let info = SessionInfo.simulated(start: start, scenario: "unit", seed: 12, notes: "by hand")
            #expect(info.source == .simulated)
            #expect(info.daemonVersion == "golem-sim")
            #expect(info.created == WireTimestamp(start).text)
            let divergence = RecordedDivergence(exchangeSequence: 1, offset: 55, operation: "identity.me", summary: "differs", report: "{}")
            try Recording.write(journal: journal, info: info, divergences: [divergence], to: path)
            let r = try Recording.open(path)
            // Numbered by journal position (not the entries' own numbers), ordered by start.
            #expect(r.exchanges.map(\.sequence) == [2, 1])
            #expect(r.exchanges.map(\.path) == ["/version/get", "/me"])
            #expect(r.info.ended == info.created)
            #expect(r.info.scenario == "unit" && r.info.seed == 12 && r.info.notes == "by hand")
            #expect(r.divergences == [divergence])
            #expect(r.duration == 70)
        }
    }

    // MARK: - SessionReport

    @Suite struct ReportFigures {
        static let alpha = "0x" + String(repeating: "a1", count: 20)
        static let beta = "0x" + String(repeating: "b2", count: 20)
        static let gamma = "0x" + String(repeating: "c3", count: 20)
        static let stamp = "2026-01-01T00:00:00.000Z"

        /// Exchange `seq` starts at `seq` seconds and ends half a second later.
        static func x(_ seq: Int, _ method: String, _ path: String, _ status: Int = 200, request: String = "", response: String = "") -> RecordedExchange {
            RecordedExchange(
                sequence: seq, startOffset: Int64(seq) * 1_000_000_000, endOffset: Int64(seq) * 1_000_000_000 + 500_000_000, method: method,
                path: path, requestBody: Array(request.utf8), status: status, responseBody: Array(response.utf8))
        }

        /// A requestor, two providers: alpha runs a batch with a failing command and is paid
        /// 0.5 then 1.25 GLM; beta, never asked to choose a platform, terminates under its activity.
        static func session() -> Recording {
            let (alpha, beta, t) = (Self.alpha, Self.beta, Self.stamp)
            let exchanges: [RecordedExchange] = [
                x(1, "POST", "/payment-api/v1/allocations", 201, request: #"{"totalAmount":"5","paymentPlatform":"erc20-holesky-tglm"}"#,
                  response: #"{"allocationId":"al1","totalAmount":"5"}"#),
                x(2, "POST", "/market-api/v1/demands", 201, request: #"{"properties":{},"constraints":"()"}"#, response: #""d1""#),
                x(3, "GET", "/market-api/v1/demands/d1/events", response: #"""
                    [{"eventType":"ProposalEvent","eventDate":"\#(t)","proposal":{"proposalId":"p1","issuerId":"\#(alpha)","state":"Initial","timestamp":"\#(t)",
                      "properties":{"golem.node.id.name":"alpha <b>&co</b>","golem.com.pricing.model.linear.coeffs":[0.1,0.2,0.0]},"constraints":"()"}},
                     {"eventType":"ProposalEvent","eventDate":"\#(t)","proposal":{"proposalId":"p2","issuerId":"\#(beta)","state":"Initial","timestamp":"\#(t)",
                      "properties":{"golem.node.id.name":"beta"},"constraints":"()"}}]
                    """#),
                x(4, "POST", "/market-api/v1/demands/d1/proposals/p1", 201,
                  request: #"{"properties":{"golem.com.payment.chosen-platform":"erc20-holesky-tglm"},"constraints":"()"}"#, response: #""c1""#),
                x(5, "GET", "/market-api/v1/demands/d1/events", response: #"""
                    [{"eventType":"ProposalEvent","eventDate":"\#(t)","proposal":{"proposalId":"p3","issuerId":"\#(alpha)","state":"Draft","timestamp":"\#(t)",
                      "prevProposalId":"c1","properties":{"golem.node.id.name":"alpha <b>&co</b>"},"constraints":"()"}}]
                    """#),
                x(6, "POST", "/market-api/v1/agreements", 201, request: #"{"proposalId":"p3","validTo":"\#(t)"}"#, response: #""ag1""#),
                x(7, "POST", "/market-api/v1/agreements/ag1/confirm", 204),
                x(8, "POST", "/market-api/v1/agreements/ag1/wait", 204),
                x(9, "POST", "/activity-api/v1/activity", 201, request: #"{"agreementId":"ag1"}"#, response: #"{"activityId":"act1"}"#),
                x(10, "POST", "/activity-api/v1/activity/act1/exec", 200,
                  request: #"{"text":"[{\"deploy\":{}},{\"start\":{}},{\"run\":{\"entry_point\":\"/bin/sh\",\"args\":[\"-c\",\"date\"]}}]"}"#,
                  response: #""b1""#),
                x(11, "GET", "/activity-api/v1/activity/act1/exec/b1", response: #"""
                    [{"index":0,"eventDate":"\#(t)","result":"Ok","isBatchFinished":false},
                     {"index":1,"eventDate":"\#(t)","result":"Ok","isBatchFinished":false},
                     {"index":2,"eventDate":"\#(t)","result":"Error","stderr":"boom <x>","isBatchFinished":true}]
                    """#),
                x(12, "DELETE", "/activity-api/v1/activity/act1", 204),
                x(13, "POST", "/market-api/v1/agreements/ag1/terminate", 204, request: #"{"message":"done"}"#),
                x(14, "GET", "/payment-api/v1/debitNotes/dn1", response: #"{"debitNoteId":"dn1","agreementId":"ag1","totalAmountDue":"0.5"}"#),
                x(15, "POST", "/payment-api/v1/debitNotes/dn1/accept", 204, request: #"{"totalAmountAccepted":"0.5","allocationId":"al1"}"#),
                x(16, "GET", "/payment-api/v1/invoices/inv1", response: #"{"invoiceId":"inv1","agreementId":"ag1","amount":"1.25"}"#),
                x(17, "GET", "/payment-api/v1/invoices/inv1", response: #"{"invoiceId":"inv1","agreementId":"ag1","amount":"1.25"}"#),
                x(18, "POST", "/payment-api/v1/invoices/inv1/accept", 204, request: #"{"totalAmountAccepted":"1.25","allocationId":"al1"}"#),
                x(19, "POST", "/market-api/v1/demands/d1/proposals/p2", 201, request: #"{"properties":{},"constraints":"()"}"#, response: #""c2""#),
                x(20, "GET", "/market-api/v1/demands/d1/events", response: #"""
                    [{"eventType":"ProposalEvent","eventDate":"\#(t)","proposal":{"proposalId":"p4","issuerId":"\#(beta)","state":"Draft","timestamp":"\#(t)",
                      "prevProposalId":"c2","properties":{"golem.node.id.name":"beta"},"constraints":"()"}}]
                    """#),
                x(21, "POST", "/market-api/v1/agreements", 201, request: #"{"proposalId":"p4","validTo":"\#(t)"}"#, response: #""ag2""#),
                x(22, "POST", "/market-api/v1/agreements/ag2/confirm", 204),
                x(23, "POST", "/market-api/v1/agreements/ag2/wait", 204),
                x(24, "POST", "/activity-api/v1/activity", 201, request: #"{"agreementId":"ag2"}"#, response: #"{"activityId":"act2"}"#),
                x(25, "POST", "/activity-api/v1/activity/act2/exec", 200,
                  request: #"{"text":"[{\"run\":{\"entry_point\":\"/bin/echo\",\"args\":[\"hi\"]}}]"}"#, response: #""b2""#),
                x(26, "GET", "/activity-api/v1/activity/act2/exec/b2",
                  response: #"[{"index":0,"eventDate":"\#(t)","result":"Ok","stdout":"hi","isBatchFinished":true}]"#),
                x(27, "GET", "/market-api/v1/agreementEvents", response: #"""
                    [{"eventType":"AgreementTerminatedEvent","eventDate":"\#(t)","agreementId":"ag2","terminator":"Provider",
                      "reason":{"message":"bye \"now\" <soon>"}}]
                    """#),
                x(28, "GET", "/me", 500, response: #"{"message":"gsb <down>"}"#),
                x(29, "DELETE", "/payment-api/v1/allocations/al1", 200),
                x(30, "GET", "/not-yagna/x", 200, response: "whatever"),
            ]
            let info = SessionInfo(created: "2026-01-02T03:04:05Z", source: .simulated, scenario: #"<script>alert("x")</script>"#, seed: 42)
            let divergence = RecordedDivergence(exchangeSequence: 10, offset: 10_000_000_000, operation: "activity.exec", summary: "exec <differs> & more", report: "{}")
            // Handed over out of order: the recording orders them.
            return Recording(file: "hand-built.sqlite", info: info, exchanges: exchanges.reversed(), divergences: [divergence])
        }

        static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

        @Test func figuresPerProvider() throws {
            let report = SessionReport(Self.session())
            #expect(report.file == "hand-built.sqlite")
            #expect(report.exchanges == 30)
            #expect(report.duration == 30_500_000_000)
            #expect(report.divergences.count == 1)
            #expect(report.lanes.map(\.id) == [Self.alpha, Self.beta])
            #expect(report.lanes.map(\.name) == ["alpha <b>&co</b>", "beta"])
            try #require(report.lanes.count == 2)
            let alpha = report.lanes[0], beta = report.lanes[1]
            func count(_ lane: SessionReport.Lane, _ kind: TimelineEvent.Kind) -> Int { lane.events.filter { $0.kind == kind }.count }
            // Agreements, activities, batches.
            #expect(count(alpha, .agreementCreated) == 1 && count(beta, .agreementCreated) == 1)
            #expect(count(alpha, .activityCreated) == 1 && count(beta, .activityCreated) == 1)
            #expect(count(alpha, .activityDestroyed) == 1 && count(beta, .activityDestroyed) == 0)
            #expect(alpha.batches == 1 && beta.batches == 1)
            #expect(alpha.failedCommands == 1 && beta.failedCommands == 0)
            // Payments: the invoice fetched twice is one invoice; what was paid is the invoice, not the sum.
            #expect(count(alpha, .debitNote) == 1 && count(alpha, .debitNoteAccepted) == 1)
            #expect(count(alpha, .invoice) == 1 && count(alpha, .invoiceAccepted) == 1)
            #expect(count(beta, .invoice) == 0 && count(beta, .debitNote) == 0)
            #expect(alpha.accepted == Decimal(string: "1.25"))
            #expect(beta.accepted == 0)
            #expect(!alpha.terminatedByProvider)
            #expect(beta.terminatedByProvider)
        }

        @Test func eachProvidersTimelineIsInOrder() throws {
            let report = SessionReport(Self.session())
            try #require(report.lanes.count == 2)
            let alpha = report.lanes[0], beta = report.lanes[1]
            try #require(alpha.events.count == 17 && beta.events.count == 10 && report.requestor.count == 4)
            let alphaKinds: [TimelineEvent.Kind] = [
                .offer, .counter, .draft, .agreementCreated, .agreementConfirmed, .agreementApproved, .activityCreated, .batch,
                .commandResult, .commandResult, .commandResult, .activityDestroyed, .agreementTerminated, .debitNote, .debitNoteAccepted,
                .invoice, .invoiceAccepted,
            ]
            #expect(alpha.events.map(\.kind) == alphaKinds)
            let betaKinds: [TimelineEvent.Kind] = [
                .offer, .counter, .draft, .agreementCreated, .agreementConfirmed, .agreementApproved, .activityCreated, .batch, .commandResult,
                .agreementTerminated,
            ]
            #expect(beta.events.map(\.kind) == betaKinds)
            #expect(report.requestor.map(\.kind) == [.allocation, .demand, .error, .allocationReleased])
            #expect(alpha.events.map(\.offset) == alpha.events.map(\.offset).sorted())

            #expect(alpha.events[0].summary == "offer received (linear 0.1, 0.2, 0.0)")
            #expect(beta.events[0].summary == "offer received (no linear pricing)")
            #expect(alpha.events[1].summary == "counter-proposal sent")
            #expect(beta.events[1].summary == "counter-proposal sent (no payment platform chosen)")
            let alphaAgreement = try #require(alpha.events.first { $0.kind == .agreementCreated })
            #expect(alphaAgreement.summary == "agreement 1 created")
            #expect(alphaAgreement.details["billable"] == .bool(true))
            let betaAgreement = try #require(beta.events.first { $0.kind == .agreementCreated })
            #expect(betaAgreement.summary == "agreement 1 created (unbillable: no payment platform was chosen)")
            #expect(betaAgreement.details["billable"] == .bool(false))

            // The batch starts when exec was sent and ends with its last result; it failed because #2 did.
            let batch = try #require(alpha.events.first { $0.kind == .batch })
            #expect(batch.summary == "batch 1 on activity 1: deploy; start; run /bin/sh -c date")
            #expect(batch.offset == 10_000_000_000)
            #expect(batch.end == 11_500_000_000)
            #expect(batch.failure)
            let results = alpha.events.filter { $0.kind == .commandResult }
            #expect(Set(results.map(\.summary)) == [
                "batch 1 #0 deploy: ok", "batch 1 #1 start: ok", "batch 1 #2 run /bin/sh -c date: failed — boom <x>",
            ])
            #expect(results.filter(\.failure).map(\.summary) == ["batch 1 #2 run /bin/sh -c date: failed — boom <x>"])
            #expect(beta.events.first { $0.kind == .commandResult }?.summary == "batch 1 #0 run /bin/echo hi: ok — hi")

            let terminated = try #require(beta.events.last)
            #expect(terminated.summary == #"agreement 1 terminated by the provider: bye "now" <soon>"#)
            #expect(terminated.failure)
            #expect(terminated.details["terminator"] == "Provider")
            #expect(alpha.events.first { $0.kind == .agreementTerminated }?.summary == "agreement 1 terminated by the requestor: done")
            #expect(alpha.events.first { $0.kind == .debitNote }?.summary == "debit note for 0.5 GLM on agreement 1")
            #expect(alpha.events.first { $0.kind == .invoice }?.summary == "invoice for 1.25 GLM on agreement 1")
            #expect(alpha.events.last?.summary == "invoice accepted: 1.25 GLM")
            #expect(report.requestor[0].summary == "allocation of 5 GLM")
            #expect(report.requestor[2].summary == "identity.me answered 500: gsb <down>")
            #expect(report.requestor[2].failure)
        }

        @Test func cumulativeDebitNotesCountOnceAndARejectedInvoiceNotAtAll() throws {
            let (gamma, t) = (Self.gamma, Self.stamp)
            let exchanges: [RecordedExchange] = [
                Self.x(1, "GET", "/market-api/v1/demands/d1/events", response: #"""
                    [{"eventType":"ProposalEvent","eventDate":"\#(t)","proposal":{"proposalId":"p1","issuerId":"\#(gamma)","state":"Initial","timestamp":"\#(t)"}}]
                    """#),
                Self.x(2, "POST", "/market-api/v1/agreements", 201, request: #"{"proposalId":"p1"}"#, response: #""ag1""#),
                Self.x(3, "GET", "/payment-api/v1/debitNotes/dn1", response: #"{"agreementId":"ag1","totalAmountDue":"0.2"}"#),
                Self.x(4, "POST", "/payment-api/v1/debitNotes/dn1/accept", 204, request: #"{"totalAmountAccepted":"0.2"}"#),
                Self.x(5, "GET", "/payment-api/v1/debitNotes/dn2", response: #"{"agreementId":"ag1","totalAmountDue":"0.7"}"#),
                Self.x(6, "POST", "/payment-api/v1/debitNotes/dn2/accept", 204, request: #"{"totalAmountAccepted":"0.7"}"#),
                Self.x(7, "GET", "/payment-api/v1/invoices/inv1", response: #"{"agreementId":"ag1","amount":"0.9"}"#),
                Self.x(8, "POST", "/payment-api/v1/invoices/inv1/reject", 200, request: #"{"rejectionReason":"UnsolicitedService","totalAmountAccepted":"0"}"#),
            ]
            var info = SessionInfo(created: "2026-01-01T00:00:00Z", source: .live, upstream: "http://127.0.0.1:7465")
            info.ended = "2026-01-01T00:01:00Z"
            let report = SessionReport(Recording(file: "gamma.sqlite", info: info, exchanges: exchanges))
            let lane = try #require(report.lanes.first)
            #expect(report.lanes.count == 1)
            // Without a node name the lane is named by the id's first ten characters.
            #expect(lane.name == String(gamma.prefix(10)))
            #expect(lane.accepted == Decimal(string: "0.7"))
            #expect(lane.batches == 0 && lane.failedCommands == 0 && !lane.terminatedByProvider)
            let rejected = try #require(lane.events.last)
            #expect(rejected.kind == .invoiceRejected)
            #expect(rejected.summary == "invoice rejected: UnsolicitedService")
            #expect(rejected.failure)
            #expect(report.requestor.isEmpty)

            let text = report.text
            #expect(text.contains("  totals: 0 batch(es), 0 failed command(s), 0.7 GLM accepted\n"))
            #expect(text.contains("total accepted: 0.7 GLM over 1 provider(s)\n"))
            #expect(text.contains("  source: live, upstream http://127.0.0.1:7465\n"))
            #expect(!text.contains("did not end cleanly"))
            #expect(!text.contains("divergences found"))
            #expect(report.json["session"]?["endedCleanly"] == .bool(true))
            #expect(Self.count(#"class="payment failed""#, in: report.html) == 1)
            #expect(!report.html.contains("did not end cleanly"))
        }

        @Test func theTextTimelineHasTotalsFailuresAndDivergences() throws {
            let text = SessionReport(Self.session()).text
            #expect(text.hasPrefix("session hand-built.sqlite\n"))
            #expect(text.contains(#"  source: simulated, scenario '<script>alert("x")</script>', seed 42"# + "\n"))
            #expect(text.contains("  created 2026-01-02T03:04:05Z, 30 exchanges over 30.500 s (the recorder did not end cleanly)\n"))
            #expect(text.contains("\nrequestor\n"))
            #expect(text.contains("  " + "   28.500 s" + "  ✗ identity.me answered 500: gsb <down>\n"))
            #expect(text.contains("\nprovider alpha <b>&co</b> (\(Self.alpha))\n"))
            #expect(text.contains("\nprovider beta (\(Self.beta))\n"))
            // Command results are indented under their batch.
            #expect(text.contains("      " + "   11.500 s" + "  ✗ batch 1 #2 run /bin/sh -c date: failed — boom <x>\n"))
            #expect(text.contains("  " + "   10.000 s" + "  ✗ batch 1 on activity 1: deploy; start; run /bin/sh -c date\n"))
            #expect(text.contains("  totals: 1 batch(es), 1 failed command(s), 1.25 GLM accepted\n"))
            #expect(text.contains("  totals: 1 batch(es), 0 failed command(s), 0 GLM accepted, terminated by the provider\n"))
            #expect(text.contains("\ntotal accepted: 1.25 GLM over 2 provider(s)\n"))
            #expect(text.hasSuffix("\ndivergences found when this session was replayed\n" + "  " + "   10.000 s" + "  exec <differs> & more\n"))
        }

        @Test func theJSONReportCarriesTheSameFigures() throws {
            let json = SessionReport(Self.session()).json
            let session = try #require(json["session"])
            #expect(session["file"] == "hand-built.sqlite")
            #expect(session["source"] == "simulated")
            #expect(session["exchanges"] == .int(30))
            #expect(session["durationSeconds"] == .double(30.5))
            #expect(session["endedCleanly"] == .bool(false))
            #expect(session["seed"] == "42")
            #expect(session["formatVersion"] == .int(RecordingFormat.version))
            #expect(session["daemonVersion"] == nil)
            #expect(json["requestor"]?.arrayValue?.count == 4)
            let providers = try #require(json["providers"]?.arrayValue)
            #expect(providers.count == 2)
            #expect(providers[0]["name"] == "alpha <b>&co</b>")
            #expect(providers[0]["events"]?.arrayValue?.count == 17)
            #expect(providers[0]["totals"]?["accepted"] == "1.25")
            #expect(providers[0]["totals"]?["batches"] == .int(1))
            #expect(providers[0]["totals"]?["failedCommands"] == .int(1))
            #expect(providers[1]["totals"]?["accepted"] == "0")
            #expect(providers[1]["totals"]?["terminatedByProvider"] == .bool(true))
            let offer = try #require(providers[1]["events"]?.arrayValue?.first)
            #expect(offer["kind"] == "offer")
            #expect(offer["offsetSeconds"] == .double(3.5))
            #expect(offer["exchange"] == .int(3))
            let divergences: [JSONValue] = [["offsetSeconds": .double(10.0), "summary": "exec <differs> & more"]]
            #expect(json["divergences"]?.arrayValue == divergences)
        }

        @Test func theHTMLReportEscapesMarkupFromTheSession() throws {
            let html = SessionReport(Self.session()).html
            #expect(html.hasPrefix("<!DOCTYPE html>"))
            // Names, messages, the scenario and divergences arrive escaped.
            #expect(html.contains("<title>golem-sim session: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</title>"))
            #expect(html.contains("<h1>golem-sim session: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</h1>"))
            #expect(html.contains(">alpha &lt;b&gt;&amp;co&lt;/b&gt;</text>"))
            #expect(html.contains("<h2>alpha &lt;b&gt;&amp;co&lt;/b&gt; <small>\(Self.alpha)</small></h2>"))
            #expect(html.contains("failed — boom &lt;x&gt;</td>"))
            #expect(html.contains("bye &quot;now&quot; &lt;soon&gt;"))
            #expect(html.contains("gsb &lt;down&gt;"))
            #expect(html.contains("<li>exec &lt;differs&gt; &amp; more</li>"))
            for raw in ["<script", "<b>", "</b>", "<x>", "<soon>", "<down>", "<differs>", #""now""#] {
                #expect(!html.contains(raw), "\(raw) left unescaped")
            }
            #expect(html.contains("simulated session · 30 exchanges · 30.500 s · created 2026-01-02T03:04:05Z · seed 42 · the recorder did not end cleanly"))
        }

        @Test func theHTMLTimelineDrawsOneLanePerProviderWithItsSpansAndMarks() throws {
            let html = SessionReport(Self.session()).html
            #expect(Self.count(#"<g class="lane""#, in: html) == 3)
            #expect(html.contains(#"data-lane="requestor""#))
            #expect(html.contains(#"data-lane="\#(Self.alpha)""#))
            #expect(html.contains(">\(Self.beta.prefix(18))…</text>"))
            #expect(Self.count(#"<section class="provider">"#, in: html) == 2)
            // alpha's agreement and activity closed; beta's agreement ended by a failure, its activity never destroyed.
            #expect(Self.count(#"class="agreement""#, in: html) == 1)
            #expect(Self.count(#"class="agreement failed""#, in: html) == 1)
            #expect(Self.count(#"class="activity""#, in: html) == 1)
            #expect(Self.count(#"class="activity open""#, in: html) == 1)
            #expect(Self.count(#"class="batch failed""#, in: html) == 1)
            #expect(Self.count(#"class="batch""#, in: html) == 1)
            // Debit note and its acceptance, invoice and its acceptance.
            #expect(Self.count(#"class="payment""#, in: html) == 2)
            #expect(Self.count(#"class="invoice""#, in: html) == 2)
            // The failed command, beta's termination and the requestor's 500.
            #expect(Self.count(#"class="fault""#, in: html) == 3)
            // Allocation, demand, release; each provider's offer, counter, draft and approval.
            #expect(Self.count(#"class="tick-mark""#, in: html) == 11)
            #expect(Self.count(#"<tr class="failed">"#, in: html) == 3)
            #expect(Self.count("<li>", in: html) == 1)
        }

        @Test func anEmptySessionStillReports() throws {
            let report = SessionReport(Recording(file: "empty.sqlite", info: SessionInfo(created: "c", source: .imported), exchanges: []))
            #expect(report.lanes.isEmpty && report.requestor.isEmpty && report.exchanges == 0 && report.duration == 0)
            #expect(report.text.contains("c, 0 exchanges over 0.000 s (the recorder did not end cleanly)\n"))
            #expect(report.text.contains("total accepted: 0 GLM over 0 provider(s)\n"))
            let html = report.html
            #expect(Self.count(#"<g class="lane""#, in: html) == 1)
            #expect(html.contains("<title>golem-sim session: empty.sqlite</title>"))
            #expect(!html.contains("Replay divergences"))
            #expect(report.json["providers"]?.arrayValue?.isEmpty == true)
        }
    }

    // MARK: - RecordingVerifier

    @Suite struct VerifierCases {
        static func x(_ seq: Int, _ method: String, _ path: String, _ status: Int, _ body: String = "") -> RecordedExchange {
            RecordedExchange(sequence: seq, startOffset: Int64(seq), endOffset: Int64(seq), method: method, path: path, status: status, responseBody: Array(body.utf8))
        }

        @Test func unknownEndpointsAreGroupedByShape() throws {
            let recording = Recording(file: "v", info: SessionInfo(created: "c", source: .live), exchanges: [
                Self.x(1, "GET", "/market-api/v1/scan/0123456789abcdef0123", 200),
                Self.x(2, "GET", "/market-api/v1/scan/fedcba9876543210-fedc", 200),
                Self.x(3, "GET", "/market-api/v1/scan/abc", 200),
                Self.x(4, "PATCH", "/me", 200),
            ])
            let verifier = RecordingVerifier(recording)
            #expect(verifier.checked == 4)
            #expect(verifier.drift.map(\.operation) == ["GET /market-api/v1/scan/{id}", "GET /market-api/v1/scan/abc", "PATCH /me"])
            #expect(verifier.drift.allSatisfy { $0.kind == .unknownEndpoint })
            #expect(verifier.drift.first?.exchanges == [1, 2])
        }

        @Test func expectedFailuresAndUnansweredRequestsAreNotDrift() throws {
            let recording = Recording(file: "v", info: SessionInfo(created: "c", source: .live), exchanges: [
                Self.x(1, "GET", "/market-api/v1/agreements/ag1", 404, #"{"message":"not found"}"#),
                Self.x(2, "GET", "/me", -1),
                Self.x(3, "POST", "/market-api/v1/demands", 201, ""),
                Self.x(4, "POST", "/market-api/v1/demands", 201, #""d1""#),
            ])
            let verifier = RecordingVerifier(recording)
            #expect(verifier.checked == 4)
            #expect(verifier.drift.isEmpty, "\(verifier.drift)")
        }

        @Test func answersTheClientCannotReadOrWithNewFieldsAreDrift() throws {
            let recording = Recording(file: "v", info: SessionInfo(created: "c", source: .live), exchanges: [
                Self.x(1, "POST", "/market-api/v1/demands", 201, #"{"demandId":"d1"}"#),
                Self.x(2, "GET", "/me", 200, #"{"identity":"0x01","name":"requestor","role":"manager","isLocked":false,"gone":null}"#),
                Self.x(3, "GET", "/me", 418),
            ])
            let drift = RecordingVerifier(recording).drift
            #expect(drift.count == 3)
            #expect(drift.contains { $0.kind == .unreadableAnswer && $0.operation == "market.subscribeDemand" && $0.detail == "expected a bare JSON string id" && $0.exchanges == [1] })
            // A new field is drift; an explicit null is not.
            #expect(drift.contains { $0.kind == .newField && $0.operation == "identity.me" && $0.detail == "isLocked" && $0.exchanges == [2] })
            #expect(drift.contains { $0.kind == .unexpectedStatus && $0.detail == "status 418 (expected one of 200, 401, 500, 504)" && $0.exchanges == [3] })
        }
    }
}
