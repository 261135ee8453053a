import Foundation
@testable import GolemRecording
import Testing
import YagnaAPI
@testable import YagnaSimulator

/// The replay machinery on in-memory exchanges: normalization, the analyzer's operations and timeline, replay plans, the referee's verdicts, field diffs and session diffs.
@Suite struct ReplayUnitTests {
    // MARK: - A recorded session, built by hand

    static let provider = "0xprov1"
    static let bee = "0x" + String(repeating: "b", count: 40)

    static func ms(_ v: Int64) -> Int64 { v * 1_000_000 }

    /// One exchange; times in milliseconds since the session started.
    static func ex(
        _ seq: Int, _ start: Int64, _ end: Int64, _ method: String, _ path: String, body: String = "", status: Int = 200, response: String = "",
        frames: [ServerSentEvent] = []
    ) -> ProtocolExchange {
        ProtocolExchange(
            sequence: seq, start: ms(start), end: ms(end), method: method, path: path, requestBody: Array(body.utf8), status: status,
            responseBody: Array(response.utf8), frames: frames)
    }

    static func json(_ text: String) -> JSONValue { (try? JSONParser.parse(text)) ?? .null }

    static let offer = #"[{"eventType":"ProposalEvent","eventDate":"2026-01-01T00:00:00.5Z","proposal":{"proposalId":"prop-offer-1","issuerId":"0xprov1","state":"Initial","timestamp":"2026-01-01T00:00:00.5Z","constraints":"()","properties":{"golem.node.id.name":"alpha","golem.com.usage.vector":["golem.usage.cpu_sec","golem.usage.duration_sec"],"golem.com.pricing.model.linear.coeffs":[0.1,0.02,0.5],"golem.srv.caps.multi-activity":true,"golem.com.scheme.payu.debit-note.interval-sec?":120.0}}}]"#
    static let draft = #"[{"eventType":"ProposalEvent","eventDate":"2026-01-01T00:00:00.8Z","proposal":{"proposalId":"prop-draft-1","issuerId":"0xprov1","prevProposalId":"prop-counter-1","state":"Draft","timestamp":"2026-01-01T00:00:00.8Z","constraints":"()","properties":{"golem.node.id.name":"alpha"}}}]"#
    static let execScript = #"{"text":"[{\"deploy\":{}},{\"start\":{}},{\"run\":{\"entry_point\":\"/bin/sh\",\"args\":[\"-c\",\"date\"],\"capture\":{\"stdout\":{\"atEnd\":{}}}}}]"}"#
    static let r0 = #"{"index":0,"eventDate":"2026-01-01T00:00:02Z","result":"Ok","isBatchFinished":false}"#
    static let r1 = #"{"index":1,"eventDate":"2026-01-01T00:00:02Z","result":"Ok","isBatchFinished":false}"#
    static let r2 = #"{"index":2,"eventDate":"2026-01-01T00:00:02Z","result":"Ok","stdout":"Thu Jan  1 00:00:00 UTC 1970\n","isBatchFinished":true}"#

    /// A hello-world session with one provider: allocation, demand, negotiation, agreement,
    /// activity, one batch polled three times, a debit note, termination, invoice, release.
    static func session() -> [ProtocolExchange] {
        [
            ex(1, 0, 10, "POST", "/payment-api/v1/allocations",
               body: #"{"totalAmount":"1.50","paymentPlatform":"erc20-holesky-tglm","address":"0xa1a1","timeout":"2026-01-01T00:30:00Z","makeDeposit":false}"#,
               status: 201, response: #"{"allocationId":"alloc-1","totalAmount":"1.50","spentAmount":"0","remainingAmount":"1.50","paymentPlatform":"erc20-holesky-tglm","timestamp":"2026-01-01T00:00:00Z"}"#),
            ex(2, 20, 30, "POST", "/market-api/v1/demands",
               body: #"{"properties":{"golem":{"node":{"debug":{"subnet":"public"}}},"golem.srv.comp.task_package":"hash:sha3:abc123:http://10.0.0.7:8000/image.gvmi","golem.srv.comp.expiration":1767225600000,"golem.runtime.name":"vm"},"constraints":"(&(golem.inf.mem.gib>=0.5))"}"#,
               status: 201, response: "\"sub-1\""),
            ex(3, 30, 530, "GET", "/market-api/v1/demands/sub-1/events", response: offer),
            ex(4, 540, 550, "POST", "/market-api/v1/demands/sub-1/proposals/prop-offer-1",
               body: #"{"properties":{"golem.com.payment.chosen-platform":"erc20-holesky-tglm","golem.srv.comp.expiration":1767225600000},"constraints":"()"}"#,
               status: 201, response: "\"prop-counter-1\""),
            ex(5, 550, 800, "GET", "/market-api/v1/demands/sub-1/events", response: draft),
            ex(6, 810, 820, "POST", "/market-api/v1/agreements", body: #"{"proposalId":"prop-draft-1","validTo":"2026-01-01T01:00:00Z"}"#, status: 201, response: "\"agr-1\""),
            ex(7, 830, 840, "POST", "/market-api/v1/agreements/agr-1/confirm", status: 204),
            ex(8, 840, 1000, "POST", "/market-api/v1/agreements/agr-1/wait", status: 204),
            ex(9, 1010, 1020, "POST", "/activity-api/v1/activity", body: #"{"agreementId":"agr-1"}"#, status: 201, response: #"{"activityId":"act-1"}"#),
            ex(10, 1030, 1040, "POST", "/activity-api/v1/activity/act-1/exec", body: execScript, response: "\"batch-1\""),
            ex(11, 1040, 2030, "GET", "/activity-api/v1/activity/act-1/exec/batch-1", response: "[\(r0)]"),
            ex(12, 2030, 2040, "GET", "/activity-api/v1/activity/act-1/exec/batch-1", response: "[\(r0),\(r1)]"),
            ex(13, 2040, 2540, "GET", "/activity-api/v1/activity/act-1/exec/batch-1", response: "[\(r0),\(r1),\(r2)]"),
            ex(14, 2550, 2560, "GET", "/payment-api/v1/debitNotes/dn-1", response: #"{"debitNoteId":"dn-1","agreementId":"agr-1","totalAmountDue":"0.001"}"#),
            ex(15, 2560, 2570, "POST", "/payment-api/v1/debitNotes/dn-1/accept", body: #"{"totalAmountAccepted":"0.001","allocationId":"alloc-1"}"#),
            ex(16, 2600, 2610, "POST", "/market-api/v1/agreements/agr-1/terminate", body: #"{"message":"done","extra":{"golem.requestor.code":"Success"}}"#, status: 204),
            ex(17, 3000, 3010, "GET", "/payment-api/v1/invoices/inv-1", response: #"{"invoiceId":"inv-1","agreementId":"agr-1","amount":"0.0105"}"#),
            ex(18, 3020, 3030, "POST", "/payment-api/v1/invoices/inv-1/accept", body: #"{"totalAmountAccepted":"0.0105","allocationId":"alloc-1"}"#),
            ex(19, 3100, 3110, "DELETE", "/payment-api/v1/allocations/alloc-1", status: 204),
        ]
    }

    /// A session whose provider (no name) fails: an activity creation answered 500, a run that
    /// fails in streamed results, a provider-side termination, and never an invoice.
    static func rough() -> [ProtocolExchange] {
        [
            ex(1, 0, 10, "POST", "/market-api/v1/demands", body: #"{"properties":{},"constraints":""}"#, status: 201, response: "\"sub-2\""),
            ex(2, 10, 110, "GET", "/market-api/v1/demands/sub-2/events",
               response: #"[{"eventType":"ProposalEvent","proposal":{"proposalId":"prop-b1","issuerId":"\#(bee)","state":"Initial","properties":{}}}]"#),
            ex(3, 120, 130, "POST", "/market-api/v1/demands/sub-2/proposals/prop-b1", body: #"{"properties":{},"constraints":""}"#, status: 201, response: "\"prop-b2\""),
            ex(4, 130, 330, "GET", "/market-api/v1/demands/sub-2/events",
               response: #"[{"eventType":"ProposalEvent","proposal":{"proposalId":"prop-b3","issuerId":"\#(bee)","prevProposalId":"prop-b2","state":"Draft","properties":{}}}]"#),
            ex(5, 340, 350, "POST", "/market-api/v1/agreements", body: #"{"proposalId":"prop-b3"}"#, status: 201, response: "\"agr-b\""),
            ex(6, 360, 370, "POST", "/market-api/v1/agreements/agr-b/confirm", status: 204),
            ex(7, 370, 1370, "POST", "/market-api/v1/agreements/agr-b/wait", status: 204),
            ex(8, 1380, 1390, "POST", "/activity-api/v1/activity", body: #"{"agreementId":"agr-b"}"#, status: 500, response: #"{"message":"GSB error: timeout"}"#),
            ex(9, 1400, 1410, "POST", "/activity-api/v1/activity", body: #"{"agreementId":"agr-b"}"#, status: 201, response: "\"act-b\""),
            ex(10, 1420, 1430, "POST", "/activity-api/v1/activity/act-b/exec", body: #"[{"run":{"entry_point":"/bin/false","args":[]}}]"#, response: "\"batch-b\""),
            ex(11, 1430, 1930, "GET", "/activity-api/v1/activity/act-b/exec/batch-b", frames: [
                ServerSentEvent(event: "runtime", data: #"{"batchId":"batch-b","index":0,"kind":{"started":{"command":{}}}}"#),
                ServerSentEvent(event: "runtime", data: "not json"),
                ServerSentEvent(event: "runtime", data: #"{"batchId":"batch-b","index":0,"kind":{"finished":{"return_code":1,"message":"boom"}}}"#),
            ]),
            ex(12, 1940, 3370, "GET", "/market-api/v1/agreementEvents",
               response: #"[{"eventType":"AgreementTerminatedEvent","agreementId":"agr-b","terminator":"Provider","reason":{"message":"out of budget"}}]"#),
        ]
    }

    static func plan() -> ReplayPlan { ReplayPlan(name: "recorded", exchanges: session()) }

    /// What a second client doing the same work changes: every id, the registry address, the
    /// expiration, timestamps and how an amount is spelled.
    static let liveNames: [(String, String)] = [
        ("alloc-1", "alloc-Z9"), ("sub-1", "sub-Q"), ("prop-offer-1", "prop-offer-777"), ("prop-counter-1", "prop-counter-777"),
        ("prop-draft-1", "prop-draft-777"), ("agr-1", "agr-abc"), ("act-1", "act-def"), ("batch-1", "batch-ghi"), ("dn-1", "dn-jkl"),
        ("inv-1", "inv-mno"), ("10.0.0.7:8000", "192.168.1.2:9999"), ("1767225600000", "1767229999999"), ("\"1.50\"", "\"1.5000\""),
        ("2026-01-01T", "2031-07-04T"),
    ]

    static func renamed(_ exchanges: [ProtocolExchange], _ names: [(String, String)], shift: Int64 = 0) -> [ProtocolExchange] {
        func r(_ s: String) -> String { names.reduce(s) { $0.replacingOccurrences(of: $1.0, with: $1.1) } }
        func rb(_ b: [UInt8]) -> [UInt8] { Array(r(String(decoding: b, as: UTF8.self)).utf8) }
        return exchanges.map { e in
            ProtocolExchange(
                sequence: e.sequence, start: e.start + shift, end: e.end + shift, method: e.method, path: r(e.path), query: e.query,
                requestBody: rb(e.requestBody), status: e.status, responseBody: rb(e.responseBody), frames: e.frames)
        }
    }

    static func request(_ e: ProtocolExchange) -> NodeRequest {
        NodeRequest(method: HTTPMethod(rawValue: e.method) ?? .GET, path: e.path, body: e.requestBody)
    }

    static func journal(_ e: ProtocolExchange) -> JournalEntry {
        JournalEntry(
            sequence: e.sequence, startOffset: e.start, endOffset: e.end, method: e.method, target: e.query.isEmpty ? e.path : e.path + "?" + e.query,
            requestBody: e.requestBody, status: e.status, responseBody: e.responseBody, frames: e.frames.map { (offset: e.end, event: $0) })
    }

    /// Plays a live session through the referee (judge, then observe); the sequences it refused.
    static func follow(_ referee: inout ReplayReferee, _ exchanges: [ProtocolExchange]) -> [Int] {
        var refused: [Int] = []
        for e in exchanges {
            if referee.check(request(e), sequence: e.sequence, offset: e.start) != nil { refused.append(e.sequence) }
            referee.observe(journal(e))
        }
        return refused
    }

    static func execText(_ args: [String]) -> String {
        let run: JSONValue = ["entry_point": "/bin/sh", "args": .array(args.map { JSONValue.string($0) })]
        let script: JSONValue = .array([["deploy": [:]], ["start": [:]], ["run": run]])
        let body: JSONValue = ["text": .string(JSONWriter.string(script))]
        return JSONWriter.string(body)
    }

    static func execRequest(_ activity: String, _ args: [String]) -> NodeRequest {
        NodeRequest(method: .POST, path: "/activity-api/v1/activity/\(activity)/exec", body: Array(execText(args).utf8))
    }

    static func allocationRequest(_ amount: String) -> NodeRequest {
        NodeRequest(
            method: .POST, path: "/payment-api/v1/allocations",
            body: Array(#"{"totalAmount":"\#(amount)","paymentPlatform":"erc20-holesky-tglm","timeout":"2031-01-01T00:00:00Z"}"#.utf8))
    }

    // MARK: - Normalize

    @Test func anAllocationKeepsItsBudgetAndPlatformOnly() throws {
        let body = Self.json(#"{"totalAmount":"10.000","paymentPlatform":"erc20-polygon-glm","address":"0xabc","timeout":"2026-01-01T00:30:00Z","makeDeposit":false,"allocationId":"a-1","timestamp":"2026-01-01T00:00:00Z"}"#)
        #expect(Normalize.allocation(body) == Self.json(#"{"totalAmount":"10","paymentPlatform":"erc20-polygon-glm"}"#))
        // A numeric amount reads like the string one; a null platform is left out.
        #expect(Normalize.allocation(Self.json(#"{"totalAmount":2.50,"paymentPlatform":null}"#)) == Self.json(#"{"totalAmount":"2.5"}"#))
        #expect(Normalize.allocation(nil) == Self.json("{}"))
        #expect(Normalize.allocation(Self.json("[1,2]")) == Self.json("{}"))
    }

    @Test func amountsCompareByValueNotBySpelling() throws {
        #expect(Normalize.amount("1.50") == "1.5")
        #expect(Normalize.amount(.number(JSONNumber(literal: "1.5000"))) == "1.5")
        #expect(Normalize.amount(.number(JSONNumber(literal: "1e3"))) == "1000")
        #expect(Normalize.amount(.int(7)) == "7")
        #expect(Normalize.amount("0.000001") == "0.000001")
        // What is not a number stays as it was.
        #expect(Normalize.amount("lots") == "lots")
        #expect(Normalize.amount(.bool(true)) == "true")
        #expect(Normalize.amount(.null) == "null")
    }

    @Test func aDemandKeepsImageRuntimeAndSubnetAndDropsTheRegistryAddress() throws {
        let body = Self.json(#"{"properties":{"golem":{"node":{"debug":{"subnet":"public"}}},"golem.srv.comp.task_package":"hash:sha3:abc123:http://10.0.0.7:8000/image.gvmi","golem.srv.comp.expiration":1767225600000,"golem.runtime.name":"vm","golem.srv.comp.vm.package_format":"gvmkit-squash"},"constraints":"(x)"}"#)
        #expect(Normalize.demand(body) == Self.json(#"{"image":"hash:sha3:abc123","golem.node.debug.subnet":"public","golem.runtime.name":"vm","golem.srv.comp.vm.package_format":"gvmkit-squash"}"#))
        // Another registry address and expiration: the same demand.
        let elsewhere = Self.json(#"{"properties":{"golem.node.debug.subnet":"public","golem.srv.comp.task_package":"hash:sha3:abc123:http://192.168.9.9:1234/other-name.gvmi","golem.srv.comp.expiration":1,"golem.runtime.name":"vm","golem.srv.comp.vm.package_format":"gvmkit-squash"}}"#)
        #expect(Normalize.demand(elsewhere) == Normalize.demand(body))
        // A package that is not `hash:sha3:<hash>:<url>` stays whole.
        let url = Self.json(#"{"properties":{"golem.srv.comp.task_package":"http://registry.example/img.gvmi"}}"#)
        #expect(Normalize.demand(url) == Self.json(#"{"image":"http://registry.example/img.gvmi"}"#))
        #expect(Normalize.demand(Self.json(#"{"constraints":"()"}"#)) == Self.json("{}"))
        #expect(Normalize.demand(nil) == Self.json("{}"))
    }

    @Test func execBodiesNormalizeTheSameInEveryForm() throws {
        let want = Self.json(#"[{"deploy":{}},{"run":{"args":["hi"],"entry_point":"/bin/echo"}}]"#)
        let asText = Self.json(#"{"text":"[{\"deploy\":{}},{\"run\":{\"entry_point\":\"/bin/echo\",\"args\":[\"hi\"]}}]"}"#)
        let asCommands = Self.json(#"{"commands":[{"deploy":{}},{"run":{"entry_point":"/bin/echo","args":["hi"]}}]}"#)
        let asArray = Self.json(#"[{"deploy":{}},{"run":{"entry_point":"/bin/echo","args":["hi"]}}]"#)
        #expect(Normalize.exec(asText) == want)
        #expect(Normalize.exec(asCommands) == want)
        #expect(Normalize.exec(asArray) == want)
        // Malformed scripts are no commands, not a crash.
        #expect(Normalize.exec(Self.json(#"{"text":"[{"}"#)) == Self.json("[]"))
        #expect(Normalize.exec(Self.json(#"{"text":"{}"}"#)) == Self.json("[]"))
        #expect(Normalize.exec("hello") == Self.json("[]"))
        #expect(Normalize.exec(nil) == Self.json("[]"))
    }

    @Test func commandsKeepWhatTheyDoAndDropVolatileParts() throws {
        func n(_ text: String) -> JSONValue { Normalize.command(Self.json(text)) }
        #expect(n(#"{"run":{"entryPoint":"/bin/echo","args":["a"],"capture":{"stdout":{"atEnd":{}}}}}"#) == Self.json(#"{"run":{"entry_point":"/bin/echo","args":["a"]}}"#))
        #expect(n(#"{"run":{"entry_point":"/bin/true"}}"#) == Self.json(#"{"run":{"entry_point":"/bin/true","args":[]}}"#))
        #expect(n(#"{"transfer":{"from":"gftp://0xabc/xyz","to":"container:/golem/input/in.txt","args":{}}}"#)
            == Self.json(#"{"transfer":{"from":"gftp:<url>","to":"container:/golem/input/in.txt"}}"#))
        #expect(n(#"{"transfer":{"from":"gftp://0xabc/xyz"}}"#) == Self.json(#"{"transfer":{"from":"gftp:<url>","to":null}}"#))
        #expect(n(#"{"deploy":{"net":[{"id":"n1","ip":"192.168.0.2"},{"id":"n2"}],"env":null,"volumes":["/golem/work"],"progress":{"updateInterval":"1s"}}}"#)
            == Self.json(#"{"deploy":{"net":2,"volumes":["/golem/work"]}}"#))
        #expect(n(#"{"deploy":{"env":{"A":"1"},"net":[]}}"#) == Self.json(#"{"deploy":{"env":{"A":"1"}}}"#))
        #expect(n(#"{"start":{"args":["--x"]}}"#) == Self.json(#"{"start":{"args":["--x"]}}"#))
        #expect(n(#"{"start":{}}"#) == Self.json(#"{"start":{"args":[]}}"#))
        #expect(n(#"{"sign":{"x":1}}"#) == Self.json(#"{"sign":{}}"#))
        #expect(Normalize.command("oops") == "oops")
        #expect(Normalize.command(Self.json("{}")) == Self.json("{}"))
        #expect(Normalize.location(nil) == .null)
        #expect(Normalize.location(.int(3)) == .null)
    }

    @Test func commandLinesReadLikeAShell() throws {
        func line(_ text: String) -> String { Normalize.commandLine(Self.json(text)) }
        #expect(line(#"{"run":{"entryPoint":"/bin/sh","args":["-c","echo hi"]}}"#) == "run /bin/sh -c echo hi")
        #expect(line(#"{"run":{"entry_point":"/bin/x","args":["a",1,"b"]}}"#) == "run /bin/x a b")
        #expect(line(#"{"transfer":{"from":"gftp://0xabc/xyz","to":"container:/golem/input/in.txt"}}"#) == "transfer gftp → container:/golem/input/in.txt")
        #expect(line(#"{"transfer":{"from":"container:/golem/output/out.txt","to":"gftp://0xabc/q"}}"#) == "transfer container:/golem/output/out.txt → gftp")
        #expect(line(#"{"deploy":{}}"#) == "deploy")
        #expect(Normalize.commandLine("oops") == "?")
        #expect(line("{}") == "?")
    }

    @Test func propertiesAreFoundFlatOrNestedAndFlatWins() throws {
        #expect(Normalize.property(Self.json(#"{"a.b":1,"a":{"b":2}}"#), "a.b") == .int(1))
        #expect(Normalize.property(Self.json(#"{"a":{"b":2}}"#), "a.b") == .int(2))
        #expect(Normalize.property(Self.json(#"{"a":{"c":2}}"#), "a.b") == nil)
        #expect(Normalize.property("x", "a") == nil)
    }

    @Test func outputsPricesAndLongLinesAreShortenedForTimelines() throws {
        #expect(Normalize.output("a") == "a")
        #expect(Normalize.output(Self.json(#"{"str":"b"}"#)) == "b")
        #expect(Normalize.output(Self.json(#"{"bin":[1,2]}"#)) == #"{"bin":[1,2]}"#)
        #expect(Normalize.short("  line one\nline two  ") == "line one ⏎ line two")
        #expect(Normalize.short(String(repeating: "x", count: 100)) == String(repeating: "x", count: 77) + "…")
        #expect(Normalize.short(String(repeating: "y", count: 80)) == String(repeating: "y", count: 80))
        // The byte path trims as Foundation does wherever it answers, and leaves the rest to it.
        for text in ["hello\n", "\t x \r\n", "   ", "", "a\rb\u{0B}", "é ", " \u{00A0}x\u{00A0} ", "\u{2028}y", "x\ny", "\u{3000}"] {
            let foundation = text.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: " ⏎ ")
            if let fast = Normalize.trimmedLine(text) { #expect(fast == foundation, "\(text.debugDescription)") }
            #expect(Normalize.short(text) == foundation, "\(text.debugDescription)")
        }
        #expect(Normalize.trimmedLine("  done\n") == "done")
        #expect(Normalize.trimmedLine("a\nb") == nil)
        #expect(Normalize.pricing(Self.json(#"{"properties":{"golem.com.pricing.model.linear.coeffs":[0.1,0.5,0,"x"]}}"#)) == "linear 0.1, 0.5, 0.0, ?")
        #expect(Normalize.pricing(Self.json(#"{"properties":{"golem":{"com":{"pricing":{"model":{"linear":{"coeffs":[1]}}}}}}}"#)) == "linear 1.0")
        #expect(Normalize.pricing(Self.json(#"{"properties":{}}"#)) == "no linear pricing")
        #expect(Normalize.pricing(Self.json("{}")) == "no linear pricing")
    }

    // MARK: - ProtocolExchange

    @Test func aJournalEntryBecomesAnExchangeWithPathQueryAndFrames() throws {
        let entry = JournalEntry(
            sequence: 4, startOffset: 10, endOffset: 20, method: "GET", target: "/market-api/v1/demands/sub-1/events?timeout=5&maxEvents=10",
            requestBody: [], status: 200, responseBody: Array("[]".utf8), frames: [(offset: 15, event: ServerSentEvent(event: "x", data: "{}"))])
        let e = ProtocolExchange(entry)
        #expect(e.path == "/market-api/v1/demands/sub-1/events")
        #expect(e.query == "timeout=5&maxEvents=10")
        #expect(e.operation == "market.collectDemandEvents")
        #expect(e.ids == ["sub-1"])
        #expect(e.frames == [ServerSentEvent(event: "x", data: "{}")])
        #expect(e.start == 10 && e.end == 20 && e.sequence == 4)
        #expect(e.response == .array([]))
    }

    /// The trace hash, written out the slow way (every number as its text, every field
    /// followed by 0xFF): the in-place hasher gives the same digest.
    @Test func theTraceHashIsFNVOverTheFieldsAsText() {
        func reference(_ journal: [JournalEntry]) -> String {
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            func mix(_ bytes: some Sequence<UInt8>) {
                for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
                h = (h ^ 0xFF) &* 0x100_0000_01B3
            }
            for e in journal {
                for part: [UInt8] in [Array(String(e.startOffset).utf8), Array(String(e.endOffset).utf8), Array(e.method.utf8), Array(e.target.utf8), e.requestBody, Array(String(e.status).utf8), e.responseBody] { mix(part) }
                for f in e.frames {
                    mix(String(f.offset).utf8)
                    mix(f.event.wireText.utf8)
                }
            }
            let s = String(h, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        let journal = [
            JournalEntry(sequence: 0, startOffset: 0, endOffset: 9_223_372_036_854_775_807, method: "POST", target: "/a?b=é", requestBody: Array("{\"x\":1}".utf8), status: -1, responseBody: [], frames: []),
            JournalEntry(sequence: 1, startOffset: 1_000_000_007, endOffset: 1_000_000_010, method: "GET", target: "/ü/🙂", requestBody: [], status: 200,
                responseBody: [0, 255, 10], frames: [(offset: 5, event: ServerSentEvent(event: "runtime", data: "{}")), (offset: 0, event: ServerSentEvent(data: "ok\nline"))]),
            JournalEntry(sequence: 2, startOffset: -5, endOffset: Int64.min, method: "", target: "", requestBody: [], status: 0, responseBody: [], frames: []),
        ]
        for n in 0...journal.count {
            let part = Array(journal.prefix(n))
            #expect(traceHash(part) == reference(part))
        }
        #expect(traceHash(journal) != traceHash(Array(journal.prefix(2))))
    }

    /// A replay's rule for one command line matches that line only, as its anchored pattern
    /// does (metacharacters are literal), and compares bytes: no regular expression runs.
    @Test func anExactRuleMatchesItsLineAsItsPatternWould() {
        let lines = ["/golem/run/simple_service.py --stats", "sh -c echo $((1+2)) | tr a-z A-Z [x]*?", "/bin/echo café", ""]
        for line in lines {
            let exact = CommandRule(exactly: line)
            let byPattern = CommandRule(match: exact.match)
            #expect(exact.match.hasPrefix("/^") && exact.match.hasSuffix("$/"))
            for probe in lines + [line + " ", "x" + line, line.uppercased()] {
                #expect(exact.matches(probe) == byPattern.matches(probe), "\(line) vs \(probe)")
                #expect(exact.captures(probe) == byPattern.captures(probe), "\(line) vs \(probe)")
            }
        }
        // Bytes, not canonical equivalence: a decomposed é is another line.
        #expect(!CommandRule(exactly: "caf\u{E9}").matches("cafe\u{301}"))
        // As the pattern's `$`: one final line terminator may follow; the match is the line.
        for ending in ["\n", "\r\n", "\r"] {
            let exact = CommandRule(exactly: "run x")
            #expect(exact.matches("run x" + ending) && CommandRule(match: exact.match).matches("run x" + ending))
            #expect(exact.captures("run x" + ending) == ["run x"] && CommandRule(match: exact.match).captures("run x" + ending) == ["run x"])
        }
        #expect(!CommandRule(exactly: "run x").matches("run x\n\n"))
        // The same rule as the one its pattern writes; changing `match` makes it that rule.
        var rule = CommandRule(exactly: "run x")
        #expect(rule == CommandRule(match: rule.match))
        rule.match = "other"
        #expect(rule.matches("an other line") && !rule.matches("run x"))
    }

    /// The referee passes over a typed client's reads that teach no ids without matching their
    /// path; the reads that teach ids and every change are still matched.
    @Test func readsThatTeachNoIdsArePassedOver() {
        #expect(ReplayReferee.passedOver.isSuperset(of: ["payment.getDebitNoteEvents", "payment.getInvoiceEvents", "activity.getExecBatchResults", "market.collectAgreementEvents"]))
        #expect(ReplayReferee.passedOver.isDisjoint(with: ProtocolAnalyzer.idOperations))
        #expect(ReplayReferee.passedOver.isDisjoint(with: OperationCatalog.all.filter { !$0.readOnly }.map(\.name)))
    }

    /// Braces are found on bytes; a combining mark after one is kept, as any other text.
    @Test func templatesKeepWhatFollowsABraceThatIsNoPlaceholder() {
        let t = Template(groups: ["m", "g1"], now: Date(timeIntervalSince1970: 0), provider: "p", activityId: "a", read: { _ in nil })
        #expect(t.expand("{\u{301}") == "{\u{301}")
        #expect(t.expand("x{\u{301}y}z {1}") == "x{\u{301}y}z g1")
        #expect(t.expand("{\"k\":[{1}]}é{provider}\u{301}") == "{\"k\":[g1]}ép\u{301}")
        // JSON around placeholders stays as written, however it is spaced.
        #expect(t.expand(#"{"min": 10.2, "at": "{now}"}"#) == #"{"min": 10.2, "at": "1970-01-01T00:00:00.000000Z"}"#)
        #expect(t.expand("{ \"a\": {1} }\n{\n\t\"b\": \"{0|04}\"\n}") == "{ \"a\": g1 }\n{\n\t\"b\": \"000m\"\n}")
        // A named value is found whatever its name starts with.
        var named = t
        named.values = ["\"q": "V", " r": "W"]
        #expect(named.expand("{\"q}{ r}{\"s}") == "VW{\"s}")
        #expect(named.expand("{\"q|04}") == "000V")
        // A bar joined to a combining mark is no width.
        #expect(t.expand("{1|\u{301}04}") == "{1|\u{301}04}")
    }

    @Test func exchangesTheCatalogDoesNotKnowAreNeitherOperationsNorEvents() throws {
        let strange = [
            Self.ex(1, 0, 1, "PATCH", "/payment-api/v1/allocations/a", body: "{}", status: 200),
            Self.ex(2, 1, 2, "post", "/payment-api/v1/allocations", body: #"{"totalAmount":"1"}"#, status: 201),
            Self.ex(3, 2, 3, "POST", "/market-api/v2/demands", body: "{}", status: 500, response: #"{"message":"nope"}"#),
            Self.ex(4, 3, 4, "GET", "/me", status: 200, response: "{not json"),
        ]
        var a = ProtocolAnalyzer()
        for e in strange {
            #expect(a.classify(e) == nil, "\(e.method) \(e.path)")
            a.ingest(e)
        }
        #expect(strange.map(\.operation) == [nil, nil, nil, "identity.me"])
        #expect(a.operations.isEmpty)
        #expect(a.events.isEmpty)
        // Bodies that are not JSON read as absent; statuses outside 2xx are not ok.
        #expect(strange[3].response == nil)
        #expect(Self.ex(5, 0, 0, "POST", "/x", body: "{\"a\":", status: 204).request == nil)
        #expect(Self.ex(5, 0, 0, "POST", "/x", status: 204).ok)
        #expect(!Self.ex(5, 0, 0, "POST", "/x", status: 300).ok)
        #expect(!Self.ex(5, 0, 0, "POST", "/x", status: -1).ok)
    }

    /// A referee (no timeline) learns a debit note's agreement from the note the in-process node
    /// handed over, without writing its JSON; an analyzer keeping a timeline reads the JSON.
    @Test func aRefereeLearnsADocumentsAgreementFromTheHandedOverNote() throws {
        final class Made: @unchecked Sendable {
            private let lock = NSLock()
            private var n = 0
            func add() { lock.lock(); n += 1; lock.unlock() }
            var count: Int { lock.lock(); defer { lock.unlock() }; return n }
        }
        let note = DebitNote(
            debitNoteId: "dn-1", issuerId: Self.provider, recipientId: Self.bee, payeeAddr: Self.provider, payerAddr: Self.bee,
            paymentPlatform: "erc20-holesky-tglm", previousDebitNoteId: nil, timestamp: WireTimestamp(Date(timeIntervalSince1970: 0), fractionDigits: 3),
            agreementId: "agr-1", activityId: "act-1", totalAmountDue: Decimal(string: "0.5")!, usageCounterVector: nil, paymentDueDate: nil, status: .received)
        let made = Made()
        var response = MessageBody(deferred: { made.add(); return (try? WireEncoder().encodeValue(note)) ?? .null })
        response.typed = note
        let exchange = ProtocolExchange(
            sequence: 1, start: 0, end: 1, method: "GET", path: "/payment-api/v1/debitNotes/dn-1", query: "", request: MessageBody(),
            status: 200, response: response, frames: [], match: ProtocolExchange.match("GET", "/payment-api/v1/debitNotes/dn-1"))
        #expect(exchange.operation == "payment.getDebitNote")
        var referee = ProtocolAnalyzer(keepsTimeline: false)
        referee.agreementProvider["agr-1"] = "prov"
        referee.ingest(exchange)
        #expect(referee.documentAgreement["dn-1"] == "agr-1")
        #expect(referee.documentProvider["dn-1"] == "prov")
        #expect(made.count == 0)
        // A timeline reads the note's JSON (its amount), and learns the same.
        var timeline = ProtocolAnalyzer()
        timeline.ingest(exchange)
        #expect(timeline.documentAgreement["dn-1"] == "agr-1")
        #expect(made.count == 1)
        #expect(timeline.events.last.map { $0.summary.contains("debit note for 0.5 GLM") } == true, "\(timeline.events)")
        // A recorded note (bytes only) is read from its JSON.
        var recorded = ProtocolAnalyzer(keepsTimeline: false)
        recorded.ingest(Self.ex(2, 0, 1, "GET", "/payment-api/v1/debitNotes/dn-2", response: #"{"agreementId":"agr-2","totalAmountDue":"1"}"#))
        #expect(recorded.documentAgreement["dn-2"] == "agr-2")
    }

    @Test func operationsMatchByLaneKindAndFieldsNotByTimeOrAnswer() throws {
        let base = ProtocolOperation(lane: "l", kind: "k", resource: "agreement 1", fields: ["x": 1], offset: 5, sequence: 1, status: 200)
        var later = base
        later.offset = 99
        later.sequence = 7
        later.status = 410
        #expect(base.matches(later))
        var elsewhere = base
        elsewhere.lane = "m"
        #expect(!base.matches(elsewhere))
        var changed = base
        changed.fields = ["x": 2]
        #expect(!base.matches(changed))
        var other = base
        other.kind = "j"
        #expect(!base.matches(other))
    }

    // MARK: - ProtocolAnalyzer

    @Test func theAnalyzerReducesASessionToItsRequestorOperations() throws {
        let ops = ProtocolAnalyzer(Self.session()).operations
        try #require(ops.count == 11)
        #expect(ops.map(\.kind) == [
            "payment.createAllocation", "market.subscribeDemand", "market.counterProposalDemand", "market.createAgreement",
            "market.confirmAgreement", "activity.createActivity", "activity.exec", "payment.acceptDebitNote", "market.terminateAgreement",
            "payment.acceptInvoice", "payment.releaseAllocation",
        ])
        #expect(ops.map(\.sequence) == [1, 2, 4, 6, 7, 9, 10, 15, 16, 18, 19])
        let p = Self.provider, r = ProtocolAnalyzer.requestorLane
        #expect(ops.map(\.lane) == [r, r, p, p, p, p, p, p, p, p, r])
        #expect(ops.map(\.resource) == [
            "allocation", "demand", "proposal", "agreement", "agreement 1", "activity of agreement 1", "activity 1",
            "debit note of agreement 1", "agreement 1", "invoice of agreement 1", "allocation",
        ])
        #expect(ops.map(\.status) == [201, 201, 201, 201, 204, 201, 200, 200, 204, 200, 204])
        let offsets: [Int64] = [0, 20, 540, 810, 830, 1010, 1030, 2560, 2600, 3020, 3100]
        #expect(ops.map(\.offset) == offsets.map { Self.ms($0) })
        // What each operation means, with ids, times, addresses and capture options left out.
        #expect(ops[0].fields == Self.json(#"{"paymentPlatform":"erc20-holesky-tglm","totalAmount":"1.5"}"#))
        #expect(ops[1].fields == Self.json(#"{"image":"hash:sha3:abc123","golem.node.debug.subnet":"public","golem.runtime.name":"vm"}"#))
        #expect(ops[6].fields == Self.json(#"[{"deploy":{}},{"start":{"args":[]}},{"run":{"entry_point":"/bin/sh","args":["-c","date"]}}]"#))
        for i in [2, 3, 4, 5, 7, 8, 9, 10] { #expect(ops[i].fields == Self.json("{}"), "\(ops[i].kind)") }
    }

    @Test func readsLongPollsAndApprovalWaitsAreNotOperations() throws {
        let a = ProtocolAnalyzer(Self.session())
        for e in Self.session() where [3, 5, 8, 11, 12, 13, 14, 17].contains(e.sequence) {
            #expect(a.classify(e) == nil, "\(e.method) \(e.path)")
        }
        #expect(!a.operations.contains { ["market.collectDemandEvents", "market.waitForApproval", "activity.getExecBatchResults"].contains($0.kind) })
    }

    @Test func theTimelineFollowsEachResourceBackToItsProvider() throws {
        let a = ProtocolAnalyzer(Self.session())
        let p = Self.provider, r = ProtocolAnalyzer.requestorLane
        let kinds: [TimelineEvent.Kind] = [
            .allocation, .demand, .offer, .counter, .draft, .agreementCreated, .agreementConfirmed, .agreementApproved, .activityCreated, .batch,
            .commandResult, .commandResult, .commandResult, .debitNote, .debitNoteAccepted, .agreementTerminated, .invoice, .invoiceAccepted,
            .allocationReleased,
        ]
        #expect(a.events.map(\.kind) == kinds)
        try #require(a.events.count == kinds.count)
        #expect(a.events.map(\.lane) == [r, r] + Array(repeating: p, count: 16) + [r])
        #expect(a.events.allSatisfy { !$0.failure })
        #expect(a.events[0].summary == "allocation of 1.50 GLM")
        #expect(a.events[2].summary == "offer received (linear 0.1, 0.02, 0.5)")
        #expect(a.events[2].offset == Self.ms(530))
        #expect(a.events[3].summary == "counter-proposal sent")
        #expect(a.events[4].summary == "provider answered with a Draft proposal")
        #expect(a.events[4].offset == Self.ms(800))
        #expect(a.events[5].summary == "agreement 1 created")
        #expect(a.events[5].details == Self.json(#"{"billable":true}"#))
        #expect(a.events[7].summary == "agreement 1 approved by the provider")
        #expect(a.events[8].summary == "activity 1 created on agreement 1")
        #expect(a.events[13].summary == "debit note for 0.001 GLM on agreement 1")
        #expect(a.events[14].summary == "debit note accepted: 0.001 GLM")
        #expect(a.events[15].summary == "agreement 1 terminated by the requestor: done")
        #expect(a.events[15].details["terminator"]?.stringValue == "Requestor")
        #expect(a.events[16].summary == "invoice for 0.0105 GLM on agreement 1")
        #expect(a.events[17].summary == "invoice accepted: 0.0105 GLM")
        // The provider as first offered.
        #expect(a.providerOrder == [p])
        #expect(a.providers[p]?.name == "alpha")
        #expect(a.providers[p]?.firstSeen == Self.ms(530))
        #expect(a.providers[p]?.offer?["proposalId"]?.stringValue == "prop-offer-1")
        #expect(a.name(of: r) == "requestor")
        #expect(a.name(of: p) == "alpha")
        #expect(a.name(of: "0x1234567890abcdef") == "0x12345678")
    }

    @Test func repeatedResultPollsReportEachCommandOnce() throws {
        let a = ProtocolAnalyzer(Self.session())
        let batch = try #require(a.events.first { $0.kind == .batch })
        #expect(batch.summary == "batch 1 on activity 1: deploy; start; run /bin/sh -c date")
        #expect(batch.resource == "batch 1")
        #expect(batch.offset == Self.ms(1030))
        #expect(batch.end == Self.ms(2540))
        #expect(batch.details == Self.json(#"{"commands":["deploy","start","run /bin/sh -c date"]}"#))
        let results = a.events.filter { $0.kind == .commandResult }
        try #require(results.count == 3)
        let offsets: [Int64] = [2030, 2040, 2540]
        #expect(results.map(\.offset) == offsets.map { Self.ms($0) })
        #expect(results.map(\.summary) == [
            "batch 1 #0 deploy: ok", "batch 1 #1 start: ok", "batch 1 #2 run /bin/sh -c date: ok — Thu Jan  1 00:00:00 UTC 1970",
        ])
        #expect(results.map(\.sequence) == [11, 12, 13])
        #expect(results[2].details["stdout"]?.stringValue == "Thu Jan  1 00:00:00 UTC 1970\n")
        #expect(results[2].details["command"]?.stringValue == "run /bin/sh -c date")
    }

    @Test func theOrderOfTheInputDoesNotMatterAndIngestingOneByOneIsTheSame() throws {
        let whole = ProtocolAnalyzer(Self.session())
        let shuffled = ProtocolAnalyzer(Array(Self.session().reversed()))
        #expect(shuffled.operations == whole.operations)
        #expect(shuffled.events == whole.events)
        var incremental = ProtocolAnalyzer()
        for e in Self.session() { incremental.ingest(e) }
        #expect(incremental.operations == whole.operations)
        #expect(incremental.events == whole.events)
    }

    @Test func failedAnswersCountOnlyWhenTheDaemonProcessedThem() throws {
        let p = Self.provider
        var xs = Array(Self.session()[0..<6])
        xs.append(Self.ex(7, 830, 840, "POST", "/market-api/v1/agreements/agr-1/confirm", status: -1))
        xs.append(Self.ex(8, 850, 860, "POST", "/market-api/v1/agreements/agr-1/confirm", status: 204))
        xs.append(Self.ex(9, 900, 910, "POST", "/market-api/v1/agreements/agr-1/terminate", body: #"{"message":"bye"}"#, status: 410, response: #"{"message":"Agreement already terminated"}"#))
        xs.append(Self.ex(10, 920, 930, "POST", "/payment-api/v1/allocations", body: #"{"totalAmount":"3"}"#, status: 500, response: #"{"message":"GSB error"}"#))
        let a = ProtocolAnalyzer(xs)
        // No answer and a 500 are transient; a 410 to a terminate is part of the session.
        #expect(a.operations.map(\.sequence) == [1, 2, 4, 6, 8, 9])
        #expect(a.operations.last?.status == 410)
        let errors = a.events.filter { $0.kind == .error }
        #expect(errors.map(\.summary) == [
            "market.confirmAgreement answered nothing (connection closed): ", "market.terminateAgreement answered 410: Agreement already terminated",
            "payment.createAllocation answered 500: GSB error",
        ])
        #expect(errors.map(\.lane) == [p, p, ProtocolAnalyzer.requestorLane])
        #expect(errors.allSatisfy { $0.failure })
        #expect(!a.events.contains { $0.kind == .agreementTerminated })
        #expect(a.events.filter { $0.kind == .agreementConfirmed }.map(\.sequence) == [8])
    }

    @Test func aTimedOutConfirmOrTerminateIsNotDrawnAsDone() throws {
        var xs = Array(Self.session()[0..<6])
        xs.append(Self.ex(7, 830, 840, "POST", "/market-api/v1/agreements/agr-1/confirm", status: 408, response: #"{"message":"timeout"}"#))
        xs.append(Self.ex(8, 900, 910, "POST", "/market-api/v1/agreements/agr-1/terminate", body: #"{"message":"bye"}"#, status: 408, response: #"{"message":"timeout"}"#))
        let a = ProtocolAnalyzer(xs)
        // A 408 is a transient failure: not an operation ...
        #expect(!a.operations.contains { $0.kind == "market.confirmAgreement" || $0.kind == "market.terminateAgreement" })
        // ... yet the timeline shows both as done (ingest skips its error branch for 408 and falls through).
        #expect(!a.events.contains { $0.kind == .agreementConfirmed })
        #expect(!a.events.contains { $0.kind == .agreementTerminated })
    }

    @Test func requestsAboutResourcesItNeverSawCreatedFallIntoTheUnknownLane() throws {
        let a = ProtocolAnalyzer()
        func op(_ method: String, _ path: String, _ body: String = "") -> ProtocolOperation? {
            a.classify(Self.ex(1, 0, 0, method, path, body: body, status: 0))
        }
        let counter = try #require(op("POST", "/market-api/v1/demands/d/proposals/p", "{}"))
        #expect(counter.kind == "market.counterProposalDemand" && counter.lane == "unknown" && counter.resource == "proposal")
        #expect(op("POST", "/market-api/v1/demands/d/proposals/p/reject")?.kind == "market.rejectProposalOffer")
        let agreement = try #require(op("POST", "/market-api/v1/agreements", #"{"proposalId": "#))
        #expect(agreement.lane == "unknown" && agreement.resource == "agreement" && agreement.fields == Self.json("{}"))
        #expect(op("POST", "/market-api/v1/agreements/agr-z/terminate")?.resource == "agreement ?")
        #expect(op("POST", "/activity-api/v1/activity", "\"agr-z\"")?.resource == "activity")
        #expect(op("DELETE", "/activity-api/v1/activity/act-z")?.resource == "activity ?")
        let exec = try #require(op("POST", "/activity-api/v1/activity/act-z/exec", "garbage"))
        #expect(exec.lane == "unknown" && exec.resource == "activity ?" && exec.fields == Self.json("[]"))
        #expect(op("POST", "/payment-api/v1/invoices/inv-z/accept")?.resource == "invoice")
        #expect(op("POST", "/payment-api/v1/debitNotes/dn-z/accept")?.resource == "debit note")
        let unsubscribe = try #require(op("DELETE", "/market-api/v1/demands/d"))
        #expect(unsubscribe.lane == ProtocolAnalyzer.requestorLane && unsubscribe.resource == "demand")
        #expect(op("PUT", "/payment-api/v1/allocations/a", #"{"totalAmount":"3.0"}"#)?.fields == Self.json(#"{"totalAmount":"3"}"#))
        // An operation without its own rule is the requestor's, named after itself.
        let net = try #require(op("POST", "/net-api/v2/vpn/net", #"{"ip":"10.0.0.0"}"#))
        #expect(net.kind == "net.createNetwork" && net.lane == ProtocolAnalyzer.requestorLane && net.resource == "net.createNetwork")
        #expect(op("GET", "/market-api/v1/agreements/agr-z") == nil)
    }

    @Test func malformedAnswersTeachTheAnalyzerNothingAndDoNotCrash() throws {
        let xs = [
            Self.ex(1, 0, 10, "GET", "/market-api/v1/demands/d/events", response: "{{not json"),
            Self.ex(2, 10, 20, "GET", "/market-api/v1/demands/d/events", response: #"[{"eventType":"ProposalEvent","proposal":{"proposalId":"p-x"}}]"#),
            Self.ex(3, 20, 30, "GET", "/market-api/v1/demands/d/events", response: #"[{"eventType":"ProposalRejectedEvent","proposalId":"nobody","reason":{"message":"no"}}]"#),
            Self.ex(4, 30, 40, "POST", "/activity-api/v1/activity/act-x/exec", body: "not json", response: #"{"batchId":"b"}"#),
            Self.ex(5, 40, 50, "GET", "/activity-api/v1/activity/act-x/exec/b", response: #"[{"index":0,"result":"Ok"}]"#),
            Self.ex(6, 50, 60, "GET", "/market-api/v1/agreementEvents", response: #"[{"eventType":"AgreementTerminatedEvent","agreementId":"never-made","terminator":"Provider"}]"#),
        ]
        let a = ProtocolAnalyzer(xs)
        #expect(a.providers.isEmpty)
        #expect(a.providerOrder.isEmpty)
        let exec = try #require(a.operations.first)
        #expect(a.operations.count == 1)
        #expect(exec.kind == "activity.exec" && exec.lane == "unknown" && exec.fields == Self.json("[]"))
        // Only the rejection of an unknown proposal shows, in the unknown lane.
        #expect(a.events.map(\.kind) == [.proposalRejected])
        #expect(a.events.first?.lane == "unknown")
        #expect(a.events.first?.summary == "provider rejected the proposal: no")
    }

    // MARK: - ReplayPlan

    @Test func aPlanRebuildsTheRecordedProviderFromItsOfferAndTiming() throws {
        let plan = ReplayPlan(name: "replay of hello", exchanges: Self.session())
        #expect(plan.scenario.name == "replay of hello")
        #expect(plan.scenario.description == "replay of a recorded session")
        #expect(plan.operations == plan.analysis.operations)
        #expect(plan.operations.count == 11)
        // One offer, seen once: no re-offers after agreements.
        #expect(!plan.scenario.daemon.reoffersAfterAgreements)
        try #require(plan.scenario.providers.count == 1)
        let spec = plan.scenario.providers[0]
        #expect(spec.name == "alpha")
        #expect(spec.nodeId == Self.provider)
        #expect(spec.maxAgreements == nil)
        #expect(spec.multiActivity)
        #expect(spec.debitNoteInterval == .seconds(120))
        #expect(spec.properties["golem.node.id.name"]?.stringValue == "alpha")
        // The usage vector lists CPU first: the coefficients follow it, the fixed price last.
        #expect(spec.pricing.perCpuSecond == 0.1)
        #expect(spec.pricing.perDurationSecond == 0.02)
        #expect(spec.pricing.start == 0.5)
        #expect(spec.pricing.counters.isEmpty)
        // Subscribed at 30 ms, offer seen at 530 ms; counter sent at 550 ms, draft at 800 ms.
        #expect(spec.offerDelay == .milliseconds(500))
        #expect(spec.responseDelay == .milliseconds(250))
        // Batch sent at 1030 ms, deploy done at 2030 ms, start at 2040 ms, the run at 2540 ms.
        #expect(spec.deployDuration == .seconds(1))
        // Terminated at 2610 ms, invoiced at 3010 ms.
        #expect(spec.invoiceDelay == .milliseconds(400))
        #expect(spec.faults.isEmpty)
        try #require(spec.commands.count == 1)
        let rule = spec.commands[0]
        #expect(rule.matches("/bin/sh -c date"))
        #expect(!rule.matches("/bin/sh -c date; reboot"))
        #expect(!rule.matches("x /bin/sh -c date"))
        #expect(rule.exitCode == 0)
        #expect(rule.stdout == "Thu Jan  1 00:00:00 UTC 1970\n")
        #expect(rule.stderr == nil)
        #expect(rule.duration == .milliseconds(500))
    }

    @Test func aPlanCarriesTheRecordedFailuresAsFaults() throws {
        let plan = ReplayPlan(name: "rough", exchanges: Self.rough())
        #expect(plan.operations.map(\.sequence) == [1, 3, 5, 6, 9, 10])
        try #require(plan.scenario.providers.count == 1)
        let spec = plan.scenario.providers[0]
        #expect(spec.name == "0xbbbbbbbb")
        #expect(spec.nodeId == Self.bee)
        #expect(!spec.multiActivity)
        #expect(spec.debitNoteInterval == nil)
        #expect(spec.pricing == Pricing())
        #expect(spec.offerDelay == .milliseconds(100))
        #expect(spec.responseDelay == .milliseconds(200))
        #expect(spec.deployDuration == .seconds(1))
        var terminate = Trigger()
        terminate.at = .seconds(2)  // approved at 1370 ms, terminated by the provider at 3370 ms
        let faults: [ProviderFault] = [
            .failActivityCreation(message: "activity.createActivity answered 500: GSB error: timeout", Trigger()),
            .terminateAgreement(reason: "out of budget", terminate),
            .withholdInvoice(Trigger()),
        ]
        #expect(spec.faults == faults)
        // The failed run, and (as every recorded run failed) any other run fails too.
        try #require(spec.commands.count == 2)
        #expect(spec.commands[0].matches("/bin/false"))
        #expect(!spec.commands[0].matches("/bin/true"))
        #expect(spec.commands[1].match == "/.*/")
        for rule in spec.commands {
            #expect(rule.exitCode == 1)
            #expect(rule.stdout == "")
            #expect(rule.stderr == "boom")
            #expect(rule.duration == .milliseconds(510))
        }
        // The streamed result (malformed and non-final frames skipped) marks the batch failed.
        let a = plan.analysis
        let batch = try #require(a.events.first { $0.kind == .batch })
        #expect(batch.failure)
        #expect(batch.summary == "batch 1 on activity 1: run /bin/false")
        #expect(a.events.filter { $0.kind == .commandResult }.map(\.summary) == ["batch 1 #0 run /bin/false: failed — boom"])
        #expect(a.events.first { $0.kind == .counter }?.summary == "counter-proposal sent (no payment platform chosen)")
        #expect(a.events.first { $0.kind == .agreementCreated }?.summary == "agreement 1 created (unbillable: no payment platform was chosen)")
        #expect(a.events.first { $0.kind == .agreementTerminated }?.details["terminator"]?.stringValue == "Provider")
    }

    func rejectedBy(_ reason: String) -> ReplayPlan {
        var xs = Array(Self.session()[0..<4])
        xs.append(Self.ex(5, 550, 700, "GET", "/market-api/v1/demands/sub-1/events",
                          response: #"[{"eventType":"ProposalRejectedEvent","proposalId":"prop-counter-1","reason":{"message":"\#(reason)"}}]"#))
        return ReplayPlan(name: "rejected", exchanges: xs)
    }

    @Test func rejectionsBecomeFaultsExceptCapacityRefusals() throws {
        let refused = try #require(rejectedBy("price too low").scenario.providers.first)
        let want: [ProviderFault] = [.rejectProposal(reason: "price too low", Trigger())]
        #expect(refused.faults == want)
        #expect(refused.responseDelay == .milliseconds(150))
        let full = try #require(rejectedBy("No capacity available (1 of 1 agreements)").scenario.providers.first)
        #expect(full.faults.isEmpty)
        // An agreement the provider did not approve.
        var ys = Array(Self.session()[0..<7])
        ys.append(Self.ex(8, 840, 900, "POST", "/market-api/v1/agreements/agr-1/wait", status: 410, response: #"{"message":"Agreement rejected by provider"}"#))
        let plan = ReplayPlan(name: "not approved", exchanges: ys)
        let event = try #require(plan.analysis.events.last)
        #expect(event.kind == .agreementRejected && event.failure)
        let spec = try #require(plan.scenario.providers.first)
        let rejection: [ProviderFault] = [.rejectAgreement(reason: "agreement 1 not approved: Agreement rejected by provider", Trigger())]
        #expect(spec.faults == rejection)
    }

    @Test func aSessionWithoutOffersReplaysAgainstAQuietMarket() throws {
        let plan = ReplayPlan(name: "quiet", exchanges: Array(Self.session()[0..<2]))
        #expect(plan.operations.map(\.kind) == ["payment.createAllocation", "market.subscribeDemand"])
        let quiet = try #require(plan.scenario.providers.first)
        #expect(plan.scenario.providers.count == 1)
        #expect(quiet.name == "no-offers")
        #expect(quiet.nodeId == nil)
        #expect(quiet.offerDelay == .seconds(86_400 * 365))
        #expect(!plan.scenario.daemon.reoffersAfterAgreements)
        #expect(ReplayPlan(name: "empty", exchanges: []).scenario.providers.map(\.name) == ["no-offers"])
        // Offsets measured backwards clamp to zero.
        #expect(ReplayPlan.nanoseconds(-5) == .zero)
        #expect(ReplayPlan.nanoseconds(7) == .nanoseconds(7))
    }

    @Test func customCountersRepeatedOffersAndAFailedSubscriptionAreRead() throws {
        let props = #"{"golem.com.usage.vector":["golem.usage.duration_sec","golem.usage.cpu_sec","golem.usage.custom.requests"],"golem.com.pricing.model.linear.coeffs":[0.01,0.2,0.003,1.0]}"#
        func offer(_ id: String, _ issuer: String) -> String {
            #"[{"eventType":"ProposalEvent","proposal":{"proposalId":"\#(id)","issuerId":"\#(issuer)","state":"Initial","properties":\#(props)}}]"#
        }
        let xs = [
            Self.ex(1, 0, 5, "POST", "/market-api/v1/demands", body: "{}", status: 400, response: #"{"message":"bad demand"}"#),
            Self.ex(2, 10, 20, "POST", "/market-api/v1/demands", body: #"{"properties":{}}"#, status: 201, response: "\"sub-3\""),
            Self.ex(3, 20, 120, "GET", "/market-api/v1/demands/sub-3/events", response: offer("o-1", "0xcounter1")),
            Self.ex(4, 120, 300, "GET", "/market-api/v1/demands/sub-3/events", response: offer("o-2", "0xsecond")),
            Self.ex(5, 300, 400, "GET", "/market-api/v1/demands/sub-3/events", response: offer("o-3", "0xcounter1")),
        ]
        let plan = ReplayPlan(name: "counters", exchanges: xs)
        // The first provider offered twice: the replay offers again after agreements.
        #expect(plan.scenario.daemon.reoffersAfterAgreements)
        #expect(plan.scenario.providers.map(\.name) == ["0xcounter1", "0xsecond"])
        try #require(plan.scenario.providers.count == 2)
        let spec = plan.scenario.providers[0]
        #expect(spec.pricing.perDurationSecond == 0.01)
        #expect(spec.pricing.perCpuSecond == 0.2)
        #expect(spec.pricing.start == 1.0)
        var requests = UsageCounter(name: "golem.usage.custom.requests")
        requests.price = 0.003
        #expect(spec.pricing.counters == [requests])
        // Delays count from the subscription that succeeded (ended at 20 ms).
        #expect(spec.offerDelay == .milliseconds(100))
        #expect(plan.scenario.providers[1].offerDelay == .milliseconds(280))
    }

    // MARK: - ReplayReferee

    @Test func aLiveRequestorRepeatingTheRecordingWithOtherIdsAndTimesPassesStrictly() throws {
        var referee = ReplayReferee(plan: Self.plan(), strict: true)
        var live = Self.renamed(Self.session(), Self.liveNames, shift: Self.ms(5000))
        // One more result poll and one more debit note than recorded: cadence, not meaning.
        live.insert(Self.ex(30, 7045, 7050, "GET", "/activity-api/v1/activity/act-def/exec/batch-ghi", response: "[\(Self.r0)]"), at: 13)
        live.append(Self.ex(31, 8200, 8210, "POST", "/payment-api/v1/debitNotes/dn-extra/accept", body: #"{"totalAmountAccepted":"0.002"}"#))
        let refused = Self.follow(&referee, live)
        #expect(refused.isEmpty)
        #expect(referee.divergences.isEmpty)
        #expect(referee.unperformed.isEmpty)
        #expect(referee.report.isEmpty)
    }

    @Test func aStrictRefereeAnswersADivergenceWithTheRecordedAndLiveValues() throws {
        var referee = ReplayReferee(plan: Self.plan(), strict: true)
        #expect(referee.strict)
        let answer = referee.check(Self.allocationRequest("2"), sequence: 42, offset: 1_500_000_000)
        let response = try #require(answer)
        #expect(response.status == 400)
        #expect(response.header("Content-Type") == "application/json")
        let body = try JSONParser.parse(response.body)
        #expect(body["message"]?.stringValue == "golem-sim replay divergence: the request's fields differ from the recorded payment.createAllocation")
        try #require(referee.divergences.count == 1)
        let d = referee.divergences[0]
        #expect(d.sequence == 42)
        #expect(d.offset == 1_500_000_000)
        #expect(d.request == "POST /payment-api/v1/allocations")
        #expect(d.provider == "requestor")
        #expect(d.reason == "the request's fields differ from the recorded payment.createAllocation")
        #expect(d.differences == [#"totalAmount: "1.5" → "2""#])
        #expect(d.closest?.sequence == 1)
        #expect(d.operation?.fields == Self.json(#"{"paymentPlatform":"erc20-holesky-tglm","totalAmount":"2"}"#))
        #expect(d.description == "divergence at exchange 42 (1.500 s): POST /payment-api/v1/allocations — the request's fields differ from the recorded payment.createAllocation\n  closest recorded: payment.createAllocation on allocation at exchange 1\n  totalAmount: \"1.5\" → \"2\"")
        // The answer carries the report as it is journaled.
        #expect(body["divergence"] == d.json)
        #expect(d.json["closestRecorded"]?["exchange"]?.intValue == 1)
        #expect(d.json["offsetSeconds"]?.doubleValue == 1.5)
        let differences: JSONValue = .array([.string(#"totalAmount: "1.5" → "2""#)])
        #expect(d.json["differences"] == differences)
        // A refused request uses nothing up: the recorded allocation still matches.
        let again = referee.check(Self.allocationRequest("1.5"), sequence: 43, offset: 0)
        #expect(again == nil)
        #expect(referee.divergences.count == 1)
    }

    @Test func aLenientRefereeServesTheDivergentRequestAndOnlyReportsIt() throws {
        var referee = ReplayReferee(plan: Self.plan(), strict: false)
        #expect(!referee.strict)
        let answer = referee.check(Self.allocationRequest("2"), sequence: 42, offset: 0)
        #expect(answer == nil)
        #expect(referee.divergences.map(\.reason) == ["the request's fields differ from the recorded payment.createAllocation"])
        #expect(referee.divergences.first?.differences == [#"totalAmount: "1.5" → "2""#])
        // The recorded allocation never came either.
        #expect(referee.unperformed.first?.kind == "payment.createAllocation")
        #expect(referee.report.first == referee.divergences.first?.description)
        #expect(referee.report.count == 1 + 10)
    }

    @Test func aRequestRepeatedBeyondTheRecordingIsNamedAsSuch() throws {
        var referee = ReplayReferee(plan: Self.plan(), strict: true)
        let first = referee.check(Self.allocationRequest("1.5"), sequence: 1, offset: 0)
        #expect(first == nil)
        let second = referee.check(Self.allocationRequest("1.50"), sequence: 2, offset: 0)
        #expect(second?.status == 400)
        let d = try #require(referee.divergences.first)
        #expect(d.reason == "the recording has no further payment.createAllocation on requestor (every recorded one was already matched)")
        #expect(d.differences.isEmpty)
        #expect(d.closest?.sequence == 1)
    }

    @Test func aKindTheRecordingNeverHadIsNamed() throws {
        let net = NodeRequest(method: .POST, path: "/net-api/v1/net", body: Array(#"{"ip":"192.168.0.0","mask":"255.255.255.0"}"#.utf8))
        var referee = ReplayReferee(plan: Self.plan(), strict: true)
        let answer = referee.check(net, sequence: 5, offset: 0)
        #expect(answer?.status == 400)
        let d = try #require(referee.divergences.first)
        #expect(d.operation?.kind == "net.createNetwork")
        #expect(d.reason == "no recorded net.createNetwork on requestor is left to match it")
        // The closest is the first unused operation of the same lane.
        #expect(d.closest?.kind == "payment.createAllocation")
        #expect(d.differences == [
            "operation: payment.createAllocation → net.createNetwork", #"paymentPlatform: "erc20-holesky-tglm" → (absent)"#,
            #"totalAmount: "1.5" → (absent)"#,
        ])
        // Against an empty recording there is nothing close at all.
        var empty = ReplayReferee(plan: ReplayPlan(name: "empty", exchanges: []), strict: true)
        _ = empty.check(net, sequence: 3, offset: 0)
        let e = try #require(empty.divergences.first)
        #expect(e.reason == "the recording has no net.createNetwork at all")
        #expect(e.closest == nil)
        #expect(e.differences.isEmpty)
        #expect(e.description == "divergence at exchange 3 (0.000 s): POST /net-api/v1/net — the recording has no net.createNetwork at all")
        #expect(e.json["closestRecorded"] == nil)
    }

    @Test func anAgreementWithAnotherProviderNamesTheProviderChange() throws {
        var referee = ReplayReferee(plan: Self.plan(), strict: true)
        referee.observe(Self.journal(Self.ex(1, 0, 10, "GET", "/market-api/v1/demands/sub-9/events",
            response: #"[{"eventType":"ProposalEvent","proposal":{"proposalId":"prop-beta","issuerId":"0xprov2","state":"Draft","properties":{"golem.node.id.name":"beta"}}}]"#)))
        let answer = referee.check(NodeRequest(method: .POST, path: "/market-api/v1/agreements", body: Array(#"{"proposalId":"prop-beta"}"#.utf8)), sequence: 2, offset: 0)
        #expect(answer?.status == 400)
        let d = try #require(referee.divergences.first)
        #expect(d.operation?.lane == "0xprov2")
        #expect(d.provider == "0xprov2")
        #expect(d.closest?.kind == "market.createAgreement")
        #expect(d.closest?.lane == Self.provider)
        #expect(d.differences == ["provider: alpha → 0xprov2"])
        #expect(d.reason == "no recorded market.createAgreement on 0xprov2 is left to match it")
    }

    @Test func readsPollsUnknownPathsAndDebitNotesAreNeverJudged() throws {
        var referee = ReplayReferee(plan: Self.plan(), strict: true)
        let requests = [
            NodeRequest(method: .GET, path: "/market-api/v1/demands/sub-x/events"),
            NodeRequest(method: .POST, path: "/market-api/v1/agreements/agr-x/wait"),
            NodeRequest(method: .GET, path: "/activity-api/v1/activity/act-x/exec/b-x"),
            NodeRequest(method: .GET, path: "/payment-api/v1/invoices/inv-x"),
            NodeRequest(method: .POST, path: "/market-api/v1/no-such-thing", body: Array("{".utf8)),
            NodeRequest(method: .PUT, path: "/me"),
            NodeRequest(method: .POST, path: "/payment-api/v1/debitNotes/dn-x/accept", body: Array(#"{"totalAmountAccepted":"99"}"#.utf8)),
            NodeRequest(method: .POST, path: "/payment-api/v1/debitNotes/dn-x/reject", body: Array("{}".utf8)),
        ]
        for (i, r) in requests.enumerated() {
            let answer = referee.check(r, sequence: i, offset: 0)
            #expect(answer == nil, "\(r.method) \(r.path)")
        }
        #expect(referee.divergences.isEmpty)
        // Recorded debit-note acceptances are not expected either.
        #expect(referee.expected.count == 10)
        #expect(!referee.expected.contains { $0.kind == "payment.acceptDebitNote" })
    }

    @Test func execsMatchOnAnyProviderAndRepeatsAreCadence() throws {
        var referee = ReplayReferee(plan: Self.plan(), strict: true)
        for i in 0..<3 {
            let answer = referee.check(Self.execRequest("act-elsewhere", ["-c", "date"]), sequence: 100 + i, offset: 0)
            #expect(answer == nil)
        }
        #expect(referee.divergences.isEmpty)
        #expect(!referee.unperformed.contains { $0.kind == "activity.exec" })
        #expect(referee.unperformed.count == 9)
    }

    @Test func aChangedExecOnTheSameActivityNamesTheChangedArgument() throws {
        var referee = ReplayReferee(plan: Self.plan(), strict: true)
        let refused = Self.follow(&referee, Array(Self.session()[0..<13]))
        #expect(refused.isEmpty)
        let answer = referee.check(Self.execRequest("act-1", ["-c", "uname"]), sequence: 20, offset: Self.ms(2545))
        #expect(answer?.status == 400)
        let d = try #require(referee.divergences.first)
        #expect(d.reason == "the request's fields differ from the recorded activity.exec")
        #expect(d.differences == [#"[2].run.args[1]: "date" → "uname""#])
        #expect(d.provider == "alpha")
        #expect(d.closest?.sequence == 10)
        #expect(d.operation?.resource == "activity 1")
    }

    @Test func aChangedExecOnAnotherLaneStillPointsAtTheRecordedExec() throws {
        var referee = ReplayReferee(plan: Self.plan(), strict: true)
        // The recorded batch on an activity the referee did not see created: matched (any lane).
        let first = referee.check(Self.execRequest("act-elsewhere", ["-c", "date"]), sequence: 1, offset: 0)
        #expect(first == nil)
        let second = referee.check(Self.execRequest("act-elsewhere", ["-c", "uname"]), sequence: 2, offset: 0)
        #expect(second?.status == 400)
        let d = try #require(referee.divergences.first)
        #expect(d.closest?.kind == "activity.exec")
        #expect(d.differences.contains(#"[2].run.args[1]: "date" → "uname""#))
        #expect(d.reason != "the recording has no activity.exec at all")
    }

    @Test func recordedOperationsNeverPerformedAreReported() throws {
        var referee = ReplayReferee(plan: Self.plan(), strict: true)
        #expect(referee.unperformed.map(\.sequence) == [1, 2, 4, 6, 7, 9, 10, 16, 18, 19])
        #expect(referee.report.first == "not replayed: the recording's payment.createAllocation on requestor (allocation, exchange 1) never came")
        #expect(referee.report.contains("not replayed: the recording's activity.exec on alpha (activity 1, exchange 10) never came"))
        let answer = referee.check(Self.allocationRequest("1.5"), sequence: 1, offset: 0)
        #expect(answer == nil)
        #expect(referee.unperformed.map(\.sequence) == [2, 4, 6, 7, 9, 10, 16, 18, 19])
    }

    @Test func aMalformedBodyDivergesWithEveryRecordedFieldMissing() throws {
        var referee = ReplayReferee(plan: Self.plan(), strict: true)
        let answer = referee.check(NodeRequest(method: .POST, path: "/payment-api/v1/allocations", body: Array(#"{"totalAmount": 1.5"#.utf8)), sequence: 7, offset: 0)
        #expect(answer?.status == 400)
        let d = try #require(referee.divergences.first)
        #expect(d.operation?.fields == Self.json("{}"))
        #expect(d.differences == [#"paymentPlatform: "erc20-holesky-tglm" → (absent)"#, #"totalAmount: "1.5" → (absent)"#])
        #expect(d.reason == "the request's fields differ from the recorded payment.createAllocation")
    }

    // MARK: - FieldDiff

    @Test func fieldDiffNamesEveryChangedPath() throws {
        let a = Self.json(#"{"a":{"b":1,"c":[1,2]},"same":"x"}"#)
        let b = Self.json(#"{"a":{"b":2,"c":[1]},"same":"x","d":true}"#)
        #expect(FieldDiff.lines(a, b) == ["a.b: 1 → 2", "a.c[1]: 2 → (absent)", "d: (absent) → true"])
        #expect(FieldDiff.lines(a, a).isEmpty)
        #expect(FieldDiff.lines(.int(1), "1") == [#"value: 1 → "1""#])
        #expect(FieldDiff.lines(Self.json("[1]"), Self.json(#"[1,{"x":null}]"#)) == [#"[1]: (absent) → {"x":null}"#])
        #expect(FieldDiff.lines(Self.json(#"{"k":{"z":1}}"#), Self.json(#"{"k":"flat"}"#)) == [#"k: {"z":1} → "flat""#])
    }

    // MARK: - SessionDiff

    @Test func equalSessionsAndSessionsDifferingOnlyInIdsAndTimesAreTheSame() throws {
        let a = ProtocolAnalyzer(Self.session())
        #expect(SessionDiff(a, ProtocolAnalyzer(Self.session())).same)
        let live = SessionDiff(a, ProtocolAnalyzer(Self.renamed(Self.session(), Self.liveNames, shift: Self.ms(60_000))))
        #expect(live.same, "\(live.text)")
        #expect(live.text.isEmpty)
        #expect(live.operationsA == 11 && live.operationsB == 11)
        // Another answer to the same request is not other work.
        var other = Self.session()
        other[15].status = 410
        #expect(SessionDiff(a, ProtocolAnalyzer(other)).same)
    }

    @Test func anExtraOperationIsListedOnlyInB() throws {
        var b = Self.session()
        b.append(Self.ex(20, 2545, 2550, "POST", "/activity-api/v1/activity/act-1/exec", body: Self.execText(["-c", "uptime"]), response: "\"batch-2\""))
        let diff = SessionDiff(ProtocolAnalyzer(Self.session()), ProtocolAnalyzer(b))
        #expect(!diff.same)
        #expect(diff.operationsA == 11 && diff.operationsB == 12)
        #expect(diff.text == ["+ only in B: alpha activity 1: activity.exec (exchange 20)"])
    }

    @Test func aMissingOperationIsListedOnlyInA() throws {
        let a = ProtocolAnalyzer(Self.session())
        let b = ProtocolAnalyzer(Array(Self.session().dropLast()))
        let diff = SessionDiff(a, b)
        #expect(diff.operationsB == 10)
        #expect(diff.text == ["- only in A: requestor allocation: payment.releaseAllocation (exchange 19)"])
        #expect(SessionDiff(b, a).text == ["+ only in B: requestor allocation: payment.releaseAllocation (exchange 19)"])
    }

    @Test func changedFieldsAreListedWithBothValues() throws {
        let b = Self.renamed(Self.session(), [
            (#""totalAmount":"1.50""#, #""totalAmount":"2""#), ("hash:sha3:abc123", "hash:sha3:def456"), ("/bin/sh", "/bin/bash"),
        ])
        let diff = SessionDiff(ProtocolAnalyzer(Self.session()), ProtocolAnalyzer(b))
        #expect(diff.lines.count == 3)
        #expect(diff.text == [
            "~ requestor allocation: payment.createAllocation (exchanges 1 / 1)\n    totalAmount: \"1.5\" → \"2\"",
            "~ requestor demand: market.subscribeDemand (exchanges 2 / 2)\n    image: \"hash:sha3:abc123\" → \"hash:sha3:def456\"",
            "~ alpha activity 1: activity.exec (exchanges 10 / 10)\n    [2].run.entry_point: \"/bin/sh\" → \"/bin/bash\"",
        ])
    }

    @Test func providersPairByIdElseByName() throws {
        let a = ProtocolAnalyzer(Self.session())
        // Another node id, the same name: the same provider.
        #expect(SessionDiff(a, ProtocolAnalyzer(Self.renamed(Self.session(), [("0xprov1", "0xprov9")]))).same)
        // Another id and another name: every provider operation is on one side only.
        let diff = SessionDiff(a, ProtocolAnalyzer(Self.renamed(Self.session(), [("0xprov1", "0xprov9"), ("\"alpha\"", "\"gamma\"")])))
        #expect(diff.lines.count == 16)
        #expect(diff.text.first == "- only in A: alpha proposal: market.counterProposalDemand (exchange 4)")
        #expect(diff.text.last == "+ only in B: gamma invoice of agreement 1: payment.acceptInvoice (exchange 18)")
        #expect(diff.text.filter { $0.hasPrefix("- only in A: alpha ") }.count == 8)
        #expect(diff.text.filter { $0.hasPrefix("+ only in B: gamma ") }.count == 8)
    }

    @Test func alignmentKeepsOrderAndPairsByKind() throws {
        func op(_ kind: String, _ seq: Int) -> ProtocolOperation {
            ProtocolOperation(lane: "l", kind: kind, resource: "r", fields: [:], offset: 0, sequence: seq, status: 200)
        }
        func steps(_ x: [ProtocolOperation], _ y: [ProtocolOperation]) -> [String] {
            SessionDiff.align(x, y).map { "\($0.0?.sequence ?? 0)/\($0.1?.sequence ?? 0)" }
        }
        #expect(steps([op("a", 1), op("b", 2), op("c", 3)], [op("a", 11), op("c", 13)]) == ["1/11", "2/0", "3/13"])
        #expect(steps([op("a", 1)], [op("b", 11)]) == ["1/0", "0/11"])
        #expect(steps([], [op("a", 11), op("a", 12)]) == ["0/11", "0/12"])
        #expect(steps([op("a", 1), op("b", 2)], [op("b", 12), op("a", 11)]) == ["1/0", "2/12", "0/11"])
        #expect(steps([], []).isEmpty)
    }

    // MARK: - Malformed recordings are input, not trusted

    @Test func aResultWithANegativeIndexIsIgnoredRatherThanCrashing() throws {
        var a = ProtocolAnalyzer()
        for e in ReplayUnitTests.session()[0..<10] { a.ingest(e) }
        let before = a.events.count
        a.ingest(ReplayUnitTests.ex(11, 1040, 1050, "GET", "/activity-api/v1/activity/act-1/exec/batch-1",
                                    response: #"[{"index":-1,"result":"Ok","isBatchFinished":true}]"#))
        #expect(a.events.count == before, "a result no command could have adds nothing to the timeline")
    }

    @Test func anAbsurdDebitNoteIntervalDoesNotCrashThePlan() throws {
        let offer = #"[{"eventType":"ProposalEvent","proposal":{"proposalId":"o","issuerId":"0xhuge","state":"Initial","properties":{"golem.com.scheme.payu.debit-note.interval-sec?":1e300}}}]"#
        let plan = ReplayPlan(name: "huge", exchanges: [ReplayUnitTests.ex(1, 0, 10, "GET", "/market-api/v1/demands/s/events", response: offer)])
        let provider = try #require(plan.scenario.providers.first)
        #expect(provider.debitNoteInterval == nil, "no clock holds 1e300 s: the plan issues no debit notes")
    }
}
