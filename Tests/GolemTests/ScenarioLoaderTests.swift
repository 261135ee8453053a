import Foundation
import Testing
import YagnaAPI
@testable import YagnaSimulator

/// The scenario file format (`scenarios/README.md`): every documented key lands in the model
/// with its documented default, and every kind of bad input is an error naming the file, the
/// line, the key and what to write instead — never a crash.
@Suite struct ScenarioFormatTests {
    // MARK: - Helpers

    /// The error `yaml` gets (recording an issue when it loads).
    func failure(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> ScenarioError? {
        return #expect(throws: ScenarioError.self, "\(yaml)", sourceLocation: sourceLocation) {
            try Scenario.parse(yaml: yaml, file: "s.yaml")
        }
    }

    /// `yaml` fails at `line` on `key`, with a message containing `says`.
    func expectFailure(_ yaml: String, line: Int?, key: String?, says: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = failure(yaml, sourceLocation: sourceLocation) else { return }
        #expect(error.file == "s.yaml", sourceLocation: sourceLocation)
        #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
        #expect(error.key == key, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(says), "\(error)", sourceLocation: sourceLocation)
    }

    func trigger(probability: Double = 1, afterBatches: Int? = nil, at: Duration? = nil) -> Trigger {
        var t = Trigger()
        t.probability = probability
        t.afterBatches = afterBatches
        t.at = at
        return t
    }

    func daemonFault(
        _ kind: DaemonFault.Kind, match: String = "*", probability: Double = 1, afterBatches: Int? = nil, at: Duration? = nil,
        duration: Duration = .zero, times: Int? = nil
    ) -> DaemonFault {
        var f = DaemonFault(kind: kind)
        f.match = match
        f.trigger = trigger(probability: probability, afterBatches: afterBatches, at: at)
        f.duration = duration
        f.times = times
        return f
    }

    /// A JSON number as RFC 8259 writes it (no `+`, no leading zeros, digits after a dot).
    func isJSONNumber(_ literal: String) -> Bool {
        literal.range(of: #"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"#, options: .regularExpression) != nil
    }

    // MARK: - What lands in the model

    @Test func aMinimalScenarioTakesTheDocumentedDefaults() throws {
        let s = try Scenario.parse(yaml: "name: minimal\nproviders:\n  - name: p\n")
        #expect(s.name == "minimal" && s.description.isEmpty && s.app == nil && s.base == nil)
        #expect(s.seed == 1)
        #expect(s.requestor.identity == "0x" + String(repeating: "a1", count: 20))
        #expect(s.requestor.name == "sim-requestor" && !s.requestor.paymentInitialised)
        #expect(s.expectations.isEmpty && s.assertions.isEmpty)
        #expect(s.daemon == DaemonSpec())
        #expect(s.daemon.latency == .zero && s.daemon.faults.isEmpty && s.daemon.reoffersAfterAgreements)
        #expect(s.daemon.subscriptionTTL == .seconds(3600))
        let p = try #require(s.providers.first)
        #expect(s.providers.count == 1 && p.name == "p" && p.nodeId == nil && p.properties.isEmpty)
        #expect(p.pricing == Pricing())
        #expect(p.pricing.start == 0 && p.pricing.perCpuSecond == 0.0001 && p.pricing.perDurationSecond == 0.00001)
        #expect(p.pricing.usageVector == ["golem.usage.duration_sec", "golem.usage.cpu_sec"])
        #expect(p.pricing.coefficients == [0.00001, 0.0001, 0])
        #expect(p.multiActivity)
        #expect(p.maxAgreements == 1)
        #expect(p.debitNoteInterval == .seconds(120))
        #expect(p.offerDelay == .milliseconds(100) && p.responseDelay == .milliseconds(50))
        #expect(p.commandDuration == .milliseconds(100) && p.deployDuration == .seconds(1))
        #expect(p.invoiceDelay == .milliseconds(200))
        #expect(p.unknownProgramExitCode == 0 && p.imageSize == 100_000_000)
        #expect(p.volumes == ["/golem/input", "/golem/output", "/golem/resource", "/golem/work"])
        #expect(p.commands.isEmpty && p.faults.isEmpty && p.services.isEmpty && p.urls.isEmpty)
    }

    static let everyKey = """
        name: full
        description: every documented key
        app:
          name: many-tasks
          args: {tasks: 10, task-timeout: "30"}
        seed: 18446744073709551615
        requestor: {identity: "0xbb", name: me, payment-initialised: yes}
        providers:
          - name: worker
            multi-activity: false
            max-agreements: 3
            node-id: "0xABCDEF0123456789abcdef0123456789ABCDEF01"
            pricing:
              start: 0.5
              per-cpu-second: 0.002
              per-duration-second: 0.0003
              counters:
                - {name: golem.usage.custom.counter, price: 0.0003, initial: 10, per-second: 0.5}
                - {name: golem.usage.gpu-sec}
            unknown-program-exit-code: 127
            image-size: 2048
            debit-note-interval: 1.5m
            offer-delay: 250ms
            response-delay: 0.5
            command-duration: 2s
            deploy-duration: 1h
            invoice-delay: 0s
            commands:
              - match: "--stats"
                stdout: '{"mean": 1}'
                stderr: warn
                exit-code: 3
                duration: 200ms
                usage: {golem.usage.custom.counter: 100}
              - match: '/^render (\\d+)$/'
            volumes: [/golem/work/, /data/../srv]
          - name: spare
            max-agreements: none
            debit-note-interval: none
        expect: [all-tasks-accepted, service-reached-running, instance-respawned-on-another-provider, all-invoices-accepted, app-fails]
        """

    @Test func everyDocumentedKeyLandsInTheModel() throws {
        let s = try Scenario.parse(yaml: Self.everyKey)
        #expect(s.name == "full" && s.description == "every documented key")
        #expect(s.app == AppSpec(name: "many-tasks", arguments: ["tasks": "10", "task-timeout": "30"]))
        #expect(s.seed == UInt64.max)
        #expect(s.requestor.identity == "0xbb" && s.requestor.name == "me" && s.requestor.paymentInitialised)
        #expect(s.expectations == [.allTasksAccepted, .serviceRunning, .instanceRespawned, .invoicesAccepted, .appFails])
        #expect(s.providers.map(\.name) == ["worker", "spare"])
        try #require(s.providers.count == 2)
        let p = s.providers[0]
        #expect(!p.multiActivity)
        #expect(p.maxAgreements == 3)
        #expect(p.nodeId == "0xabcdef0123456789abcdef0123456789abcdef01")
        #expect(p.pricing.start == 0.5 && p.pricing.perCpuSecond == 0.002 && p.pricing.perDurationSecond == 0.0003)
        var custom = UsageCounter(name: "golem.usage.custom.counter")
        custom.price = 0.0003
        custom.initial = 10
        custom.perSecond = 0.5
        #expect(p.pricing.counters == [custom, UsageCounter(name: "golem.usage.gpu-sec")])
        // The usage vector: duration, CPU, then the counters in order; the fixed price comes last.
        #expect(p.pricing.usageVector == ["golem.usage.duration_sec", "golem.usage.cpu_sec", "golem.usage.custom.counter", "golem.usage.gpu-sec"])
        #expect(p.pricing.coefficients == [0.0003, 0.002, 0.0003, 0, 0.5])
        #expect(p.unknownProgramExitCode == 127 && p.imageSize == 2048)
        #expect(p.debitNoteInterval == .seconds(90))
        #expect(p.offerDelay == .milliseconds(250))
        #expect(p.responseDelay == .milliseconds(500))
        #expect(p.commandDuration == .seconds(2))
        #expect(p.deployDuration == .seconds(3600))
        #expect(p.invoiceDelay == .zero)
        var stats = CommandRule(match: "--stats")
        stats.stdout = "{\"mean\": 1}"
        stats.stderr = "warn"
        stats.exitCode = 3
        stats.duration = .milliseconds(200)
        stats.usage = ["golem.usage.custom.counter": 100]
        let render = CommandRule(match: "/^render (\\d+)$/")
        #expect(p.commands == [stats, render])
        #expect(p.commands.last?.pattern == "^render (\\d+)$")
        // Volumes are normalised: no trailing slash, `..` resolved.
        #expect(p.volumes == ["/golem/work", "/srv"])
        let spare = s.providers[1]
        #expect(spare.maxAgreements == nil)
        #expect(spare.debitNoteInterval == nil)
    }

    @Test func countExpandsIntoNumberedCopiesOfOneSpec() throws {
        let s = try Scenario.parse(yaml: """
            name: c
            providers:
              - name: w
                count: 3
                offer-delay: 10ms
                faults:
                  - withhold-invoice: {}
              - name: solo
                count: 1
            """)
        #expect(s.providers.map(\.name) == ["w-1", "w-2", "w-3", "solo"])
        try #require(s.providers.count == 4)
        for copy in s.providers.prefix(3) {
            #expect(copy.offerDelay == .milliseconds(10), "\(copy.name)")
            #expect(copy.faults == [.withholdInvoice(Trigger())], "\(copy.name)")
        }
        #expect(s.providers[3].offerDelay == .milliseconds(100) && s.providers[3].faults.isEmpty)
        #expect(s.faultSchedule == [.provider(0, fault: 0), .provider(1, fault: 0), .provider(2, fault: 0)])
        // A name the expansion also makes clashes like any other.
        let clash = failure("name: c\nproviders:\n  - name: w\n    count: 2\n  - name: w-2\n")
        #expect(clash?.key == "providers")
        #expect(clash?.line != nil)
        #expect(clash?.message == "two providers are named 'w-2'; names must be unique")
    }

    @Test func everyDurationFormIsRead() throws {
        let forms: [(String, Duration)] = [
            ("250ms", .milliseconds(250)), ("2.5ms", .microseconds(2500)), ("1e3ms", .seconds(1)), ("2s", .seconds(2)),
            ("1.5m", .seconds(90)), ("0.25m", .seconds(15)), ("1h", .seconds(3600)), ("0.5", .milliseconds(500)),
            ("12", .seconds(12)), ("0s", .zero),
        ]
        for (text, expected) in forms {
            let s = try Scenario.parse(yaml: "name: d\nproviders:\n  - name: p\n    offer-delay: \(text)\n")
            #expect(s.providers.first?.offerDelay == expected, "\(text)")
        }
    }

    @Test func offerPropertiesKeepTheirYAMLTypesAsJSON() throws {
        let s = try Scenario.parse(yaml: """
            name: props
            providers:
              - name: p
                properties:
                  golem.inf.mem.gib: 16.0
                  golem.inf.cpu.threads: 4
                  golem.custom.negative: -5
                  golem.custom.exponent: 1e3
                  golem.node.id.name: "007"
                  golem.srv.caps.multi-activity: false
                  golem.custom.quoted: "true"
                  golem.custom.empty: ~
                  golem.custom.blank:
                  golem.activity.caps.transfer.protocol: [gftp, http]
                  golem.custom.nested: {a: 1, b: [x]}
                  golem.custom.word: nan
            """)
        let props = try #require(s.providers.first?.properties)
        #expect(props.count == 12)
        #expect(props["golem.inf.mem.gib"] == JSONValue.number(JSONNumber(literal: "16.0")))
        #expect(props["golem.inf.cpu.threads"] == JSONValue.number(JSONNumber(literal: "4")))
        #expect(props["golem.custom.negative"] == JSONValue.number(JSONNumber(literal: "-5")))
        #expect(props["golem.custom.exponent"] == JSONValue.number(JSONNumber(literal: "1e3")))
        #expect(props["golem.node.id.name"] == JSONValue.string("007"))
        #expect(props["golem.srv.caps.multi-activity"] == JSONValue.bool(false))
        #expect(props["golem.custom.quoted"] == JSONValue.string("true"))
        #expect(props["golem.custom.empty"] == JSONValue.null)
        #expect(props["golem.custom.blank"] == JSONValue.null)
        #expect(props["golem.activity.caps.transfer.protocol"] == JSONValue.array([.string("gftp"), .string("http")]))
        #expect(props["golem.custom.nested"] == JSONValue.object(["a": .number(JSONNumber(literal: "1")), "b": .array([.string("x")])]))
        #expect(props["golem.custom.word"] == JSONValue.string("nan"))
        for (key, value) in props {
            if case .number(let n) = value { #expect(isJSONNumber(n.literal), "\(key): \(n.literal)") }
        }
    }

    /// YAML reads `+4`, `007` and `01.5` as numbers; the offer must carry them as valid JSON.
    @Test func numbersInPropertiesGoOnTheWireAsValidJSON() throws {
        for text in ["+4", "007", "01.5"] {
            let s = try Scenario.parse(yaml: "name: n\nproviders:\n  - name: p\n    properties: {golem.x: \(text)}\n")
            let value = try #require(s.providers.first?.properties["golem.x"])
            #expect(value.stringValue != nil || isJSONNumber(value.description), "\(text) is written as \(value.description)")
        }
    }

    @Test func servicesAndURLsLandInTheModel() throws {
        let s = try Scenario.parse(yaml: """
            name: net
            providers:
              - name: web
                services:
                  - port: 80
                    files: /usr/share/nginx/html/
                    http:
                      - {path: /status, method: get, status: 201, content-type: application/json, body: '{"ok": true}', headers: {X-A: b}}
                      - {path: /, method: POST, status: 302, headers: {Location: /}, save: /webapp/./messages.txt, field: message}
                      - {path: /upload, upload: /app/uploads/, field: file}
                      - {path: "/images/{name}", file: "/app/uploads/{name}"}
                  - {port: 7, echo: true}
                  - {port: 22, banner: "SSH-2.0-OpenSSH_9.6\\r\\n"}
                urls:
                  - {url: "https://example.com/a.bin", size: 16}
                  - {url: "https://example.com/b.bin", size: 5}
                  - {url: "http://example.com/hello.txt", content: hello}
                  - {url: "https://example.com/empty", size: 0}
            """)
        let p = try #require(s.providers.first)
        var status = HTTPRoute(path: "/status")
        status.method = "GET"
        status.status = 201
        status.contentType = "application/json"
        status.contentTypeGiven = true
        status.body = Array(#"{"ok": true}"#.utf8)
        status.bodyIsTemplate = true
        status.headers = ["X-A": "b"]
        var post = HTTPRoute(path: "/")
        post.method = "POST"
        post.status = 302
        post.headers = ["Location": "/"]
        post.save = "/webapp/messages.txt"
        post.saveField = "message"
        var upload = HTTPRoute(path: "/upload")
        upload.upload = "/app/uploads"
        upload.saveField = "file"
        var image = HTTPRoute(path: "/images/{name}")
        image.file = "/app/uploads/{name}"
        var web = TunnelService(port: 80)
        web.filesRoot = "/usr/share/nginx/html"
        web.routes = [status, post, upload, image]
        var echo = TunnelService(port: 7)
        echo.echo = true
        var ssh = TunnelService(port: 22)
        ssh.banner = "SSH-2.0-OpenSSH_9.6\r\n"
        #expect(p.services == [web, echo, ssh])
        #expect(p.services.map(\.isHTTP) == [true, false, false])
        // Route defaults: any method, 200, plain text, no body.
        let parsedImage = try #require(p.services.first?.routes.last)
        #expect(parsedImage.method == nil && parsedImage.status == 200 && parsedImage.body.isEmpty && parsedImage.headers.isEmpty)
        #expect(parsedImage.contentType == "text/plain; charset=utf-8" && !parsedImage.contentTypeGiven && !parsedImage.bodyIsTemplate)
        #expect(parsedImage.parameters == ["name"])
        // `size` bytes are deterministic: a shorter URL gets a prefix of a longer one's bytes.
        #expect(p.urls.map(\.url) == ["https://example.com/a.bin", "https://example.com/b.bin", "http://example.com/hello.txt", "https://example.com/empty"])
        try #require(p.urls.count == 4)
        let a = p.urls[0].bytes, b = p.urls[1].bytes
        #expect(a.count == 16 && b.count == 5)
        #expect(Array(a.prefix(5)) == b)
        #expect(Set(a).count > 1)
        #expect(p.urls[2].bytes == Array("hello".utf8))
        #expect(p.urls[3].bytes.isEmpty)
    }

    @Test func volumesApplyToCommandRulesWrittenAboveThem() throws {
        let s = try Scenario.parse(yaml: """
            name: v
            providers:
              - name: p
                commands:
                  - match: save
                    files:
                      - {path: /srv/out.txt, content: "x"}
                      - {path: log.txt, append: "y"}
                volumes: [/srv, /golem/work]
            """)
        let rule = try #require(s.providers.first?.commands.first)
        #expect(rule.files == [FileEffect(path: "/srv/out.txt", content: .text("x")), FileEffect(path: "log.txt", content: .text("y"), append: true)])
        expectFailure(
            "name: v\nproviders:\n  - name: p\n    commands:\n      - match: save\n        files:\n          - {path: /srv/out.txt, content: \"x\"}\n    volumes: [/golem/work]\n",
            line: 7, key: "path", says: "/srv/out.txt is outside the provider's volumes; write under /golem/work or list its directory in 'volumes'")
    }

    static let allFaults = """
        name: faults
        providers:
          - name: p
            faults:
              - reject-proposal: {reason: "No capacity", probability: 0.5}
              - reject-agreement: {reason: busy}
              - fail-activity-creation: {message: "exe-unit crashed"}
              - fail-command: {match: render, exit-code: 2, stderr: oops, after-batches: 2}
              - terminate-agreement: {at: 30s, reason: "shutting down"}
              - unresponsive: {after-batches: 3, duration: 20s}
              - stop-answering-polls: {after-batches: 1}
              - withhold-invoice: {}
              - delay-invoice: {duration: 60s}
              - debit-notes-too-fast: {interval: 1s}
        daemon:
          latency: 5ms
          subscription-ttl: 90s
          faults:
            - {kind: gsb-error, match: "/exec/", probability: 0.2, times: 3}
            - {kind: timeout, match: "POST /market-api/v1/agreements", times: 1}
            - {kind: gateway-timeout, match: "/accept"}
            - {kind: drop-connection, match: "GET /payment-api/v1/invoiceEvents", times: 1}
            - {kind: delay, match: "*", duration: 2s, probability: 0.1}
            - {kind: restart, match: "POST /activity-api/v1/activity", duration: 5s, times: 1}
            - {kind: timeout, after-batches: 2, at: 1500ms}
        """

    @Test func everyFaultKindParsesWithItsParametersAndTrigger() throws {
        let s = try Scenario.parse(yaml: Self.allFaults)
        let expected: [ProviderFault] = [
            .rejectProposal(reason: "No capacity", trigger(probability: 0.5)),
            .rejectAgreement(reason: "busy", Trigger()),
            .failActivityCreation(message: "exe-unit crashed", Trigger()),
            .failCommand(match: "render", exitCode: 2, stderr: "oops", trigger(afterBatches: 2)),
            .terminateAgreement(reason: "shutting down", trigger(at: .seconds(30))),
            .unresponsive(duration: .seconds(20), trigger(afterBatches: 3)),
            .stopAnsweringPolls(trigger(afterBatches: 1)),
            .withholdInvoice(Trigger()),
            .delayInvoice(.seconds(60), Trigger()),
            .debitNotesTooFast(interval: .seconds(1), Trigger()),
        ]
        #expect(s.providers.first?.faults == expected)
        #expect(s.daemon.latency == .milliseconds(5))
        #expect(s.daemon.subscriptionTTL == .seconds(90))
        let daemon: [DaemonFault] = [
            daemonFault(.gsbError, match: "/exec/", probability: 0.2, times: 3),
            daemonFault(.timeout, match: "POST /market-api/v1/agreements", times: 1),
            daemonFault(.gatewayTimeout, match: "/accept"),
            daemonFault(.dropConnection, match: "GET /payment-api/v1/invoiceEvents", times: 1),
            daemonFault(.delay, probability: 0.1, duration: .seconds(2)),
            daemonFault(.restart, match: "POST /activity-api/v1/activity", duration: .seconds(5), times: 1),
            daemonFault(.timeout, afterBatches: 2, at: .milliseconds(1500)),
        ]
        #expect(s.daemon.faults == daemon)
        let schedule: [FaultReference] = (0..<10).map { FaultReference.provider(0, fault: $0) } + (0..<7).map { FaultReference.daemon($0) }
        #expect(s.faultSchedule == schedule)
    }

    @Test func faultParametersDefaultWhenLeftOut() throws {
        let s = try Scenario.parse(yaml: """
            name: defaults
            providers:
              - name: p
                faults:
                  - reject-proposal:
                  - reject-agreement: {}
                  - fail-activity-creation: null
                  - fail-command: {}
                  - terminate-agreement: {after-batches: 1}
                  - unresponsive: {at: 5s}
                  - stop-answering-polls: ~
            """)
        let expected: [ProviderFault] = [
            .rejectProposal(reason: "No capacity", Trigger()),
            .rejectAgreement(reason: "Provider busy", Trigger()),
            .failActivityCreation(message: "Failed to create activity: exe-unit crashed", Trigger()),
            .failCommand(match: "", exitCode: 1, stderr: "command failed", Trigger()),
            .terminateAgreement(reason: "Provider terminated the agreement", trigger(afterBatches: 1)),
            .unresponsive(duration: nil, trigger(at: .seconds(5))),
            .stopAnsweringPolls(Trigger()),
        ]
        #expect(s.providers.first?.faults == expected)
    }

    /// What `describe` prints is the file's own syntax: it reads back as the same fault.
    @Test func faultsPrintInTheFileSyntaxAndReadBackTheSame() throws {
        let s = try Scenario.parse(yaml: Self.allFaults)
        for fault in try #require(s.providers.first).faults {
            let again = try Scenario.parse(yaml: "name: r\nproviders:\n  - name: p\n    faults:\n      - \(fault.yamlText)\n")
            #expect(again.providers.first?.faults == [fault], "\(fault.yamlText)")
        }
        for fault in s.daemon.faults {
            let again = try Scenario.parse(yaml: "name: r\nproviders:\n  - name: p\ndaemon:\n  faults:\n    - \(fault.yamlText)\n")
            #expect(again.daemon.faults == [fault], "\(fault.yamlText)")
        }
        #expect(s.describe(.provider(0, fault: 4)) == "provider p: terminate-agreement: {reason: \"shutting down\", at: 30s}")
        #expect(s.describe(.provider(0, fault: 7)) == "provider p: withhold-invoice: {}")
        #expect(s.describe(.daemon(0)) == "daemon: {kind: gsb-error, match: \"/exec/\", probability: 0.2, times: 3}")
        #expect(s.describe(.daemon(6)) == "daemon: {kind: timeout, match: \"*\", after-batches: 2, at: 1500ms}")
        #expect(s.describe(.provider(1, fault: 0)) == "(no such fault)")
        #expect(s.describe(.provider(0, fault: 10)) == "(no such fault)")
        #expect(s.describe(.daemon(7)) == "(no such fault)")
    }

    @Test func keepingPartOfTheScheduleLeavesTheRestAlone() throws {
        let s = try Scenario.parse(yaml: """
            name: sched
            providers:
              - name: a
                faults:
                  - withhold-invoice: {}
                  - delay-invoice: {duration: 1s}
              - name: b
                count: 2
                faults:
                  - reject-proposal: {}
            daemon:
              faults:
                - {kind: timeout}
            """)
        #expect(s.faultSchedule == [.provider(0, fault: 0), .provider(0, fault: 1), .provider(1, fault: 0), .provider(2, fault: 0), .daemon(0)])
        let unsorted: [FaultReference] = [.daemon(0), .provider(1, fault: 0), .provider(0, fault: 2)]
        #expect(unsorted.sorted() == [.provider(0, fault: 2), .provider(1, fault: 0), .daemon(0)])
        let keep: [FaultReference] = [.provider(0, fault: 1), .provider(2, fault: 0)]
        let kept = s.keeping(only: keep)
        let keptFaults: [[ProviderFault]] = [[.delayInvoice(.seconds(1), Trigger())], [], [.rejectProposal(reason: "No capacity", Trigger())]]
        #expect(kept.providers.map(\.faults) == keptFaults)
        #expect(kept.daemon.faults.isEmpty)
        #expect(kept.providers.map(\.name) == ["a", "b-1", "b-2"])
        #expect(kept.describe(.provider(2, fault: 0)) == "provider b-2: reject-proposal: {reason: \"No capacity\"}")
    }

    @Test func journalRulesLandInTheModel() throws {
        let s = try Scenario.parse(yaml: """
            name: rules
            providers:
              - name: a
            assert:
              - name: paid
                eventually: {op: "payment.*", api: payment, method: post, path: /invoices/, status: [200, 2XX], request: "{", response: "/ok|done/"}
                within: 1.5m
                from: 1s
                until: 2m
              - always: {status: 200}
                for: {api: net}
              - always: {status: [200, 201]}
              - count: {api: market}
                at-least: 0
              - count: {op: market.createAgreement}
                at-least: 1
                at-most: 1
              - never: {}
            """)
        let paid = ExchangeMatcher(
            op: "payment.*", api: "payment", method: "POST", path: "/invoices/", status: ["200", "2xx"], request: "{", response: "/ok|done/")
        let expected: [JournalAssertion] = [
            JournalAssertion(.eventually(paid, within: .seconds(90)), name: "paid", from: .seconds(1), until: .seconds(120)),
            JournalAssertion(.always(ExchangeMatcher(status: ["200"]), scope: ExchangeMatcher(api: "net"))),
            JournalAssertion(.always(ExchangeMatcher(status: ["200", "201"]), scope: ExchangeMatcher())),
            JournalAssertion(.count(ExchangeMatcher(api: "market"), atLeast: 0, atMost: nil)),
            JournalAssertion(.count(ExchangeMatcher(op: "market.createAgreement"), atLeast: 1, atMost: 1)),
            JournalAssertion(.never(ExchangeMatcher())),
        ]
        #expect(s.assertions == expected)
        #expect(s.assertions.map(\.label) == [
            "paid", "always {status=200} for {api=net}", "always {status=200|201} for {any exchange}", "count {api=market} at least 0",
            "count {op=market.createAgreement} at least 1, at most 1", "never {any exchange}",
        ])
    }

    /// A scenario on disk: `base` and `from:` are found beside it, and its errors name it.
    @Test func aFileOnDiskFindsItsNeighboursAndNamesItselfInErrors() throws {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("scenario-format-\(UUID().uuidString)")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        let blob = Array("bytes beside\n".utf8)
        try Data(blob).write(to: dir.appendingPathComponent("blob.bin"))
        let path = dir.appendingPathComponent("s.yaml").path
        let text = """
            name: on-disk
            base: rec.sqlite
            providers:
              - name: p
                urls:
                  - {url: "https://example.com/blob", from: blob.bin}
                services:
                  - port: 80
                    http:
                      - {path: /blob, from: blob.bin}
                commands:
                  - match: x
                    files:
                      - {path: /golem/output/copy.bin, from: blob.bin}
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let s = try Scenario.load(file: path)
        #expect(s.base == dir.appendingPathComponent("rec.sqlite").path)
        let p = try #require(s.providers.first)
        #expect(p.urls == [URLContent(url: "https://example.com/blob", bytes: blob)])
        let route = try #require(p.services.first?.routes.first)
        #expect(route.body == blob && !route.bodyIsTemplate)
        #expect(p.commands.first?.files == [FileEffect(path: "/golem/output/copy.bin", content: .bytes(blob))])

        let bad = dir.appendingPathComponent("bad.yaml").path
        try "name: b\nproviders:\n  - name: p\n    count: 0\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let countError = #expect(throws: ScenarioError.self) { try Scenario.load(file: bad) }
        #expect(countError?.description == "\(bad):4: 'count': must be at least 1")

        let gone = dir.appendingPathComponent("gone.yaml").path
        try "name: g\nproviders:\n  - name: p\n    urls: [{url: \"https://x.example/y\", from: gone.bin}]\n".write(toFile: gone, atomically: true, encoding: .utf8)
        let goneError = #expect(throws: ScenarioError.self) { try Scenario.load(file: gone) }
        #expect(goneError?.key == "from" && goneError?.line == 4)
        #expect(goneError?.message == "cannot read gone.bin (looked for \(dir.appendingPathComponent("gone.bin").path)); put the file beside the scenario")

        let missing = dir.appendingPathComponent("missing.yaml").path
        let unreadable = #expect(throws: ScenarioError.self) { try Scenario.load(file: missing) }
        #expect(unreadable?.file == missing && unreadable?.line == nil && unreadable?.key == nil)
        #expect(unreadable?.message.hasPrefix("cannot read the file") == true)
        #expect(unreadable?.description.hasPrefix("\(missing): cannot read the file") == true)
    }

    @Test func aBaseRecordingStandsInForProviders() throws {
        let s = try Scenario.parse(yaml: "name: b\nbase: /recordings/hello.db\n", file: "/anywhere/s.yaml")
        #expect(s.base == "/recordings/hello.db" && s.providers.isEmpty)
        let relative = try Scenario.parse(yaml: "name: b\nbase: hello.sqlite\n", file: "/scenarios/s.yaml")
        #expect(relative.base == "/scenarios/hello.sqlite")
    }

    // MARK: - Bad input

    @Test func badScenarioShapesNameTheLineTheKeyAndAHint() throws {
        let p = "providers:\n  - name: p\n"
        let cases: [(String, Int, String?, String)] = [
            ("", 1, nil, "the file is empty; a scenario needs at least 'name' and 'providers'"),
            ("# nothing here\n", 1, nil, "the file is empty"),
            ("- a\n- b\n", 1, nil, "the scenario must be a mapping of keys"),
            (p, 1, "name", "a scenario needs a name"),
            ("name: [x]\n" + p, 1, "name", "must be a string"),
            ("name: x\ndescription: {a: b}\n" + p, 2, "description", "must be a string"),
            ("name: x\n", 1, "providers", "a scenario needs at least one provider (or a 'base' recording)"),
            ("name: x\nproviders: []\n", 2, "providers", "must be a non-empty list of providers"),
            ("name: x\nproviders: {name: p}\n", 2, "providers", "must be a non-empty list of providers"),
            ("name: x\nproviders:\n  - p\n", 3, nil, "a provider must be a mapping of keys"),
            ("name: x\nproviders:\n  - count: 2\n", 3, "name", "every provider needs a name"),
            ("name: x\ncolour: red\n" + p, 2, "colour", "known keys: name, description, app, seed, requestor, providers, daemon, expect, assert, base"),
            ("name: x\nseed: -1\n" + p, 2, "seed", "must be a non-negative integer"),
            ("name: x\nseed: 18446744073709551616\n" + p, 2, "seed", "must be a non-negative integer"),
            ("name: x\nseed: 1.5\n" + p, 2, "seed", "must be a non-negative integer"),
            ("name: x\nrequestor: {colour: red}\n" + p, 2, "colour", "unknown key in requestor; known keys: identity, name, payment-initialised"),
            ("name: x\nrequestor: {payment-initialised: maybe}\n" + p, 2, "payment-initialised", "must be true or false"),
            ("name: x\nrequestor: me\n" + p, 2, nil, "requestor must be a mapping of keys"),
            ("name: x\nexpect: all-tasks-accepted\n" + p, 2, "expect", "must be a list of expectations"),
            (
                "name: x\nexpect:\n  - all-tasks-accepted\n  - all-tasks-acepted\n" + p, 4, "expect",
                "unknown expectation 'all-tasks-acepted'; known: all-tasks-accepted, service-reached-running, instance-respawned-on-another-provider, all-invoices-accepted, app-fails"
            ),
            ("name: x\nassert: {never: {status: 500}}\n" + p, 2, "assert", "must be a list of rules (eventually, never, always, count)"),
            ("name: x\nbase: rec.json\n", 2, "base", "must name a recording file (.sqlite)"),
            ("name: x\napp: {args: {tasks: 3}}\n" + p, 2, "app.name", "the app needs a name"),
            ("name: x\napp: {name: hello-task, argv: [a]}\n" + p, 2, "argv", "unknown key in app; known keys: name, args"),
            ("name: x\napp: {name: many-tasks, args: [3]}\n" + p, 2, nil, "app.args must be a mapping"),
        ]
        for (yaml, line, key, says) in cases {
            expectFailure(yaml, line: line, key: key, says: says)
        }
        #expect(failure("name: x\nseed: -1\n" + p)?.description == "s.yaml:2: 'seed': must be a non-negative integer")
        #expect(failure("name: x\nproviders:\n  - p\n")?.description == "s.yaml:3: a provider must be a mapping of keys")
    }

    @Test func badProviderValuesNameTheLineTheKeyAndAHint() throws {
        let cases: [(String, String?, String)] = [
            ("count: two", "count", "must be an integer"),
            ("count: 0", "count", "must be at least 1"),
            ("count: 1.5", "count", "must be an integer"),
            ("multi-activity: maybe", "multi-activity", "must be true or false"),
            ("max-agreements: unlimited", "max-agreements", "must be an integer"),
            ("max-agreements: -1", "max-agreements", "must be at least 1"),
            ("debit-note-interval: 0s", "debit-note-interval", "must be positive, or 'none'"),
            ("debit-note-interval: -5s", "debit-note-interval", "'-5s' is not a duration"),
            ("response-delay: 1d", "response-delay", "'1d' is not a duration; write 250ms, 2s, 5m or 1h"),
            ("command-duration: [1s]", "command-duration", "must be a duration such as 250ms, 2s, 5m"),
            ("deploy-duration: \"\"", "deploy-duration", "'' is not a duration"),
            ("invoice-delay: ms", "invoice-delay", "'ms' is not a duration"),
            ("offer-delay: 1e400s", "offer-delay", "is not a duration"),
            ("image-size: 0", "image-size", "must be at least 1"),
            ("unknown-program-exit-code: 256", "unknown-program-exit-code", "must be an exit code, 0 to 255"),
            ("unknown-program-exit-code: -1", "unknown-program-exit-code", "must be at least 0"),
            ("pricing: {start: -0.5}", "start", "prices cannot be negative"),
            ("pricing: {per-cpu-second: cheap}", "per-cpu-second", "must be a number"),
            ("pricing: {per-duration-second: nan}", "per-duration-second", "must be a number"),
            ("pricing: {per-gpu-second: 1}", "per-gpu-second", "unknown key in pricing; known keys: start, per-cpu-second, per-duration-second, counters"),
            ("pricing: {counters: []}", "counters", "must be a list of usage counters"),
            ("pricing: {counters: [{price: 1}]}", "name", "a usage counter needs 'name'"),
            ("pricing: {counters: [{name: golem.usage.cpu_sec}]}", "name", "'golem.usage.cpu_sec' is already in the usage vector"),
            ("pricing: {counters: [{name: c}, {name: c}]}", "name", "'c' is already in the usage vector"),
            ("pricing: {counters: [{name: c, initial: -1}]}", "initial", "cannot be negative"),
            ("volumes: []", "volumes", "must be a list of absolute directories"),
            ("volumes: [golem/work]", "volumes", "'golem/work' is not an absolute directory"),
            ("volumes: [/]", "volumes", "'/' is not an absolute directory"),
            ("properties: [a, b]", nil, "properties must be a mapping"),
            ("commands: {match: x}", "commands", "must be a list of command rules"),
            ("commands: [{stdout: hi}]", "match", "a command rule needs 'match'"),
            ("commands: [{match: \"/(unclosed/\"}]", "match", "'/(unclosed/' is not a valid regular expression"),
            ("commands: [{match: x, exit-code: -1}]", "exit-code", "must be at least 0"),
            ("commands: [{match: x, usage: {c: -1}}]", "c", "a counter cannot be negative"),
            ("commands: [{match: x, colour: red}]", "colour", "unknown key in a command rule"),
            ("faults: withhold-invoice", "faults", "must be a list of faults"),
            ("urls: [{url: \"ftp://host/x\", size: 1}]", "url", "'ftp://host/x' is not an http:// or https:// URL"),
            ("urls: [{url: \"https://host/x\", size: 1, content: a}]", "content", "a URL needs exactly one of 'content' (text), 'from'"),
            ("urls: [{content: a}]", "url", "each entry needs 'url'"),
            ("urls: [{url: \"https://host/x\", size: 2000000000}]", "size", "at most 1 GiB"),
            ("urls: [{url: \"https://host/x\", size: -1}]", "size", "must be at least 0"),
            ("services: {port: 80, echo: true}", "services", "must be a list of services"),
            ("services: [{port: 65536, echo: true}]", "port", "must be a TCP port, 1 to 65535"),
            ("colour: red", "colour", "unknown key in a provider; known keys: name, count, properties, pricing,"),
        ]
        for (entry, key, says) in cases {
            expectFailure("name: x\nproviders:\n  - name: p\n    \(entry)\n", line: 4, key: key, says: says)
        }
    }

    @Test func badFaultsNameTheFaultAndSayWhatIsMissing() throws {
        let cases: [(String, String?, String)] = [
            ("terminate-agreement: {reason: x}", "terminate-agreement", "say when: 'after-batches: N' or 'at: 30s'"),
            ("unresponsive: {duration: 5s}", "unresponsive", "say when"),
            ("delay-invoice: {}", "delay-invoice", "needs 'duration'"),
            ("debit-notes-too-fast: {}", "debit-notes-too-fast", "needs 'interval'"),
            ("fail-command: {exit-code: 0}", "exit-code", "must be at least 1"),
            ("fail-command: {match: [a]}", "match", "must be a string"),
            ("fail-command: {after-batches: -1}", "after-batches", "must be at least 0"),
            ("reject-proposal: {reasn: x}", "reasn", "unknown key in fault 'reject-proposal'; known keys: probability, after-batches, at, reason"),
            ("withhold-invoice: {duration: 5s}", "duration", "unknown key in fault 'withhold-invoice'; known keys: probability, after-batches, at"),
            ("reject-proposal: {probability: 1.5}", "probability", "must be between 0 and 1"),
            ("reject-proposal: {probability: -0.1}", "probability", "must be between 0 and 1"),
            ("reject-proposal: {probability: often}", "probability", "must be a number"),
            ("unresponsive: {at: 5 minutes}", "at", "'5 minutes' is not a duration; write 250ms, 2s, 5m or 1h"),
            ("delay-invoice: {duration: [1s]}", "duration", "must be a duration such as 250ms, 2s, 5m"),
            ("reject-proposal: hello", nil, "fault 'reject-proposal' must be a mapping of keys"),
            ("{reject-proposal: {}, withhold-invoice: {}}", nil, "a fault is a mapping with one key, its kind: reject-proposal, reject-agreement,"),
            ("withhold-invoice", nil, "a fault must be a mapping"),
            (
                "Reject-Proposal: {}", "Reject-Proposal",
                "unknown fault; known faults: reject-proposal, reject-agreement, fail-activity-creation, fail-command, terminate-agreement, unresponsive, stop-answering-polls, withhold-invoice, delay-invoice, debit-notes-too-fast"
            ),
        ]
        for (fault, key, says) in cases {
            expectFailure("name: f\nproviders:\n  - name: p\n    faults:\n      - \(fault)\n", line: 5, key: key, says: says)
        }
    }

    @Test func badDaemonSectionsNameTheLineTheKeyAndAHint() throws {
        let cases: [(String, String?, String)] = [
            ("{faults: [{kind: gsbError}]}", "kind", "unknown daemon fault 'gsbError'; known: gsb-error, timeout, gateway-timeout, drop-connection, delay, restart"),
            ("{faults: [{match: /exec/}]}", "kind", "a daemon fault needs 'kind'"),
            ("{faults: [{kind: delay, times: 0}]}", "times", "must be at least 1"),
            ("{faults: [{kind: delay, probability: 2}]}", "probability", "must be between 0 and 1"),
            ("{faults: [{kind: delay, duration: soon}]}", "duration", "'soon' is not a duration"),
            ("{faults: [{kind: delay, colour: red}]}", "colour", "unknown key in a daemon fault; known keys: kind, match, probability, after-batches, at, duration, times"),
            ("{faults: {kind: delay}}", "faults", "must be a list of daemon faults"),
            ("{faults: [gsb-error]}", nil, "a daemon fault must be a mapping of keys"),
            ("{subscription-ttl: 0s}", "subscription-ttl", "must be positive"),
            ("{latency: fast}", "latency", "'fast' is not a duration"),
            ("{retries: 3}", "retries", "unknown key in daemon; known keys: latency, faults, subscription-ttl"),
            ("[latency]", nil, "daemon must be a mapping of keys"),
        ]
        for (daemon, key, says) in cases {
            expectFailure("name: d\nproviders:\n  - name: p\ndaemon: \(daemon)\n", line: 4, key: key, says: says)
        }
    }

    /// A daemon fault without `kind` is told which kinds exist; those must be spellings the
    /// loader accepts (`gsb-error`), not the Swift case names it refuses (`gsbError`).
    @Test func theMissingKindHintListsSpellingsTheLoaderAccepts() throws {
        let error = failure("name: d\nproviders:\n  - name: p\ndaemon: {faults: [{match: /exec/}]}\n")
        #expect(error?.key == "kind" && error?.line == 4)
        #expect(error?.message.contains("gsb-error, timeout, gateway-timeout, drop-connection, delay, restart") == true, "\(String(describing: error))")
    }

    @Test func badJournalRulesNameTheLineTheKeyAndAHint() throws {
        let cases: [(String, Int, String?, String)] = [
            ("eventually: {api: market}\n    for: {api: market}", 6, "for", "does not apply to 'eventually'"),
            ("count: {api: market}\n    at-least: 3\n    at-most: 2", 5, "at-least", "is more than 'at-most'"),
            ("never: {api: market}\n    from: 10s\n    until: 5s", 5, "from", "is later than 'until'"),
            ("never: {api: bank}", 5, "api", "unknown API 'bank'; known: market, activity, payment, net, identity, version, registry"),
            ("never: {method: FETCH}", 5, "method", "must be GET, POST, PUT, DELETE or HEAD"),
            ("never: {status: 600}", 5, "status", "'600' is not a status; write 200, 4xx or a list"),
            ("never: {status: [200, 0xx]}", 5, "status", "'0xx' is not a status"),
            ("never: {op: \"nomarket.*\"}", 5, "op", "unknown operation 'nomarket.*'"),
            ("name: just a name", 5, nil, "an assertion has exactly one of: eventually, never, always, count"),
            ("eventually: {api: market}\n    within: later", 6, "within", "'later' is not a duration"),
            ("count: {api: market}\n    at-most: -1", 6, "at-most", "must be at least 0"),
            ("never: [api, market]", 5, nil, "'never' must be a mapping of keys"),
            ("always: {status: 200}\n    for: {colour: red}", 6, "colour", "unknown key in 'for'"),
        ]
        for (rule, line, key, says) in cases {
            expectFailure("name: x\nproviders:\n  - name: a\nassert:\n  - \(rule)\n", line: line, key: key, says: says)
        }
    }

    // MARK: - Known defects

    @Test func yamlErrorsOfEveryKindNameALine() throws {
        let tab = failure("name: x\nproviders:\n\t- name: p\n")
        #expect(tab?.line == 3, "\(String(describing: tab))")
        #expect(tab?.key == nil && tab?.message.hasPrefix("not valid YAML") == true)
        for (yaml, says) in [
            ("name: a\nproviders:\n  - name: p\n    count: 2\n    count: 3\n", "'count'"),
            ("name: *nope\nproviders:\n  - name: p\n", "undefined alias"),
            ("name: a\nproviders:\n  - name: p\n---\nname: b\n", "another document"),
        ] {
            let error = failure(yaml)
            #expect(error?.message.hasPrefix("not valid YAML") == true, "\(String(describing: error))")
            #expect(error?.message.contains(says) == true, "\(String(describing: error))")
            #expect(error?.line != nil, "\(yaml)")
        }
    }

    @Test func durationsAreExactToTheNanosecond() throws {
        let s = try Scenario.parse(yaml: """
            name: t
            providers:
              - name: p
                offer-delay: 1025ms
                invoice-delay: 1.001s
                faults:
                  - delay-invoice: {duration: 1025ms}
            """)
        let p = try #require(s.providers.first)
        #expect(p.offerDelay == .milliseconds(1025))
        #expect(p.invoiceDelay == .milliseconds(1001))
        #expect(s.describe(.provider(0, fault: 0)) == "provider p: delay-invoice: {duration: 1025ms}")
    }

    @Test func anAbsurdlyLongDurationIsAnErrorNotACrash() throws {
        let error = failure("name: x\nproviders:\n  - name: p\n    offer-delay: 10000000000s\n")
        #expect(error?.line == 4 && error?.key == "offer-delay", "\(String(describing: error))")
        #expect(error?.message.contains("too long") == true, "\(String(describing: error))")
        // The longest a clock holds still loads.
        #expect((try? Scenario.parse(yaml: "name: x\nproviders:\n  - name: p\n    offer-delay: 9000000000s\n"))?.providers.first?.offerDelay == .seconds(9_000_000_000))
    }

    @Test func aFaultWithALineBreakPrintsOnOneLineAndReadsBack() throws {
        let s = try Scenario.parse(yaml: "name: r\nproviders:\n  - name: p\n    faults:\n      - fail-command: {stderr: \"boom\\n\"}\n")
        let fault = try #require(s.providers.first?.faults.first)
        #expect(fault == .failCommand(match: "", exitCode: 1, stderr: "boom\n", Trigger()))
        let again = try? Scenario.parse(yaml: "name: r\nproviders:\n  - name: p\n    faults:\n      - \(fault.yamlText)\n")
        #expect(!fault.yamlText.contains("\n"), "\(fault.yamlText)")
        #expect(again?.providers.first?.faults == [fault])
    }

    // MARK: - Model helpers

    @Test func commandRulesMatchSubstringsOrSlashedRegularExpressions() throws {
        #expect(CommandRule(match: "//").pattern == nil)
        #expect(CommandRule(match: "//").matches("a//b") && !CommandRule(match: "//").matches("a/b"))
        #expect(CommandRule(match: "/x/").pattern == "x")
        #expect(CommandRule(match: "/^ls$/").matches("ls") && !CommandRule(match: "/^ls$/").matches("ls -l"))
        #expect(CommandRule(match: "date").captures("date -u") == ["date"])
        #expect(CommandRule(match: "date").captures("ls") == nil)
        #expect(CommandRule(match: "/(a)|(b)/").captures("xb") == ["b", "", "b"])
        #expect(CommandRule(match: "/--skip=(\\d+)/").captures("hashcat --skip=48 -o f") == ["--skip=48", "48"])
        #expect(CommandRule(match: "/--skip=(\\d+)/").captures("hashcat") == nil)
    }

    @Test func routePathsBindWholeSafeSegments() throws {
        let fixed = HTTPRoute(path: "/status")
        #expect(fixed.parameters.isEmpty)
        #expect(fixed.match("/status") == [:])
        #expect(fixed.match("/status/") == nil && fixed.match("/Status") == nil)
        let images = HTTPRoute(path: "/images/{name}")
        #expect(images.parameters == ["name"])
        #expect(images.match("/images/cat.png") == ["name": "cat.png"])
        #expect(images.match("/images/a%20b.png") == ["name": "a b.png"])
        for unsafe in ["/images/..", "/images/%2E%2E", "/images/.", "/images/a%2Fb", "/images/", "/images/a/b", "/images/%0A", "/other/x"] {
            #expect(images.match(unsafe) == nil, "\(unsafe)")
        }
        let two = HTTPRoute(path: "/a/{x}/b/{y-1}")
        #expect(two.parameters == ["x", "y-1"])
        #expect(two.match("/a/1/b/2") == ["x": "1", "y-1": "2"])
        #expect(two.match("/a/1/c/2") == nil)
        #expect(HTTPRoute(path: "/x/{a b}").parameters.isEmpty)
        #expect(HTTPRoute(path: "/x/{}").parameters.isEmpty)
    }
}

/// Journal rules (`assert:`) on a hand-made journal: which entries a matcher picks, and what a
/// broken rule says — its name, the time and the entries at fault.
@Suite struct JournalRuleCheckTests {
    static func entry(
        _ sequence: Int, _ startMs: Int64, _ tookMs: Int64, _ method: String, _ target: String, _ status: Int,
        request: String = "", response: String = "", frames: [String] = []
    ) -> JournalEntry {
        let start = startMs * 1_000_000
        let end = (startMs + tookMs) * 1_000_000
        return JournalEntry(
            sequence: sequence, startOffset: start, endOffset: end, method: method, target: target, requestBody: Array(request.utf8),
            status: status, responseBody: Array(response.utf8), frames: frames.map { (offset: end, event: ServerSentEvent(data: $0)) })
    }

    static let journal: [JournalEntry] = [
        entry(0, 0, 1, "GET", "/version/get", 200),
        entry(1, 10, 5, "POST", "/market-api/v1/demands", 201, request: #"{"properties":{"golem.runtime.name":"vm"}}"#, response: #""demand-1""#),
        entry(2, 20, 1000, "GET", "/market-api/v1/demands/demand-1/events?timeout=5&maxEvents=10", 200, response: "[]"),
        entry(3, 1500, 10, "POST", "/market-api/v1/agreements", 201),
        entry(4, 1600, 10, "POST", "/market-api/v1/agreements", 201),
        entry(5, 2000, 2, "POST", "/activity-api/v1/activity/a1/exec", 500, response: #"{"message":"GSB error: endpoint address not found"}"#),
        entry(6, 3000, 10, "GET", "/activity-api/v1/activity/a1/exec/b1?timeout=10", 200, frames: [#"{"index":0,"stdout":"hello"}"#]),
        entry(7, 5000, 20, "POST", "/payment-api/v1/invoices/inv-1/accept", 200),
        entry(8, 5100, 100, "GET", "/payment-api/v1/invoiceEvents?timeout=5", 200, response: "[]"),
    ]

    let end = Duration.seconds(9)

    func hits(_ m: ExchangeMatcher) -> [Int] { Self.journal.filter { m.matches($0) }.map(\.sequence) }

    func check(_ rule: JournalAssertion.Rule, name: String? = nil, from: Duration? = nil, until: Duration? = nil) -> [String] {
        JournalAssertion(rule, name: name, from: from, until: until).check(Self.journal, end: end)
    }

    @Test func everyMatcherFieldPicksItsEntriesAndAllMustHold() throws {
        #expect(hits(ExchangeMatcher()) == Array(0...8))
        #expect(hits(ExchangeMatcher(op: "version.get")) == [0])
        #expect(hits(ExchangeMatcher(op: "market.*")) == [1, 2, 3, 4])
        #expect(hits(ExchangeMatcher(op: "market.c*")) == [2, 3, 4])
        #expect(hits(ExchangeMatcher(op: "market.createAgreement")) == [3, 4])
        #expect(hits(ExchangeMatcher(op: "activity.getExecBatchResults")) == [6])
        #expect(hits(ExchangeMatcher(api: "payment")) == [7, 8])
        #expect(hits(ExchangeMatcher(api: "version")) == [0])
        #expect(hits(ExchangeMatcher(api: "net")).isEmpty)
        #expect(hits(ExchangeMatcher(method: "post")) == [1, 3, 4, 5, 7])
        // `path` looks at the query too; `/…/` is a regular expression.
        #expect(hits(ExchangeMatcher(path: "timeout=")) == [2, 6, 8])
        #expect(hits(ExchangeMatcher(path: "/exec/b[0-9]/")) == [6])
        #expect(hits(ExchangeMatcher(status: ["5xx"])) == [5])
        #expect(hits(ExchangeMatcher(status: ["2XX"])) == [0, 1, 2, 3, 4, 6, 7, 8])
        #expect(hits(ExchangeMatcher(status: ["404", "500"])) == [5])
        #expect(hits(ExchangeMatcher(request: "golem.runtime.name")) == [1])
        #expect(hits(ExchangeMatcher(response: "demand-1")) == [1])
        #expect(hits(ExchangeMatcher(response: "/GSB error/")) == [5])
        // SSE frames count as the response.
        #expect(hits(ExchangeMatcher(response: "hello")) == [6])
        #expect(hits(ExchangeMatcher(op: "market.createAgreement", path: "agreements", status: ["201"])) == [3, 4])
        #expect(hits(ExchangeMatcher(op: "market.createAgreement", method: "GET")).isEmpty)
    }

    @Test func statusPatternsAreCodesOrClasses() throws {
        for valid in ["100", "200", "599", "1xx", "4xx", "5XX"] { #expect(ExchangeMatcher.isStatusPattern(valid), "\(valid)") }
        for invalid in ["99", "600", "0xx", "6xx", "20x", "2x", "xxx", "abc", ""] { #expect(!ExchangeMatcher.isStatusPattern(invalid), "\(invalid)") }
    }

    @Test func matchersDescribeThemselvesForReports() throws {
        #expect(ExchangeMatcher().description == "{any exchange}")
        let all = ExchangeMatcher(op: "payment.*", api: "payment", method: "POST", path: "/invoices/", status: ["200", "2xx"], request: "{", response: "ok")
        #expect(all.description == "{op=payment.* api=payment method=POST path~/invoices/ status=200|2xx request~\"{\" response~\"ok\"}")
    }

    @Test func eventuallyHoldsWhenAMatchEndsByTheDeadline() throws {
        let accept = ExchangeMatcher(op: "payment.acceptInvoice")
        #expect(check(.eventually(accept, within: nil)).isEmpty)
        #expect(check(.eventually(accept, within: .milliseconds(5020))).isEmpty)
        #expect(check(.eventually(accept, within: .milliseconds(5010))) == [
            "assert 'eventually {op=payment.acceptInvoice}': nothing matched by 5.010s (the run ended at 9.000s); the first match came late: #7 @5.000s POST /payment-api/v1/invoices/inv-1/accept → 200"
        ])
        #expect(check(.eventually(ExchangeMatcher(status: ["404"]), within: nil)) == [
            "assert 'eventually {status=404}': nothing matched by 9.000s; the last exchange in the window: #8 @5.100s GET /payment-api/v1/invoiceEvents?timeout=5 → 200"
        ])
        // The window: entries starting before `from` do not count.
        let agreement = ExchangeMatcher(op: "market.createAgreement")
        #expect(check(.eventually(agreement, within: nil), from: .milliseconds(1600)).isEmpty)
        #expect(check(.eventually(agreement, within: nil), name: "late agreement", from: .milliseconds(1700)) == [
            "assert 'late agreement': nothing matched by 9.000s; the last exchange in the window: #8 @5.100s GET /payment-api/v1/invoiceEvents?timeout=5 → 200"
        ])
        #expect(check(.eventually(ExchangeMatcher(), within: nil), from: .seconds(6)) == ["assert 'eventually {any exchange}': nothing matched by 9.000s"])
    }

    @Test func neverNamesTheFirstOffenderAndItsWindowBoundsAreInclusive() throws {
        let errors = ExchangeMatcher(status: ["5xx"])
        let broken = "assert 'never {status=5xx}': 1 exchange(s) matched, the first at 2.000s: #5 @2.000s POST /activity-api/v1/activity/a1/exec → 500"
        #expect(check(.never(errors)) == [broken])
        #expect(check(.never(errors), from: .seconds(2)) == [broken])
        #expect(check(.never(errors), from: .milliseconds(2001)).isEmpty)
        #expect(check(.never(errors), until: .seconds(2)) == [broken])
        #expect(check(.never(errors), until: .milliseconds(1999)).isEmpty)
        // At most five entries are listed.
        #expect(check(.never(ExchangeMatcher()), name: "quiet") == [
            "assert 'quiet': 9 exchange(s) matched, the first at 0.000s: #0 @0.000s GET /version/get → 200; #1 @0.010s POST /market-api/v1/demands → 201; #2 @0.020s GET /market-api/v1/demands/demand-1/events?timeout=5&maxEvents=10 → 200; #3 @1.500s POST /market-api/v1/agreements → 201; #4 @1.600s POST /market-api/v1/agreements → 201; … 4 more"
        ])
    }

    @Test func alwaysChecksOnlyTheEntriesInItsScope() throws {
        #expect(check(.always(ExchangeMatcher(status: ["201"]), scope: ExchangeMatcher(api: "market", method: "POST"))).isEmpty)
        #expect(check(.always(ExchangeMatcher(status: ["201"]), scope: ExchangeMatcher(api: "net"))).isEmpty)
        #expect(check(.always(ExchangeMatcher(status: ["200"]), scope: ExchangeMatcher(method: "POST"))) == [
            "assert 'always {status=200} for {method=POST}': broken 4 time(s), first at 0.010s: #1 @0.010s POST /market-api/v1/demands → 201; #3 @1.500s POST /market-api/v1/agreements → 201; #4 @1.600s POST /market-api/v1/agreements → 201; #5 @2.000s POST /activity-api/v1/activity/a1/exec → 500"
        ])
    }

    @Test func countBoundsNameTheEntryOverTheLimit() throws {
        let agreement = ExchangeMatcher(op: "market.createAgreement")
        #expect(check(.count(agreement, atLeast: 2, atMost: 2)).isEmpty)
        #expect(check(.count(agreement, atLeast: nil, atMost: 1)) == [
            "assert 'count {op=market.createAgreement} at most 1': 2 matched, more than 1; the one over the limit at 1.600s: #4 @1.600s POST /market-api/v1/agreements → 201"
        ])
        #expect(check(.count(agreement, atLeast: 3, atMost: nil)) == [
            "assert 'count {op=market.createAgreement} at least 3': 2 matched, fewer than 3: #3 @1.500s POST /market-api/v1/agreements → 201; #4 @1.600s POST /market-api/v1/agreements → 201"
        ])
        #expect(check(.count(ExchangeMatcher(status: ["404"]), atLeast: 1, atMost: 2)) == ["assert 'count {status=404} at least 1, at most 2': 0 matched, fewer than 1"])
        #expect(check(.count(agreement, atLeast: nil, atMost: 0), until: .milliseconds(1550)) == [
            "assert 'count {op=market.createAgreement} at most 0': 1 matched, more than 0; the one over the limit at 1.500s: #3 @1.500s POST /market-api/v1/agreements → 201"
        ])
    }

    @Test func timesAreShownToTheMillisecond() throws {
        #expect(JournalAssertion.seconds(.milliseconds(3204)) == "3.204s")
        #expect(JournalAssertion.seconds(.milliseconds(5)) == "0.005s")
        #expect(JournalAssertion.seconds(.milliseconds(1050)) == "1.050s")
        #expect(JournalAssertion.seconds(.seconds(61)) == "61.000s")
        #expect(JournalAssertion.seconds(.nanoseconds(999_999)) == "0.000s")
        #expect(JournalAssertion.describe(Self.journal[2]) == "#2 @0.020s GET /market-api/v1/demands/demand-1/events?timeout=5&maxEvents=10 → 200")
    }

    @Test func controlCharactersInAFaultPrintAsEscapesAndReadBack() throws {
        let s = try Scenario.parse(yaml: "name: r\nproviders:\n  - name: p\n    faults:\n      - fail-command: {stderr: \"bell\\a nul\\0 sep\\L\"}\n")
        let fault = try #require(s.providers.first?.faults.first)
        #expect(fault == .failCommand(match: "", exitCode: 1, stderr: "bell\u{07} nul\u{00} sep\u{2028}", Trigger()))
        #expect(fault.yamlText.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x2028 }, "\(fault.yamlText)")
        let again = try Scenario.parse(yaml: "name: r\nproviders:\n  - name: p\n    faults:\n      - \(fault.yamlText)\n")
        #expect(again.providers.first?.faults == [fault])
    }
}
