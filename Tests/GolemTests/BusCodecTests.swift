import Foundation
@testable import GolemBus
import GolemTime
import Testing
import YagnaAPI

/// The service-bus codecs `golem-sim provide` speaks to a real yagna: FlexBuffers (against
/// bytes Python's `flatbuffers` package wrote and bytes yagna itself sent), zlib and the
/// router's length-prefixed packets.
@Suite struct BusCodecTests {
    struct Case {
        var name: String
        var bytes: [UInt8]
        var value: JSONValue
    }

    static func fixture(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures/bus/\(name)", withExtension: nil), "fixture \(name) missing")
    }

    static func hex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(text.utf8)[...]
        while chars.count >= 2 {
            out.append(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16) ?? 0)
            chars = chars.dropFirst(2)
        }
        return out
    }

    static func pythonCases() throws -> [Case] {
        let json = try JSONParser.parse(Array(try Data(contentsOf: try fixture("python-flexbuffers.json"))))
        return (json["cases"]?.arrayValue ?? []).map { c in
            Case(name: c["name"]?.stringValue ?? "?", bytes: hex(c["hex"]?.stringValue ?? ""), value: c["value"] ?? .null)
        }
    }

    /// Equality by meaning: numbers by value (1.0 and 1 written either way), objects by keys.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x.doubleValue == y.doubleValue
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)): return x.keys.sorted() == y.keys.sorted() && x.allSatisfy { k, v in same(v, y[k]!) }
        default: return a == b
        }
    }

    @Test func readsWhatPythonWrote() throws {
        let cases = try Self.pythonCases()
        #expect(cases.count >= 20)
        for c in cases {
            let decoded = try FlexBuffers.decode(c.bytes)
            #expect(Self.same(decoded, c.value), "\(c.name): read \(JSONWriter.string(decoded)), Python wrote \(JSONWriter.string(c.value))")
        }
    }

    @Test func integersKeepTheirSignAndWidth() throws {
        let cases = try Self.pythonCases()
        let integers = try #require(cases.first { $0.name == "integers" })
        let decoded = try FlexBuffers.decode(integers.bytes).arrayValue ?? []
        #expect(decoded.map { $0.intValue } == [0, 1, -1, 127, 128, -129, 255, 256, 65535, 65536, -70000, 1 << 31, -(1 << 31) - 1, 1 << 62, Int.min])
    }

    @Test func whatItWritesReadsBack() throws {
        for c in try Self.pythonCases() {
            let bytes = FlexBuffers.encode(c.value)
            let back = try FlexBuffers.decode(bytes)
            #expect(Self.same(back, c.value), "\(c.name): \(JSONWriter.string(back))")
        }
    }

    /// The bytes this codec writes are the committed golden bytes; CI has Python's `flatbuffers`
    /// read the golden file back (Tests/RealYagna/flex_check.py), so Python reads what we write.
    @Test func writesTheGoldenBytes() throws {
        let cases = try Self.pythonCases()
        if ProcessInfo.processInfo.environment["GOLEM_SIM_WRITE_FIXTURES"] != nil {
            // Regenerates the golden file in the source tree (then run Tests/RealYagna/flex_check.py).
            let rows: [JSONValue] = cases.map { c in
                ["name": .string(c.name), "hex": .string(FlexBuffers.encode(c.value).map { String(format: "%02x", $0) }.joined()), "value": c.value]
            }
            let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/bus/golem-sim-flexbuffers.json")
            try Data(JSONWriter.bytes(["producer": "golem-sim FlexBuffers.encode", "cases": .array(rows)], pretty: true)).write(to: file)
        }
        let url = try Self.fixture("golem-sim-flexbuffers.json")
        let golden = try JSONParser.parse(Array(try Data(contentsOf: url)))["cases"]?.arrayValue ?? []
        #expect(golden.count == cases.count)
        for (c, g) in zip(cases, golden) {
            let ours = FlexBuffers.encode(c.value).map { String(format: "%02x", $0) }.joined()
            #expect(g["name"]?.stringValue == c.name)
            #expect(g["hex"]?.stringValue == ours, "\(c.name): the encoding changed; if on purpose, regenerate the golden file and re-run flex_check.py")
        }
    }

    @Test func readsWhatYagnaSent() throws {
        // An Exec and a results poll as yagna 0.17.6 sent them to `provide`'s exe-unit
        // (`golem-sim provide --dump-bus`): zlib-compressed FlexBuffers.
        let exec = Array(try Data(contentsOf: try Self.fixture("yagna-0.17.6-Exec.bin")))
        #expect(Zlib.looksCompressed(exec))
        let message = try BusBody.decode(exec)
        #expect(message["activityId"]?.stringValue?.count == 32)
        #expect(message["batchId"]?.stringValue?.isEmpty == false)
        let script = try #require(message["exeScript"]?.arrayValue)
        let commands = try WireDecoder().decode([ExeScriptCommand].self, from: .array(script))
        #expect(commands.count >= 2)
        if case .deploy = commands[0] {} else { Issue.record("the first command is not deploy: \(commands[0])") }
        let poll = try BusBody.decode(Array(try Data(contentsOf: try Self.fixture("yagna-0.17.6-GetExecBatchResults.bin"))))
        #expect(poll["batchId"]?.stringValue == message["batchId"]?.stringValue)
        #expect(poll["timeout"]?.doubleValue != nil)
    }

    @Test func damagedBuffersAreErrorsNotCrashes() throws {
        var random = SeededRandom(seed: 42)
        var refused = 0
        for c in try Self.pythonCases() {
            for n in 0..<c.bytes.count {
                do { _ = try FlexBuffers.decode(Array(c.bytes.prefix(n))) } catch { refused += 1 }
            }
            for _ in 0..<200 {
                var bytes = c.bytes
                let i = Int(random.next() % UInt64(bytes.count))
                bytes[i] = UInt8(truncatingIfNeeded: random.next())
                do { _ = try FlexBuffers.decode(bytes) } catch { refused += 1 }
            }
        }
        #expect(refused > 0)
        #expect(throws: FlexBuffers.DecodingError.self) { try FlexBuffers.decode([1, 2]) }
        #expect(throws: FlexBuffers.DecodingError.self) { try FlexBuffers.decode([0, 0x24, 3]) }
    }

    @Test func zlibRoundTripsAndRefusesGarbage() throws {
        let text = Array(String(repeating: "golem ", count: 5000).utf8)
        let packed = Zlib.deflate(text)
        #expect(packed.count < text.count / 10)
        #expect(Zlib.looksCompressed(packed))
        #expect(Zlib.inflate(packed) == text)
        #expect(Zlib.inflate(Array(packed.prefix(packed.count / 2))) == nil)
        #expect(Zlib.inflate([0x78, 0x9C, 1, 2, 3]) == nil)
        #expect(Zlib.inflate(packed, limit: 100) == nil)
        // A compressed body and a plain one read the same.
        let body = BusBody.ok(["index": 0, "stdout": "hi\n"])
        #expect(try BusBody.decode(Zlib.deflate(body)) == BusBody.decode(body))
    }

    static func callPacket(_ address: String, _ id: String, _ data: [UInt8]) throws -> [UInt8] {
        var r = Gsb_CallRequest()
        r.address = address
        r.requestID = id
        r.data = Data(data)
        var packet = Gsb_Packet()
        packet.callRequest = r
        return try BusFrame.encode(packet)
    }

    static func calls(_ buffer: inout [UInt8]) throws -> [(requestId: String, data: [UInt8])] {
        try BusFrame.split(&buffer).compactMap { packet in
            if case .callRequest(let r) = packet.kind { (r.requestID, Array(r.data)) } else { nil }
        }
    }

    @Test func routerPacketsSplitAtAnyByte() throws {
        let first = try Self.callPacket("/public/exeunit/a/Exec", "1", [1, 2, 3])
        let second = try Self.callPacket("/local/activity/SetActivityState", "2", Array(repeating: 7, count: 300))
        let stream = first + second
        for cut in 0...stream.count {
            var buffer = Array(stream.prefix(cut))
            var calls = try Self.calls(&buffer)
            buffer += stream.dropFirst(cut)
            calls += try Self.calls(&buffer)
            #expect(calls.map(\.requestId) == ["1", "2"], "cut at \(cut)")
            #expect(calls.last?.data.count == 300)
            #expect(buffer.isEmpty)
        }
        var huge: [UInt8] = [0x7F, 0xFF, 0xFF, 0xFF, 0]
        #expect(throws: BusError.self) { _ = try Self.calls(&huge) }
    }
}
