import Foundation
import GolemExamples
import GolemRequestor
import GolemTesting
import Testing
import YagnaAPI
@testable import YagnaSimulator

/// The provider's built-in shell, command rules that leave files, and custom usage counters:
/// what real images' scripts and yapapi's examples need from a simulated provider.
@Suite struct CommandEffectTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// A provider engine with one deployed, started activity, and a way to run commands on it.
    struct Activity {
        var engine: ProviderEngine
        var now: Date
        var batches = 0

        /// Runs each line as `/bin/sh -c LINE` in one batch; the results of those that ran.
        mutating func sh(_ lines: String...) throws -> [ExeScriptCommandResult] {
            try run(lines.map { RunCommand(entryPoint: "/bin/sh", args: ["-c", $0], capture: .atEnd) })
        }

        mutating func run(_ commands: [RunCommand]) throws -> [ExeScriptCommandResult] {
            batches += 1
            let id = "b\(batches)"
            engine.exec(id, commands.map { .run($0) }, on: "act", at: now)
            let end = try #require(engine.batchEnd(id, on: "act"))
            now = end
            let polled = engine.results(id, on: "act", commandIndex: nil, at: end, final: true)
            let answer = try #require(polled)
            return try WireDecoder().decode([ExeScriptCommandResult].self, from: answer.body)
        }

        /// The stdout of one shell line that must succeed.
        mutating func out(_ line: String) throws -> String {
            let r = try #require(try sh(line).first)
            #expect(r.result == .ok, "\(line): \(r.message ?? "") \(r.stderr.map { "\($0)" } ?? "")")
            if case .text(let t)? = r.stdout { return t }
            return ""
        }
    }

    func activity(_ yaml: String, file: String = "<scenario>") throws -> Activity {
        let (e, now) = try ProviderEngine.started(yaml, file: file, at: t0)
        return Activity(engine: e, now: now)
    }

    static let plain = """
        name: t
        providers:
          - name: p
        """

    @Test func shellParsesWhatImagesSend() throws {
        let (pipelines, background) = try Shell.parse("touch a; hashcat -o 'x y' 2>/dev/null || true && cat a | wc -l > n &")
        #expect(background)
        #expect(pipelines.map(\.after) == [nil, ";", "||", "&&"])
        #expect(pipelines[1].commands[0].words == ["hashcat", "-o", "x y"])
        #expect(pipelines[1].commands[0].stderr?.path == "/dev/null")
        #expect(pipelines[3].commands.map(\.words) == [["cat", "a"], ["wc", "-l"]])
        #expect(pipelines[3].commands[1].stdout?.path == "n")
        #expect(try Shell.parse("echo \"a \\\"b\\\"\" c\\ d").pipelines[0].commands[0].words == ["echo", "a \"b\"", "c d"])
        #expect(try Shell.parse("make 2>&1").pipelines[0].commands[0].stderrToStdout)
        #expect(throws: Shell.SyntaxError.self) { try Shell.parse("echo 'open") }
        #expect(throws: Shell.SyntaxError.self) { try Shell.parse("echo a &&") }
        #expect(throws: Shell.SyntaxError.self) { try Shell.parse("| wc") }
    }

    @Test func shellRunsLikeAShell() throws {
        var a = try activity(Self.plain)
        #expect(try a.out("false; echo after") == "after\n")
        #expect(try a.out("false && echo no || echo yes") == "yes\n")
        #expect(try a.out("true || echo no") == "")
        #expect(try a.out("printf '%03d-%s|%-3s|\\n' 7 x ab") == "007-x|ab |\n")
        #expect(try a.out("printf 'l%s\\n' a b c > lines; wc -l lines; head -n 2 lines | tail -n 1; tail -1 lines") == "3 lines\nlb\nlc\n")
        #expect(try a.out("cat lines | grep -c l") == "3\n")
        #expect(try a.out("mkdir -p out/sub && touch out/sub/f && cp lines out/ && mv out/lines out/moved && ls out") == "moved\nsub\n")
        #expect(try a.out("rm out/moved && ls out && test -f out/moved || echo gone") == "sub\ngone\n")
        #expect(try a.out("echo -n abc > s && sha256sum s") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  s\n")
        #expect(try a.out("ls /golem/work/../work/out/sub") == "f\n")
        #expect(try a.out("cat nothing 2>&1 || true") == "cat: nothing: No such file or directory\n")
        #expect(try a.out("date +%F") == "2027-01-15\n")
        // `exit` ends the script with its code; a syntax error is sh's exit code 2.
        let exited = try a.sh("exit 3; echo no")
        #expect(exited.first?.result == .error && exited.first?.stdout == .text(""))
        #expect(exited.first?.message == "ExeScript command exited with code 3")
        #expect(try a.sh("echo 'open").first?.stderr == .text("/bin/sh: 1: Syntax error: Unterminated quoted string\n"))
        // Unknown programs succeed quietly by default.
        #expect(try a.sh("hashcat --version").first?.result == .ok)
    }

    /// Variables and command substitution, as scripts in real images use them (dapp-store's
    /// external-api-request: `GOLEM_PRICE=`curl …`; echo "Golem price: $GOLEM_PRICE USD"`).
    @Test func variablesAndCommandSubstitutionExpand() throws {
        var a = try activity("""
            name: t
            providers:
              - name: p
                commands:
                  - {match: '/^curl -s https:..api.example.com.price$/', stdout: "0.25\\n"}   # anchored: not the whole sh -c line
            """)
        #expect(try a.out("X=1; echo $X ${X} \"$X\" '$X' \\$X") == "1 1 1 $X $X\n")
        #expect(try a.out("P=`curl -s https://api.example.com/price`; echo \"Golem price: $P USD\"") == "Golem price: 0.25 USD\n")
        #expect(try a.out("echo \"now $(echo inner $(echo deeper))\"") == "now inner deeper\n")
        // The image's home, as the shell starts with it: the braced and bare forms agree.
        let home = try a.out("echo $HOME").trimmingCharacters(in: .newlines)
        #expect(home.hasPrefix("/") && home.count > 1)
        #expect(try a.out("echo ${UNSET:-fallback} [$UNSET] ${HOME}") == "fallback [] \(home)\n")
        #expect(try a.out("false; echo $?; true; echo $?") == "1\n0\n")
        #expect(try a.out("D=out; mkdir -p $D && echo hi > $D/f.txt && cat \"$D/f.txt\"") == "hi\n")
        // A prefix assignment is the command's alone; a subshell's stays in it.
        #expect(try a.out("Y=1 true; echo [$Y]; Z=$(Z=2; echo $Z); echo $Z") == "[]\n2\n")
        #expect(try a.out("echo -e 'a\\tb\\nc'; echo -ne x; echo -E 'd\\n'") == "a\tb\nc\nxd\\n\n")
        #expect(try a.out("echo 'cost: 5$'") == "cost: 5$\n")
        #expect(try a.out("export A=x B=\"$HOME/y\"; echo $A $B") == "x \(home)/y\n")
        #expect(try a.out("echo ${NO:-$HOME} ${NO:-\"x  y\"} ${NO:-${NONE:-z}}") == "\(home) x  y z\n")
        // printf with nothing to consume does not repeat its format; an empty target is refused.
        #expect(try a.out("printf '%%|' a b") == "%|")
        let refused = try a.sh("echo x > $UNSET")
        #expect(refused.first?.result == .error && refused.first?.stderr == .text("sh: 1: cannot create : Directory nonexistent\n"))
        #expect(throws: Shell.SyntaxError.self) { try Shell.parse("echo $(date") }
        #expect(throws: Shell.SyntaxError.self) { try Shell.parse("echo `date") }
        #expect(throws: Shell.SyntaxError.self) { try Shell.parse("echo ${X") }
    }

    @Test func unknownProgramsCanFailAsInARealImage() throws {
        var a = try activity("""
            name: t
            providers:
              - name: p
                unknown-program-exit-code: 127
            """)
        let r = try a.sh("hashcat --version", "echo never")
        #expect(r.count == 1 && r[0].result == .error && r[0].stderr == .text("sh: 1: hashcat: not found\n"))
        #expect(r[0].message == "ExeScript command exited with code 127")
        #expect(try a.out("hashcat --version || echo fallback") == "fallback\n")
    }

    /// Blender's and yacat's shapes: a file named from a JSON parameter file uploaded before
    /// the command, and a file named by the command line's capture groups.
    @Test func rulesLeaveFilesNamedFromTheCommandAndItsInputs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("golem-effects-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let frame: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0, 1, 2, 255]
        try Data(frame).write(to: dir.appendingPathComponent("frame.png"))
        let scenario = dir.appendingPathComponent("render.yaml").path
        var a = try activity(
            """
            name: render
            providers:
              - name: p
                commands:
                  - match: run-blender.sh
                    duration: 3s
                    files:
                      - path: /golem/output/out{json:/golem/work/params.json:frames.0|04}.png
                        from: frame.png
                  - match: '/--skip=(\\d+) --limit=(\\d+) -o (\\S+)/'
                    files:
                      - path: "{3}"
                        append: "hash:{1}-{2}\\n"
            """, file: scenario)
        #expect(try a.out("echo '{\"frames\": [10], \"samples\": 100}' > /golem/work/params.json") == "")
        let render = try a.run([RunCommand(entryPoint: "/golem/entrypoints/run-blender.sh", args: [])])
        #expect(render.first?.result == .ok)
        #expect(try a.out("ls /golem/output") == "out0010.png\n")
        #expect(try a.out("sha256sum /golem/output/out0010.png") == SHA256.hex(frame) + "  /golem/output/out0010.png\n")
        // The rule has no stdout of its own: the shell runs the line (touch), then the rule appends.
        let line = "touch /golem/output/y_0.potfile; hashcat -a 3 --skip=0 --limit=48 -o /golem/output/y_0.potfile || true"
        #expect(try a.out(line) == "")
        #expect(try a.out("cat /golem/output/y_0.potfile") == "hash:0-48\n")
    }

    @Test func rulesMayNotWriteOutsideTheVolumes() throws {
        let outside = #expect(throws: ScenarioError.self) {
            try Scenario.parse(yaml: """
                name: t
                providers:
                  - name: p
                    commands:
                      - match: x
                        files:
                          - {path: /golem/work/../../etc/passwd, content: "no"}
                """, file: "s.yaml")
        }
        #expect(outside?.description == "s.yaml:7: 'path': /etc/passwd is outside the provider's volumes; write under /golem/input, /golem/output, /golem/resource, /golem/work or list its directory in 'volumes'")
        let twoSources = #expect(throws: ScenarioError.self) {
            try Scenario.parse(yaml: """
                name: t
                providers:
                  - name: p
                    commands:
                      - match: x
                        files:
                          - {path: a, content: "a", append: "b"}
                """, file: "s.yaml")
        }
        #expect(twoSources?.line == 7)
        let missing = #expect(throws: ScenarioError.self) {
            try Scenario.parse(yaml: """
                name: t
                providers:
                  - name: p
                    commands:
                      - match: x
                        files:
                          - {path: a, from: no-such-file.bin}
                """, file: "/nowhere/s.yaml")
        }
        #expect(missing?.key == "from")
        // A templated path is checked when the command runs: the command fails, the node goes on.
        var a = try activity("""
            name: t
            providers:
              - name: p
                volumes: [/golem/work, /golem/out]
                commands:
                  - match: '/save (\\S+)/'
                    files:
                      - {path: "{1}", content: "data"}
            """)
        let refused = try a.sh("save /golem/output/x")
        #expect(refused.first?.result == .error)
        #expect(refused.first?.message?.contains("writes /golem/output/x, outside the activity's volumes (/golem/work, /golem/out)") == true)
        #expect(try a.sh("save /golem/out/x").first?.result == .ok)
        #expect(try a.out("cat /golem/out/x") == "data")
    }

    static let counters = """
        name: counters
        providers:
          - name: p
            pricing:
              start: 0.5
              per-cpu-second: 0.001
              per-duration-second: 0.0001
              counters:
                - {name: golem.usage.custom.counter, price: 0.01, initial: 10, per-second: 0.5}
                - {name: golem.usage.gpu-sec, price: 0.1}
            commands:
              - match: set-counter
                usage: {golem.usage.custom.counter: 100}
                duration: 1s
        """

    @Test func customCountersAreOfferedMeteredAndPriced() throws {
        var a = try activity(Self.counters)
        let offer = a.engine.offerProperties(0, nodeId: "0xp")
        #expect(offer["golem.com.usage.vector"] == ["golem.usage.duration_sec", "golem.usage.cpu_sec", "golem.usage.custom.counter", "golem.usage.gpu-sec"])
        #expect(offer["golem.com.pricing.model.linear.coeffs"] == [0.0001, 0.001, 0.01, 0.1, 0.5])
        let started = a.now.timeIntervalSince(t0)
        #expect(a.engine.usage("act", at: a.now) == [started, 0, 10 + 0.5 * started, 0])
        _ = try a.run([RunCommand(entryPoint: "set-counter", args: [])])
        let later = a.now.addingTimeInterval(4)
        let usage = a.engine.usage("act", at: later)
        #expect(usage.count == 4 && usage[2] == 100 + 0.5 * 4 && usage[1] == 1)
        // The requestor's reading of the same offer prices the same vector.
        let pricing = try #require(LinearPricing(offer))
        #expect(pricing.price(of: "golem.usage.gpu-sec") == 0.1 && pricing.fixedPrice == 0.5)
        #expect(pricing.cost(usage) == 0.5 + 0.0001 * usage[0] + 0.001 * usage[1] + 0.01 * usage[2])
        #expect(pricing.cost([1, 2]) == nil)
        let unknown = #expect(throws: ScenarioError.self) {
            try Scenario.parse(yaml: """
                name: t
                providers:
                  - name: p
                    commands:
                      - {match: x, usage: {golem.usage.custom.nope: 1}}
                """)
        }
        #expect(unknown?.description.contains("'golem.usage.custom.nope', which is not one of the provider's pricing counters") == true)
    }

    /// The Swift requestor reads a custom counter by name and prices it; the strategy honours a
    /// cap on a custom counter's price.
    @Test func theRequestorReadsAndPricesCustomCounters() async throws {
        let scenario = try Scenario.parse(yaml: Self.counters)
        let report = try await SimulatedNetwork.run(scenario: scenario) { golem in
            let results = try await golem.executeTasks(["x"], payload: Examples.image) { ctx, _ in
                let script = ctx.newScript()
                script.run("set-counter")
                try await ctx.execute(script)
                return try await ctx.usage()
            }
            let usage = try #require(results.first?.value)
            #expect(usage.counters.map(\.name) == ["golem.usage.duration_sec", "golem.usage.cpu_sec", "golem.usage.custom.counter", "golem.usage.gpu-sec"])
            let counter = try #require(usage["golem.usage.custom.counter"])
            #expect(counter >= 100 && counter < 101)
            let values = usage.counters.map(\.value)
            #expect(usage.cost == 0.5 + 0.0001 * values[0] + 0.001 * values[1] + 0.01 * values[2] + 0.1 * values[3])
        }
        #expect(report.passed, "\(report.failures)")
        var strategy = LeastExpensiveLinear()
        strategy.maxPrices["golem.usage.gpu-sec"] = 0.05
        let offer = Proposal(
            properties: NodeCore.offerProperties(scenario.providers[0], id: "0xp"), constraints: "()", proposalId: "R-1", issuerId: "0xp",
            state: .initial, timestamp: WireTimestamp(t0))
        #expect(throws: OfferRejection.self) { try strategy.score(offer, context: MarketContext()).get() }
        strategy.maxPrices["golem.usage.gpu-sec"] = 0.2
        #expect(try strategy.score(offer, context: MarketContext()).get() > 0)
    }

    /// A transfer from a URL the scenario declares fetches its bytes, with progress events on
    /// the batch's stream when asked; an undeclared URL is a transfer error, not a crash.
    @Test func urlTransfersFetchDeclaredContentWithProgress() throws {
        var a = try activity("""
            name: t
            providers:
              - name: p
                urls:
                  - {url: "https://models.example/model.bin", size: 3000000}
                  - {url: "https://example.com/hello.txt", content: "hello"}
            """)
        let batch: [ExeScriptCommand] = [
            .transfer(TransferCommand(from: "https://models.example/model.bin", to: "container:/golem/resource/model", progress: ProgressArgs(updateInterval: "250ms"))),
            .transfer(TransferCommand(from: "https://example.com/hello.txt", to: "container:/golem/work/hello.txt")),
        ]
        a.engine.exec("t1", batch, on: "act", at: a.now)
        let end = try #require(a.engine.batchEnd("t1", on: "act"))
        let stream = a.engine.frames("t1", on: "act", from: 0, at: end)
        #expect(stream.finished)
        let progress = stream.frames.compactMap { e -> RuntimeProgress? in if case .progress(let p) = e.kind { p } else { nil } }
        // 3 MB at 10 MB/s: 300 ms of transfer (plus the command's own 100 ms), a report every 250 ms and at the end.
        #expect(progress.count == 2)
        #expect(progress.map { $0.progress[1] } == [3_000_000, 3_000_000])
        let done = progress.compactMap { $0.progress[0] }
        #expect(done == done.sorted() && done.last == 3_000_000 && progress.allSatisfy { $0.unit == "Bytes" })
        #expect(stream.frames.allSatisfy { e in if case .progress = e.kind { e.index == 0 } else { true } })
        a.now = end
        #expect(try a.out("wc -c /golem/resource/model") == "3000000 /golem/resource/model\n")
        #expect(try a.out("cat hello.txt") == "hello")
        a.engine.exec("t2", [.transfer(TransferCommand(from: "https://elsewhere.example/x", to: "container:/golem/work/x"))], on: "act", at: a.now)
        let failedAt = try #require(a.engine.batchEnd("t2", on: "act"))
        let polled = a.engine.results("t2", on: "act", commandIndex: nil, at: failedAt, final: true)
        let failed = try WireDecoder().decode([ExeScriptCommandResult].self, from: try #require(polled).body)
        #expect(failed.first?.result == .error)
        #expect(failed.first?.message?.hasPrefix("Transfer error: Failed to download https://elsewhere.example/x") == true)
        #expect(ExeUnit.humanDuration("1s 500ms") == 1.5 && ExeUnit.humanDuration("300ms") == 0.3 && ExeUnit.humanDuration("soon") == nil)
    }
}
