import Foundation
import Testing
import YagnaAPI
@testable import YagnaSimulator

/// The exe-unit alone: its built-in shell (quoting, operators, redirections, programs), batches, transfers and paths.
@Suite struct ShellAndExeUnitTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)  // Fri Jan 15 08:00:00 UTC 2027

    static let plain = """
        name: t
        providers:
          - name: p
        """

    /// What one `sh -c` script gave: its output, error text and exit status.
    struct Run: Equatable {
        var out = ""
        var err = ""
        var code = 0
    }

    /// An exe-unit on one activity, and ways to run scripts and batches on it.
    struct Sandbox {
        var unit: ExeUnit

        /// Runs a script through the built-in shell as `sh -c` does (fresh variables each time).
        mutating func result(_ script: String) throws -> ExeUnit.ShellResult {
            var variables = ExeUnit.shellVariables
            let parsed = try Shell.parse(script)
            return unit.interpret(parsed.pipelines, variables: &variables)
        }

        mutating func sh(_ script: String) throws -> Run {
            let r = try result(script)
            return Run(out: String(decoding: r.stdout, as: UTF8.self), err: r.stderr, code: r.exitCode)
        }

        /// Runs a batch; its record (results and frames).
        mutating func batch(_ commands: [ExeScriptCommand]) -> BatchRecord {
            var record = BatchRecord(id: unit.batchId, commands: commands)
            unit.run(commands, into: &record)
            return record
        }

        func file(_ path: String) -> String? {
            unit.activity.files[path].map { String(decoding: $0, as: UTF8.self) }
        }
    }

    func sandbox(
        _ yaml: String = ShellAndExeUnitTests.plain, state: ActivityState = .ready, files: InMemoryFileExchange = InMemoryFileExchange()
    ) throws -> Sandbox {
        let core = NodeCore(scenario: try Scenario.parse(yaml: yaml), seed: 1, appKey: "", files: files)
        let activity = ActivityRecord(id: "act", agreementId: "A", provider: 0, state: state, created: t0, busyUntil: t0)
        return Sandbox(unit: ExeUnit(core: core, activity: activity, batchId: "b", start: t0))
    }

    /// A provider engine with a deployed, started activity `act`, and when its start batch ended.
    func engine() throws -> (ProviderEngine, Date) {
        try ProviderEngine.started(Self.plain, at: t0)
    }

    func decode(_ response: YagnaResponse?) throws -> [ExeScriptCommandResult] {
        let answer = try #require(response)
        #expect(answer.status == 200)
        return try WireDecoder().decode([ExeScriptCommandResult].self, from: answer.body)
    }

    /// A batch's frames in short: `index kind detail`.
    static func describe(_ frames: [(at: Date, event: RuntimeEvent)]) -> [String] {
        frames.map { frame -> String in
            let e = frame.event
            switch e.kind {
            case .started: return "\(e.index) started"
            case .stdout(let o): return "\(e.index) stdout \(o.text)"
            case .stderr(let o): return "\(e.index) stderr \(o.text)"
            case .finished(let code, let message): return "\(e.index) finished \(code) \(message ?? "-")"
            case .progress: return "\(e.index) progress"
            }
        }
    }

    /// Three shell commands; the second fails (exit 1) after printing, the third must never run.
    static let failingInTheMiddle: [ExeScriptCommand] = [
        .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "echo first; cat nope || true"], capture: .atEnd)),
        .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "echo partial; cat missing"], capture: .atEnd)),
        .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "echo never > never"], capture: .atEnd)),
    ]

    func words(_ script: String) throws -> [String] {
        try Shell.parse(script).pipelines.first?.commands.first?.words ?? []
    }

    // MARK: - Quoting and parsing

    @Test func singleAndDoubleQuotesAndBackslashesMakeWordsAsShDoes() throws {
        // Single quotes keep everything, operators and `$` included.
        #expect(try words(#"echo 'a  b' '$HOME' 'x\y' 'a"b' ';|&<>'"#) == ["echo", "a  b", "$HOME", #"x\y"#, #"a"b"#, ";|&<>"])
        // Inside double quotes only \" \\ \$ \` escape; any other backslash stays.
        #expect(try words(#"echo "a \"q\" \\ \$X \` \n end" "it's""#) == ["echo", #"a "q" \ $X ` \n end"#, "it's"])
        // Adjacent quoted and unquoted pieces are one word; empty quotes are an empty word.
        #expect(try words(#"a'b c'"d e"f ''"" x''y"#) == ["ab cd ef", "", "xy"])
        // Outside quotes a backslash takes the next character literally.
        #expect(try words(#"echo \;\|\& a\ b \\ \'x\'"#) == ["echo", ";|&", "a b", #"\"#, "'x'"])
        // Backslash-newline joins lines; a tab separates words.
        #expect(try words("echo a\\\nb\tc") == ["echo", "ab", "c"])
        let quoted = try Shell.parse(#"echo 'a;b' "c|d" e\;f"#)
        #expect(quoted.pipelines.count == 1 && quoted.pipelines[0].commands.count == 1)
        #expect(quoted.pipelines[0].commands[0].words == ["echo", "a;b", "c|d", "e;f"])
    }

    @Test func quotingSurvivesToTheCommandsOutput() throws {
        var s = try sandbox()
        #expect(try s.sh(#"echo 'a  b'"  c" d\ \ e"#) == Run(out: "a  b  c d  e\n"))
        #expect(try s.sh("echo a '' b") == Run(out: "a  b\n"))
        #expect(try s.sh(#"X='a  b'; echo "[$X]" '[$X]' [\$X] "[\$X]""#) == Run(out: "[a  b] [$X] [$X] [$X]\n"))
        #expect(try s.sh("echo a#b") == Run(out: "a#b\n"))
    }

    @Test func redirectionDigitsBindOnlyWhenTheyTouchTheArrow() throws {
        let expected: [Shell.Token] = [
            .word("echo"), .word("2"), .op(">"), .word("f"), .word("a2"), .op(">"), .word("g"),
            .op("2>"), .word("e"), .op(">"), .word("o"), .op("2>>"), .word("l"), .op("2>&1"),
        ]
        #expect(try Shell.tokens("echo 2 > f a2> g 2>e 1>o 2>>l 2>&1") == expected)
        let cmd = try #require(try Shell.parse("cat < in > out 2>> log").pipelines.first?.commands.first)
        #expect(cmd.words == ["cat"] && cmd.stdin == "in" && !cmd.stderrToStdout)
        #expect(cmd.stdout?.path == "out" && cmd.stdout?.append == false)
        #expect(cmd.stderr?.path == "log" && cmd.stderr?.append == true)
    }

    @Test func separatorsAndATrailingAmpersandShapeTheList() throws {
        #expect(try Shell.parse("echo a;").pipelines.count == 1)
        #expect(try Shell.parse("").pipelines.isEmpty)
        #expect(try Shell.parse(" \n\t\n ").pipelines.isEmpty)
        #expect(try Shell.parse("a\nb || c").pipelines.map(\.after) == [nil, ";", "||"])
        let inTheMiddle = try Shell.parse("sleep 1 & echo b")
        #expect(!inTheMiddle.background && inTheMiddle.pipelines.map(\.after) == [nil, ";"])
        #expect(try Shell.parse("serve &\n").background)
    }

    @Test func badScriptsAreSyntaxErrorsNamingWhatIsWrong() throws {
        let cases: [(String, String)] = [
            ("echo 'open", "Syntax error: Unterminated quoted string"),
            ("echo \"open", "Syntax error: Unterminated quoted string"),
            (#"echo "it's"'"#, "Syntax error: Unterminated quoted string"),
            ("&& echo a", "Syntax error: \"&&\" unexpected"),
            ("|| echo a", "Syntax error: \"||\" unexpected"),
            ("echo a && && echo b", "Syntax error: \"&&\" unexpected"),
            ("| wc", "Syntax error: \"|\" unexpected"),
            ("echo a | | wc", "Syntax error: \"|\" unexpected"),
            ("echo a &&", "Syntax error: end of file unexpected after \"&&\""),
            ("echo a ||  ", "Syntax error: end of file unexpected after \"||\""),
            ("echo >", "Syntax error: redirection \">\" without a file"),
            ("cat < ; ls", "Syntax error: redirection \"<\" without a file"),
            ("echo 2>", "Syntax error: redirection \"2>\" without a file"),
            ("echo ${}", "Syntax error: Bad substitution"),
            ("echo ${X:-abc", "Syntax error: Missing '}'"),
            ("echo $(date", "Syntax error: end of file unexpected (expecting \")\")"),
            ("echo \"$(date\"", "Syntax error: end of file unexpected (expecting \")\")"),
            ("echo `date", "Syntax error: EOF in backquote substitution"),
        ]
        for (script, message) in cases {
            #expect(throws: Shell.SyntaxError(message: message), "\(script)") { _ = try Shell.parse(script) }
        }
    }

    /// dash rejects a list that ends in `|`, an operator right after `|`, and a leading `;`.
    @Test func strayOperatorsAfterAPipeOrAtTheStartAreSyntaxErrors() throws {
        #expect(throws: Shell.SyntaxError.self) { _ = try Shell.parse("echo a |") }
        #expect(throws: Shell.SyntaxError.self) { _ = try Shell.parse("echo a | && echo b") }
        #expect(throws: Shell.SyntaxError.self) { _ = try Shell.parse("; echo a") }
    }

    @Test func aScriptThatDoesNotParseFailsItsCommandWithShsMessageAndCode2() throws {
        var s = try sandbox()
        let bashed = s.unit.builtin(RunCommand(entryPoint: "/bin/bash", args: ["-c", "echo \"open"]))
        #expect(!bashed.ok && bashed.exitCode == 2 && bashed.stdout == "")
        #expect(bashed.stderr == "/bin/bash: 1: Syntax error: Unterminated quoted string\n")
        let blank = s.unit.builtin(RunCommand(entryPoint: "sh", args: ["-c", "  \n "]))
        #expect(blank.ok && blank.exitCode == 0 && blank.stdout == "" && blank.stderr == "")
        // In a batch: the result and the stream's `finished` carry the code.
        let record = s.batch([
            .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "echo 'open"], capture: .atEnd)),
            .run(RunCommand(entryPoint: "/bin/echo", args: ["never"], capture: .atEnd)),
        ])
        let results = record.results.map { $0.result }
        #expect(results.count == 1 && results[0].result == .error && results[0].isBatchFinished)
        #expect(results[0].stdout == .text("") && results[0].message == "ExeScript command exited with code 2")
        #expect(record.events.last?.event.kind == .finished(returnCode: 2, message: "ExeScript command exited with code 2"))
    }

    // MARK: - Lists and pipelines

    @Test func andOrAndSemicolonFollowTheLastStatus() throws {
        var s = try sandbox()
        let cases: [(String, Run)] = [
            ("true && false || echo c; echo $?", Run(out: "c\n0\n")),
            ("false || false && echo d", Run(code: 1)),
            ("true || false && echo e", Run(out: "e\n")),
            ("false && echo x", Run(code: 1)),
            ("true; false", Run(code: 1)),
            ("false; true", Run()),
            ("false && echo no; echo yes", Run(out: "yes\n")),
            ("echo a\necho b", Run(out: "a\nb\n")),
            ("false\necho $?", Run(out: "1\n")),
            ("X=1 && echo $X", Run(out: "1\n")),
            ("false; X=2; echo $?", Run(out: "0\n")),
            ("false || exit 4; echo unreached", Run(code: 4)),
            ("true && exit 5 || echo no", Run(code: 5)),
        ]
        for (script, expected) in cases {
            #expect(try s.sh(script) == expected, "\(script)")
        }
    }

    @Test func pipesCarryOutputAndThePipelineEndsWithItsLastCommandsStatus() throws {
        var s = try sandbox()
        let cases: [(String, Run)] = [
            ("false | true", Run()),
            ("true | false", Run(code: 1)),
            ("true | false; echo $?", Run(out: "1\n")),
            (#"printf 'b\na\nc\n' | head -n 2 | tail -n 1"#, Run(out: "a\n")),
            (#"printf '1\n2\n3\n4\n' | head -3"#, Run(out: "1\n2\n3\n")),
            (#"printf '1\n2\n3\n4\n' | tail -n1"#, Run(out: "4\n")),
            ("printf abcdef | head -c 3", Run(out: "abc")),
            ("printf abcdef | tail -c 2", Run(out: "ef")),
            ("echo hello world | wc -w", Run(out: "2\n")),
            ("echo abc | wc -c", Run(out: "4\n")),
            ("echo x | grep -c y", Run(out: "0\n", code: 1)),
            (#"printf 'k1\nx\nk2\n' | grep k"#, Run(out: "k1\nk2\n")),
            (#"printf 'k1\nx\n' | grep -v k"#, Run(out: "x\n")),
            // Every command's errors reach the script's stderr; the status is the last one's.
            ("cat missing | echo x", Run(out: "x\n", err: "cat: missing: No such file or directory\n")),
            ("cat missing | wc -c", Run(out: "0\n", err: "cat: missing: No such file or directory\n")),
            ("echo data | cat > piped; cat piped", Run(out: "data\n")),
        ]
        for (script, expected) in cases {
            #expect(try s.sh(script) == expected, "\(script)")
        }
    }

    // MARK: - Redirections

    @Test func redirectionsWriteAppendReadAndMergeStreams() throws {
        var s = try sandbox()
        #expect(try s.sh("echo one > f; echo two >> f; cat f") == Run(out: "one\ntwo\n"))
        #expect(s.file("/golem/work/f") == "one\ntwo\n")
        #expect(try s.sh("echo three > f; cat f") == Run(out: "three\n"))
        #expect(try s.sh("cat missing 2> err; cat missing 2>> err; cat err") == Run(out: String(repeating: "cat: missing: No such file or directory\n", count: 2)))
        #expect(try s.sh("cat missing > both 2>&1; cat both") == Run(out: "cat: missing: No such file or directory\n"))
        #expect(try s.sh("echo hidden > /dev/null; echo $?") == Run(out: "0\n"))
        #expect(s.unit.activity.files["/dev/null"] == nil)
        #expect(try s.sh("wc -l < f") == Run(out: "1\n"))
        #expect(try s.sh("cat < f > copy; cat copy") == Run(out: "three\n"))
        #expect(try s.sh("echo hi 1> g; echo 2 > h; cat g h") == Run(out: "hi\n2\n"))
        // An input that is not there: sh's own message, status 2, and the command does not run.
        #expect(try s.sh("echo ran < nowhere > ran; echo $?") == Run(out: "2\n", err: "sh: 1: cannot open nowhere: No such file\n"))
        #expect(s.file("/golem/work/ran") == nil)
        // Relative targets resolve under /golem/work, `..` included.
        #expect(try s.sh("echo up > ../output/u.txt; cat /golem/output/u.txt") == Run(out: "up\n"))
        #expect(s.file("/golem/output/u.txt") == "up\n")
    }

    @Test func aRedirectionOrMkdirUnderAMissingDirectoryFailsAsShDoes() throws {
        var s = try sandbox()
        let redirected = try s.sh("echo hi > nodir/f")
        #expect(redirected.code == 2 && redirected.err.hasSuffix("cannot create nodir/f: Directory nonexistent\n"))
        #expect(s.file("/golem/work/nodir/f") == nil)
        let made = try s.sh("mkdir a/b")
        #expect(made.code == 1 && made.err.contains("No such file or directory"))
    }

    /// `2>&1 >f` sends errors to the old stdout (order matters); `>&2` writes stdout to stderr.
    @Test func descriptorDuplicationFollowsTheOrderOfRedirections() throws {
        var s = try sandbox()
        #expect(try s.sh("cat nope 2>&1 > /dev/null") == Run(out: "cat: nope: No such file or directory\n", code: 1))
        #expect(try s.sh("echo oops >&2; echo fine") == Run(out: "fine\n", err: "oops\n"))
        #expect(try s.sh("echo oops 1>&2") == Run(err: "oops\n"))
    }

    @Test func devNullCanBeReadAsWellAsWritten() throws {
        var s = try sandbox()
        #expect(try s.sh("cat < /dev/null; cat /dev/null") == Run())
    }

    // MARK: - Programs

    @Test func echoReadsItsFlagsAsBashDoes() throws {
        var s = try sandbox()
        let cases: [(String, Run)] = [
            ("echo", Run(out: "\n")),
            ("echo -n", Run()),
            ("echo -n a b", Run(out: "a b")),
            ("echo -e -n x", Run(out: "x")),
            ("echo -nx a", Run(out: "-nx a\n")),
            ("echo - a", Run(out: "- a\n")),
            ("echo -- a", Run(out: "-- a\n")),
            ("echo x -n", Run(out: "x -n\n")),
            (#"echo '\t'"#, Run(out: "\\t\n")),
            (#"echo -en 'x\ty'"#, Run(out: "x\ty")),
            // `-e` escapes backslashes only: a `%` stays itself.
            (#"echo -e '100%s done'"#, Run(out: "100%s done\n")),
        ]
        for (script, expected) in cases {
            #expect(try s.sh(script) == expected, "\(script)")
        }
    }

    @Test func printfFormatsWidthsAndReusesItsFormat() throws {
        var s = try sandbox()
        let cases: [(String, Run)] = [
            (#"printf '%s-%s\n' a b c"#, Run(out: "a-b\nc-\n")),
            (#"printf '%s=%d\n' a 1 b 2"#, Run(out: "a=1\nb=2\n")),
            (#"printf '%d\n' 1 2 3"#, Run(out: "1\n2\n3\n")),
            (#"printf '[%5s|%-5s]' ab cd"#, Run(out: "[   ab|cd   ]")),
            (#"printf '%x|%i' 255 42"#, Run(out: "ff|42")),
            (#"printf '[%-05d]' 7"#, Run(out: "[7    ]")),
            (#"printf '%3d|' 12345"#, Run(out: "12345|")),
            (#"printf '100%%\n'"#, Run(out: "100%\n")),
            (#"printf '%s\t%s\n' k v"#, Run(out: "k\tv\n")),
            (#"printf 'a\\b|a\qb'"#, Run(out: #"a\b|a\qb"#)),
            (#"printf '%s'"#, Run()),
            ("printf", Run(err: "printf: usage: printf format [arg ...]\n", code: 2)),
        ]
        for (script, expected) in cases {
            #expect(try s.sh(script) == expected, "\(script)")
        }
        // Missing numbers are 0 on the last pass; a format with nothing to consume is used once.
        #expect(Shell.printf("%d-%d\n", ["1", "2", "3"]) == "1-2\n3-0\n")
        #expect(Shell.printf("x", ["a", "b"]) == "x")
    }

    @Test func printfZeroPadsANegativeNumberAfterItsSign() throws {
        #expect(Shell.printf("%05d|%5d", ["-42", "-42"]) == "-0042|  -42")
    }

    @Test func catOfAMissingFileFailsWithCoreutilsMessage() throws {
        var s = try sandbox()
        #expect(try s.sh("cat missing") == Run(err: "cat: missing: No such file or directory\n", code: 1))
        #expect(try s.sh("echo a > a; echo b > b; cat a b") == Run(out: "a\nb\n"))
        let partly = try s.sh("cat a missing")
        #expect(partly.err == "cat: missing: No such file or directory\n" && partly.code == 1)
        #expect(partly.out == "a\n")
    }

    @Test func lsListsDirectChildrenSortedAndNamesAFileItself() throws {
        var s = try sandbox()
        #expect(try s.sh("ls") == Run())
        #expect(try s.sh("ls /golem/output") == Run())
        #expect(try s.sh("mkdir -p a/b/c && touch a/f z && ls a; ls") == Run(out: "b\nf\na\nz\n"))
        #expect(try s.sh("ls a/b") == Run(out: "c\n"))
        #expect(try s.sh("ls z") == Run(out: "z\n"))
        #expect(try s.sh("ls missing") == Run(err: "ls: cannot access 'missing': No such file or directory\n", code: 2))
    }

    @Test func mkdirRefusesWhatExistsUnlessDashP() throws {
        var s = try sandbox()
        #expect(try s.sh("mkdir d; mkdir d") == Run(err: "mkdir: cannot create directory 'd': File exists\n", code: 1))
        #expect(try s.sh("mkdir -p d") == Run())
        #expect(try s.sh("mkdir /golem/output") == Run(err: "mkdir: cannot create directory '/golem/output': File exists\n", code: 1))
        #expect(try s.sh("mkdir e && test -d e && echo yes") == Run(out: "yes\n"))
        #expect(try s.sh("mkdir -p x/y/z && ls x/y") == Run(out: "z\n"))
    }

    @Test func rmRemovesFilesAndTreesAndComplainsOtherwise() throws {
        var s = try sandbox()
        #expect(try s.sh("touch f; rm f; test -f f || echo gone") == Run(out: "gone\n"))
        #expect(try s.sh("rm missing") == Run(err: "rm: cannot remove 'missing': No such file or directory\n", code: 1))
        #expect(try s.sh("rm -f missing") == Run())
        #expect(try s.sh("rm -rf missing") == Run())
        #expect(try s.sh("mkdir -p d/e; touch d/e/f d/g; rm -r d; test -e d || echo nod") == Run(out: "nod\n"))
        #expect(!s.unit.activity.files.keys.contains { $0.hasPrefix("/golem/work/d/") })
        #expect(!s.unit.activity.directories.contains { $0.hasPrefix("/golem/work/d") })
        // A directory without -r stays, and rm fails.
        let refused = try s.sh("mkdir -p k; touch k/f; rm k")
        #expect(refused.code == 1 && s.file("/golem/work/k/f") == "")
        #expect(refused.err == "rm: cannot remove 'k': Is a directory\n")
    }

    @Test func testAndBracketEvaluateStringsNumbersAndFiles() throws {
        var s = try sandbox()
        let cases: [(String, Int)] = [
            ("test", 1), ("test ''", 1), ("test x", 0), ("[ ]", 1),
            ("[ -n '' ]", 1), ("[ -z '' ]", 0), ("[ -n a ]", 0),
            ("[ 3 -lt 10 ]", 0), ("[ 10 -gt 9 ]", 0), ("[ 007 -eq 7 ]", 0), ("[ 1 -ne 1 ]", 1),
            ("[ abc = abc ]", 0), ("[ abc != abc ]", 1), ("[ a == b ]", 1),
            ("[ ! -f missing ]", 0), ("[ ! x ]", 1),
            ("[ \"$HOME\" = /root ]", 0),
            ("[ -d /golem/output ]", 0), ("[ -d /golem/nope ]", 1), ("[ -f /golem/output ]", 1), ("[ -e /golem/work ]", 0),
        ]
        for (script, code) in cases {
            #expect(try s.sh(script).code == code, "\(script)")
        }
        #expect(try s.sh("touch e; echo x > s; [ -f e ] && [ ! -s e ] && [ -s s ] && [ ! -d s ] && echo sized") == Run(out: "sized\n"))
        #expect(try s.sh("[ -f e") == Run(err: "[: missing ']'\n", code: 2))
    }

    @Test func trueFalseColonAndExitSetTheStatus() throws {
        var s = try sandbox()
        let cases: [(String, Run)] = [
            (":", Run()), ("true", Run()), ("false", Run(code: 1)),
            ("echo before; exit 7; echo after", Run(out: "before\n", code: 7)),
            ("exit", Run()),
            ("exit 0; false", Run()),
            ("exit abc", Run(code: 2)),
            // `exit` in a command substitution ends the subshell only.
            ("echo $(exit 3; echo no)x; echo $?", Run(out: "x\n0\n")),
        ]
        for (script, expected) in cases {
            #expect(try s.sh(script) == expected, "\(script)")
        }
        #expect(try s.result("exit 9; echo no").exited)
    }

    @Test func exitWithoutANumberKeepsTheLastStatus() throws {
        var s = try sandbox()
        #expect(try s.sh("false; exit") == Run(code: 1))
    }

    @Test func cdAndPwdWorkInTheActivitysFileSystem() throws {
        var s = try sandbox()
        #expect(try s.sh("cd /golem/work && echo ok") == Run(out: "ok\n"))
        #expect(try s.sh("cd /golem/output && pwd") == Run(out: "/golem/output\n"))
        #expect(try s.sh("cd /golem/output; touch here; ls /golem/output") == Run(out: "here\n"))
        #expect(try s.sh("cd nowhere").code != 0)
    }

    @Test func sleepTakesVirtualTimeAndRefusesBadIntervals() throws {
        var s = try sandbox()
        let slept = try s.result("sleep 1.5; sleep 0.5")
        #expect(slept.duration == .seconds(2) && slept.exitCode == 0)
        #expect(try s.result("false && sleep 5").duration == .zero)
        #expect(try s.sh("sleep abc") == Run(err: "sleep: invalid time interval 'abc'\n", code: 1))
        #expect(try s.sh("sleep -1") == Run(err: "sleep: invalid time interval '-1'\n", code: 1))
        // A script sent to the background returns at once: it costs what `true` costs.
        let background = s.unit.builtin(RunCommand(entryPoint: "/bin/sh", args: ["-c", "sleep 30 &"])).duration
        let quick = s.unit.builtin(RunCommand(entryPoint: "/bin/sh", args: ["-c", "true"])).duration
        #expect(background == quick)
        #expect(s.unit.builtin(RunCommand(entryPoint: "/bin/sh", args: ["-c", "sleep 30"])).duration == quick + .seconds(30))
    }

    @Test func dateAndHostnameReadTheActivitysClockAndProvider() throws {
        var s = try sandbox()
        #expect(try s.sh("date") == Run(out: "Fri Jan 15 08:00:00 UTC 2027\n"))
        #expect(try s.sh("date +%s") == Run(out: "1800000000\n"))
        #expect(try s.sh("date -u +%H:%M") == Run(out: "08:00\n"))
        #expect(try s.sh("hostname") == Run(out: "p\n"))
        #expect(try s.sh("hostname -I") == Run(out: "\n"))
        #expect(Shell.dateText(Date(timeIntervalSince1970: 0)) == "Thu Jan  1 00:00:00 UTC 1970")
        #expect(Shell.dateText(t0.addingTimeInterval(20 * 86400 + 3723)) == "Thu Feb  4 09:02:03 UTC 2027")
        #expect(ExeUnit.dateFormat("%F %T|%H%M%S|%Q|%%", t0) == "2027-01-15 08:00:00|080000|%Q|%")
    }

    // MARK: - Variables

    @Test func expansionsFollowQuotingAndSubstitutionsDropTrailingNewlines() throws {
        var s = try sandbox()
        #expect(try s.sh("X=1 Y=2; echo $X$Y ${X}0 $ a$") == Run(out: "12 10 $ a$\n"))
        #expect(try s.sh(#"echo "[$(printf 'a\n\n')]" "$(echo a; echo b)""#) == Run(out: "[a] a\nb\n"))
        #expect(try s.sh("X='a  b'; echo \"$X\"") == Run(out: "a  b\n"))
        // After the command name `A=1` is an argument; a prefix assignment is not seen by its own words.
        #expect(try s.sh("echo A=1; A=2 echo [$A]") == Run(out: "A=1\n[]\n"))
        #expect(Shell.assignment("A=1").map { [$0.name, $0.value] } == ["A", "1"])
        #expect(Shell.assignment("_x9=").map { [$0.name, $0.value] } == ["_x9", ""])
        #expect(Shell.assignment("A==b").map { [$0.name, $0.value] } == ["A", "=b"])
        for word in ["=x", "1A=x", "A-B=x", "A", "é=1"] {
            #expect(Shell.assignment(word).map { $0.name } == nil, "\(word)")
        }
    }

    @Test func unquotedExpansionsAreSplitIntoFields() throws {
        var s = try sandbox()
        #expect(try s.sh("X='a  b'; echo $X") == Run(out: "a b\n"))
        #expect(try s.sh("F='x y'; touch $F; ls") == Run(out: "x\ny\n"))
        // Quoted, the value stays one field; an assignment is never split.
        #expect(try s.sh(#"X='a  b'; echo "$X"; Y=$X; echo "$Y""#) == Run(out: "a  b\na  b\n"))
        // Literal text joins the first and last fields; blanks at the ends make no empty fields.
        #expect(try s.sh("X=' 1 2 '; printf '[%s]' pre$X'post'; echo") == Run(out: "[pre][1][2][post]\n"))
        #expect(try s.sh("X='1 2'; printf '[%s]' a${X}b; echo") == Run(out: "[a1][2b]\n"))
        // An unset or blank unquoted expansion is no field at all; an empty quoted one is one.
        #expect(try s.sh(#"printf '[%s]' $NONE x "$NONE"; echo"#) == Run(out: "[x][]\n"))
        // Empty quotes beside an empty expansion still make a field.
        #expect(try s.sh(#"x=; printf '[%s]' ""$x; echo; printf '[%s]' ${u:-"" b}; echo; printf '[%s]' $x''; echo"#) == Run(out: "[]\n[][b]\n[]\n"))
        // Command substitutions and defaults split too; tabs and newlines are blanks.
        #expect(try s.sh("printf '[%s]' $(printf 'a\\tb\\nc'); echo") == Run(out: "[a][b][c]\n"))
        #expect(try s.sh("printf '[%s]' ${NONE:-d e}; echo") == Run(out: "[d][e]\n"))
        #expect(try s.sh(#"X='1 2'; printf '[%s]' ${NONE:-"q  r" $X}; echo"#) == Run(out: "[q  r][1][2]\n"))
        // `export` takes its assignments whole.
        #expect(try s.sh(#"X='a b'; export Y=$X; echo "$Y""#) == Run(out: "a b\n"))
    }

    /// Unquoted `*`, `?` and `[…]` match the activity's files, sorted, as sh's pathname
    /// expansion does; a pattern that matches nothing stays as written (each checked against dash).
    @Test func unquotedPatternsMatchTheActivitysFiles() throws {
        var s = try sandbox()
        #expect(try s.sh("mkdir -p d/e; touch b.txt a.txt c.log .hidden d/x.txt d/e/y.txt; echo *.txt; echo *") == Run(out: "a.txt b.txt\na.txt b.txt c.log d\n"))
        #expect(try s.sh("echo ?.txt [ab].txt [!a]*.txt d/*.txt */*.txt d/*/*.txt") == Run(out: "a.txt b.txt a.txt b.txt b.txt d/x.txt d/x.txt d/e/y.txt\n"))
        // Dot files only for a pattern that starts with a dot; absolute patterns stay absolute.
        #expect(try s.sh("echo .h* /golem/work/d/*.txt") == Run(out: ".hidden /golem/work/d/x.txt\n"))
        // No match: the word as written. Quoted: no matching at all.
        #expect(try s.sh(#"echo *.png "*.txt" '*' a\*"#) == Run(out: "*.png *.txt * a*\n"))
        // Patterns from unquoted expansions match too; assignments do not match.
        #expect(try s.sh(#"P='*.log'; echo $P "$P"; Q=*.txt; echo "$Q""#) == Run(out: "c.log *.log\n*.txt\n"))
        // Programs get the matches as arguments.
        #expect(try s.sh("rm *.txt; ls") == Run(out: "c.log\nd\n"))
        // `ls` shows dot files only when asked.
        #expect(try s.sh("ls -A") == Run(out: ".hidden\nc.log\nd\n"))
        #expect(try s.sh("ls -a") == Run(out: ".\n..\n.hidden\nc.log\nd\n"))
        // `[` as the test command still works.
        #expect(try s.sh("[ -f c.log ] && echo yes") == Run(out: "yes\n"))
        // `./` and `../` in a pattern move in the tree and are shown as written.
        #expect(try s.sh("echo ./*; cd d; echo ../c*; cd ..") == Run(out: "./c.log ./d\n../c.log\n"))
        // Commands given several matches: ls names files then folders, cp copies into a folder,
        // grep names each file.
        #expect(try s.sh("touch a b; ls a b d") == Run(out: "a\nb\n\nd:\ne\nx.txt\n"))
        #expect(try s.sh("echo x > a; echo y > b; mkdir out; cp a b out/; ls out; grep -c x a b; grep x a b") == Run(out: "a\nb\na:1\nb:0\na:x\n"))
        #expect(try s.sh("ls a nope") == Run(out: "a\n", err: "ls: cannot access 'nope': No such file or directory\n", code: 2))
    }

    /// `for`, `while`, `until` and `if` with `break`/`continue`, as dash runs them (each
    /// checked against dash).
    @Test func loopsAndConditionalsRunAsDashRunsThem() throws {
        var s = try sandbox()
        #expect(try s.sh(#"for i in 1 2 3; do echo "n$i"; done"#) == Run(out: "n1\nn2\nn3\n"))
        // Over matches of a pattern, output redirected as a whole.
        #expect(try s.sh(#"for f in x y; do touch $f.txt; done; for f in *.txt; do echo "got $f"; done > list; cat list"#) == Run(out: "got x.txt\ngot y.txt\n"))
        #expect(
            try s.sh("for i in a b c d; do if [ $i = b ]; then continue; fi; if [ $i = d ]; then break; fi; echo $i; done") == Run(out: "a\nc\n"))
        #expect(try s.sh("i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo w$i; done; until [ $i -eq 0 ]; do i=$((i-1)); done; echo u$i") == Run(out: "w1\nw2\nw3\nu0\n"))
        #expect(try s.sh("if false; then echo no; elif true; then echo elif; else echo else; fi") == Run(out: "elif\n"))
        #expect(try s.sh(#"if false; then echo x; fi; echo "rc=$?"; for x in; do echo never; done; echo "empty=$?""#) == Run(out: "rc=0\nempty=0\n"))
        #expect(try s.sh("for i in 1 2; do for j in a b; do [ $j = b ] && continue 2; echo $i$j; done; done") == Run(out: "1a\n2a\n"))
        #expect(try s.sh("for w in $(echo p q); do echo $w; done | wc -l") == Run(out: "2\n"))
        // Across lines, as a script file would have them.
        #expect(try s.sh("for i in 1 2\ndo\n  echo $i\ndone\nif [ -f list ]\nthen\n  echo listed\nfi") == Run(out: "1\n2\nlisted\n"))
        // Outside a loop `break` and `continue` do nothing; a count beyond the loops leaves them all.
        #expect(try s.sh("break; echo after; continue; echo after2") == Run(out: "after\nafter2\n"))
        #expect(try s.sh("for i in 1 2 3; do break 5; done; echo after3; for i in 1 2; do for j in a b; do echo $i$j; break 9; done; done; echo end") == Run(out: "after3\n1a\nend\n"))
        // A compound command may close its enclosing one at once; -le and -ge compare.
        #expect(try s.sh("for x in a; do if true; then echo y; fi done; i=1; while [ $i -le 3 ]; do echo $i; i=$((i+1)); done; until [ $i -ge 5 ]; do i=$((i+1)); done; echo $i") == Run(out: "y\n1\n2\n3\n5\n"))
        // A redirection's target is expanded once (its command substitution runs once).
        #expect(try s.sh("echo hi > $(echo x >> count; echo out); cat count out; for i in 1 2; do echo $i; done > $(echo y >> count; echo loop); cat count loop") == Run(out: "x\nhi\nx\ny\n1\n2\n"))
        // A background job's `exit` ends only the job.
        #expect(try s.sh("exit 3 & echo hi") == Run(out: "hi\n"))
        // `exit` inside a loop ends the script.
        #expect(try s.sh("for i in 1 2; do echo $i; exit 3; done; echo after") == Run(out: "1\n", code: 3))
        // Unclosed: dash's syntax errors.
        #expect(throws: Shell.SyntaxError(message: "Syntax error: end of file unexpected (expecting \"done\")")) { try Shell.parse("for i in 1; do echo") }
        #expect(throws: Shell.SyntaxError(message: "Syntax error: end of file unexpected (expecting \"fi\")")) { try Shell.parse("if true; then echo") }
        #expect(throws: Shell.SyntaxError(message: "Syntax error: \"done\" unexpected")) { try Shell.parse("echo a; done") }
        // Empty lists and words after a compound command, as dash refuses them.
        for (script, message) in [
            ("do done", #""do" unexpected"#), ("if then fi", #""then" unexpected"#), ("while true; do done", #""done" unexpected"#),
            ("for x in a; do echo; done foo", "word unexpected"),
        ] {
            #expect(throws: Shell.SyntaxError(message: "Syntax error: " + message)) { try Shell.parse(script) }
        }
        // A loop that would never end is stopped, and says so; so are nested loops that together
        // run too long, and a loop whose condition only continues.
        for script in ["while true; do :; done; echo after", "i=0; while [ $i -lt 200 ]; do j=0; while [ $j -lt 200 ]; do j=$((j+1)); done; i=$((i+1)); done", "while continue; do :; done"] {
            let endless = try s.sh(script)
            #expect(endless.code == 2 && endless.out.isEmpty && endless.err.contains("stopped a loop after 10000 rounds"), "\(script)")
        }
    }

    /// `$((…))` as dash evaluates it (each expectation checked against dash).
    @Test func arithmeticExpansionEvaluatesAsDashDoes() throws {
        var s = try sandbox()
        #expect(
            try s.sh("echo $(( 7 / 2 )) $(( -7 / 2 )) $(( -7 % 3 )) $((0x10 + 010)) $((1<<3)) $((3>2)) $((1?4:5)) $((!0)) $((~0)) $((Y)) $((Z+2))")
                == Run(out: "3 -3 -1 24 8 1 4 1 -1 0 2\n"))
        #expect(try s.sh("Z=3; echo $((Z*2)) $(($Z+1)) $(( (Z+1) * (2 - 5) )) $((Z == 3 && 1 || 0)) $((6 & 3 | 8 ^ 1))") == Run(out: "6 4 -12 1 11\n"))
        // A counter the usual way; a command substitution inside; the value is one field.
        #expect(try s.sh("i=1; i=$((i + 1)); i=$(($i * 10)); echo $i $(( $(echo 4) + 1 ))") == Run(out: "20 5\n"))
        #expect(try s.sh(#"printf '[%s]' $((1+2))"$((3))"; echo"#) == Run(out: "[33]\n"))
        // Errors end the script with status 2, in dash's words.
        #expect(try s.sh("echo $((1/0)); echo after") == Run(err: "sh: 1: arithmetic expression: division by zero: \"1/0\"\n", code: 2))
        #expect(try s.sh("echo $((5%0))") == Run(err: "sh: 1: arithmetic expression: division by zero: \"5%0\"\n", code: 2))
        #expect(try s.sh("echo $((2+))") == Run(err: "sh: 1: arithmetic expression: expecting primary: \"2+\"\n", code: 2))
        #expect(try s.sh("X=abc; echo $((X+1))") == Run(err: "sh: 1: Illegal number: abc\n", code: 2))
        #expect(try s.sh("echo $((1 2))") == Run(err: "sh: 1: arithmetic expression: expecting EOF: \"1 2\"\n", code: 2))
        #expect(throws: Shell.SyntaxError(message: "Syntax error: Missing '))'")) { try Shell.parse("echo $((1") }
        // `&&`, `||` and `?:` evaluate only the side that counts; `--x` is a double negation.
        #expect(try s.sh("echo $((0 && 1/0)) $((1 || 1/0)) $((1 ? 2 : 1/0)) $((0 ? 1/0 : 3)) $((--4)); X=abc; echo $((0 && X))") == Run(out: "0 1 2 3 4\n0\n"))
        // Assignments inside the expression are not simulated, and say so.
        #expect(try s.sh("echo $((i=2))").err.contains("assignment to i is not simulated"))
    }

    @Test func commentsAreIgnored() throws {
        var s = try sandbox()
        #expect(try s.sh("echo a # a note") == Run(out: "a\n"))
        #expect(try s.sh("touch kept # rm kept\nls") == Run(out: "kept\n"))
    }

    // MARK: - Run commands and batches

    @Test func onlyShDashCGoesThroughTheShellOtherEntryPointsGetTheirArgsVerbatim() throws {
        var s = try sandbox()
        let echo = s.unit.builtin(RunCommand(entryPoint: "/bin/echo", args: ["'a'", "$HOME", "x;y"]))
        #expect(echo.ok && echo.exitCode == 0 && echo.stdout == "'a' $HOME x;y\n" && echo.duration == .milliseconds(100))
        let no = s.unit.builtin(RunCommand(entryPoint: "/usr/bin/false"))
        #expect(!no.ok && no.exitCode == 1 && no.stderr == "")
        let slept = s.unit.builtin(RunCommand(entryPoint: "/bin/sh", args: ["-c", "sleep 2; echo done"]))
        #expect(slept.ok && slept.stdout == "done\n" && slept.duration == .milliseconds(2100))
        let dash = s.unit.builtin(RunCommand(entryPoint: "/bin/dash", args: ["-c", "printf %s-%s a b"]))
        #expect(dash.ok && dash.stdout == "a-b")
        let exited = s.unit.builtin(RunCommand(entryPoint: "bash", args: ["-c", "echo out; exit 3"]))
        #expect(!exited.ok && exited.exitCode == 3 && exited.stdout == "out\n")
    }

    @Test func aBatchStopsAtTheFailingCommandWithEachResultsOutputAndCode() throws {
        var s = try sandbox()
        let record = s.batch(Self.failingInTheMiddle)
        let results = record.results.map { $0.result }
        #expect(results.map(\.index) == [0, 1])
        #expect(results.map(\.result) == [.ok, .error])
        #expect(results.map(\.isBatchFinished) == [false, true])
        // An Ok command keeps the stderr it wrote.
        #expect(results[0].stdout == .text("first\n") && results[0].stderr == .text("cat: nope: No such file or directory\n") && results[0].message == nil)
        #expect(results[1].stdout == .text("partial\n") && results[1].stderr == .text("cat: missing: No such file or directory\n"))
        #expect(results[1].message == "ExeScript command exited with code 1")
        #expect(s.file("/golem/work/never") == nil)
        #expect(Self.describe(record.events) == [
            "0 started", "0 stdout first\n", "0 stderr cat: nope: No such file or directory\n", "0 finished 0 -",
            "1 started", "1 stdout partial\n", "1 stderr cat: missing: No such file or directory\n",
            "1 finished 1 ExeScript command exited with code 1",
        ])
        #expect(record.events.allSatisfy { $0.event.batchId == "b" })
        // Each result shows when its command ends: 100 ms a command; only `run`s count as CPU time.
        #expect(record.results.map { ($0.at.timeIntervalSince(t0) * 1000).rounded() } == [100, 200])
        #expect(results[1].eventDate == WireTimestamp(record.results[1].at))
        #expect(abs(s.unit.activity.cpuSeconds - 0.2) < 1e-9)
        #expect(abs(s.unit.clock.timeIntervalSince(t0) - 0.2) < 1e-5)
    }

    @Test func withoutCaptureOutputIsDiscardedAndEachStreamIsCapturedOnItsOwn() throws {
        var s = try sandbox()
        let quiet = s.batch([.run(RunCommand(entryPoint: "/bin/echo", args: ["quiet"]))])
        #expect(quiet.results.first?.result.stdout == nil && quiet.results.first?.result.stderr == nil)
        #expect(quiet.results.first?.result.result == .ok)
        #expect(Self.describe(quiet.events) == ["0 started", "0 finished 0 -"])
        let onlyOut = s.batch([.run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "echo o; cat nope || true"], capture: Capture(stdout: .atEnd())))])
        #expect(onlyOut.results.first?.result.stdout == .text("o\n") && onlyOut.results.first?.result.stderr == nil)
        #expect(Self.describe(onlyOut.events) == ["0 started", "0 stdout o\n", "0 finished 0 -"])
    }

    @Test func captureModesCutTheOutputAsAsked() throws {
        let u = try sandbox().unit
        #expect(u.captured("abcdef", nil) == nil)
        #expect(u.captured("abcdef", .atEnd()) == .text("abcdef"))
        #expect(u.captured("abcdef", .atEnd(part: .head(2))) == .text("ab"))
        #expect(u.captured("abcdef", .atEnd(part: .tail(3))) == .text("def"))
        #expect(u.captured("abcdef", .atEnd(part: .headTail(4))) == .text("abef"))
        #expect(u.captured("abc", .atEnd(part: .headTail(4))) == .text("abc"))
        #expect(u.captured("abcdef", .stream(limit: 2)) == .text("ab"))
        #expect(u.captured("abcdef", .stream()) == .text("abcdef"))
        #expect(u.captured("hé", .atEnd(format: .bin)) == .bytes([0x68, 0xC3, 0xA9]))
    }

    @Test func resultsPollsOfABatchThatFailedInTheMiddleHaveTheDaemonsShape() throws {
        let (started, now) = try engine()
        var e = started
        e.exec("b", Self.failingInTheMiddle, on: "act", at: now)
        let end = try #require(e.batchEnd("b", on: "act"))
        #expect(abs(end.timeIntervalSince(now) - 0.2) < 1e-5)
        // Between the two results: the whole batch is not done; the first command is.
        let mid = now.addingTimeInterval(0.15)
        let waiting = e.results("b", on: "act", commandIndex: nil, at: mid, final: false)
        #expect(waiting == nil)
        let first = try decode(e.results("b", on: "act", commandIndex: 0, at: mid, final: false))
        #expect(first.count == 1 && first[0].isBatchFinished && first[0].stdout == .text("first\n"))
        // The whole batch: results up to the failure, output for each.
        let all = try decode(e.results("b", on: "act", commandIndex: nil, at: end, final: false))
        #expect(all.map(\.index) == [0, 1] && all.map(\.result) == [.ok, .error] && all.map(\.isBatchFinished) == [false, true])
        #expect(all[0].stdout == .text("first\n") && all[1].stdout == .text("partial\n"))
        // Waiting for the failed command: output for it only.
        let failed = try decode(e.results("b", on: "act", commandIndex: 1, at: end, final: false))
        #expect(failed.count == 2 && failed[0].stdout == nil && failed[0].stderr == nil)
        #expect(failed[1].stderr == .text("cat: missing: No such file or directory\n") && failed[1].isBatchFinished)
        // Waiting for the command after the failure: the failure ends the wait; no output (not the awaited index).
        let beyond = try decode(e.results("b", on: "act", commandIndex: 2, at: end, final: false))
        #expect(beyond.map(\.index) == [0, 1] && beyond.allSatisfy { $0.stdout == nil && $0.stderr == nil })
        #expect(beyond.map(\.isBatchFinished) == [false, true])
        #expect(e.core.activities["act"]?.files["/golem/work/never"] == nil)
    }

    @Test func commandsTheActivityStateDoesNotAllowFailWithTheExeUnitsMessage() throws {
        var s = try sandbox(state: .initialized)
        let early = s.batch([.start(StartCommand()), .deploy(DeployCommand())])
        #expect(early.results.count == 1)
        let refused = try #require(early.results.first?.result)
        #expect(refused.result == .error && refused.isBatchFinished && refused.stdout == nil && refused.stderr == nil)
        #expect(refused.message == "start is allowed in state Deployed only, not Initialized")
        #expect(early.events.last?.event.kind == .finished(returnCode: 1, message: "start is allowed in state Deployed only, not Initialized"))
        #expect(s.unit.activity.state == .initialized)
        let setup = s.batch([.deploy(DeployCommand()), .start(StartCommand()), .run(RunCommand(entryPoint: "/bin/echo", args: ["up"], capture: .atEnd)), .sign(UnknownFields())])
        #expect(setup.results.map { $0.result.result } == [.ok, .ok, .ok, .ok])
        #expect(setup.results.map { $0.result.isBatchFinished } == [false, false, false, true])
        #expect(setup.results[2].result.stdout == .text("up\n"))
        #expect(s.unit.activity.state == .ready)
        // 10 ms refusal, then deploy 1 s, start 100 ms, run 100 ms, sign 10 ms.
        #expect(setup.results.map { ($0.at.timeIntervalSince(t0) * 1000).rounded() } == [1010, 1110, 1210, 1220])
        #expect(abs(s.unit.activity.cpuSeconds - 0.1) < 1e-9)
        let again = s.batch([.deploy(DeployCommand())])
        #expect(again.results.first?.result.message == "deploy is allowed in state Initialized only, not Ready")
        let unknown = s.batch([.other(name: "frobnicate", body: nil)])
        #expect(unknown.results.first?.result.result == .error)
        #expect(unknown.results.first?.result.message == "unknown ExeScript command 'frobnicate'")
        let ended = s.batch([.terminate(UnknownFields()), .run(RunCommand(entryPoint: "/bin/echo", args: ["late"]))])
        #expect(ended.results.map { $0.result.result } == [.ok, .error])
        #expect(ended.results.last?.result.message == "the activity is Terminated")
        #expect(s.unit.activity.state == .terminated)
    }

    @Test func theLifecycleFromNewAndRepeatedCommandsAreJudgedByState() throws {
        var fresh = ActivityStateMachine(state: .new)
        #expect(fresh.on(.deploy) == .moved(.deployed))
        #expect(fresh.on(.work) == .refused(message: "the activity is Deployed, not Ready: deploy and start it first"))
        #expect(fresh.on(.deploy) == .refused(message: "deploy is allowed in state Initialized only, not Deployed"))
        #expect(fresh.on(.start) == .moved(.ready))
        #expect(fresh.on(.start) == .refused(message: "start is allowed in state Deployed only, not Ready"))
        #expect(fresh.on(.responsive) == .ignored)
        #expect(fresh.state == .ready)
    }

    // MARK: - Background loops

    @Test func aBackgroundLoopRewritesItsFileOnTheActivitysClock() throws {
        let loop = try #require(PeriodicWriter.parse("while true; do date > /golem/work/d.txt; sleep 5; done &", start: t0))
        #expect(loop.path == "/golem/work/d.txt" && loop.writer.command == "date" && loop.writer.interval == .seconds(5))
        #expect(loop.writer.content(at: t0.addingTimeInterval(12)) == "Fri Jan 15 08:00:10 UTC 2027\n")
        #expect(loop.writer.content(at: t0.addingTimeInterval(-3)) == "Fri Jan 15 08:00:00 UTC 2027\n")
        let beat = try #require(PeriodicWriter.parse("while true; do echo $HOME tick > beat; sleep 0.5; done &", start: t0))
        #expect(beat.path == "/golem/work/beat" && beat.writer.content(at: t0) == "/root tick\n")
        for script in [
            "while true; do date > f; done &", "while true; do date > f; sleep 0; done &",
            "while true; do date > f; sleep 5; done", "while true; do date; sleep 5; done &",
        ] {
            #expect(PeriodicWriter.parse(script, start: t0)?.path == nil, "\(script)")
        }
        // Through `sh -c`: the command returns at once; the file follows the clock until written over.
        var s = try sandbox()
        let started = s.unit.builtin(RunCommand(entryPoint: "/bin/sh", args: ["-c", "while true; do date > d.txt; sleep 5; done &"]))
        #expect(started.ok && started.duration == .milliseconds(100))
        s.unit.clock = t0.addingTimeInterval(12)
        #expect(try s.sh("cat d.txt; ls") == Run(out: "Fri Jan 15 08:00:10 UTC 2027\nd.txt\n"))
        #expect(try s.sh("echo fixed > d.txt") == Run())
        s.unit.clock = t0.addingTimeInterval(60)
        #expect(try s.sh("cat d.txt") == Run(out: "fixed\n"))
    }

    // MARK: - Transfers, volumes and paths

    @Test func transfersMoveBytesBetweenGftpAndTheActivitysVolumes() throws {
        let exchange = InMemoryFileExchange()
        var s = try sandbox(files: exchange)
        let source = try exchange.publish(Array("payload".utf8))
        let target = try exchange.receive(into: nil)
        let record = s.batch([
            .transfer(TransferCommand(from: source, to: "container:/golem/input/p.txt")),
            .run(RunCommand(entryPoint: "/bin/sh", args: ["-c", "wc -c < /golem/input/p.txt > /golem/output/n; cat /golem/input/p.txt >> /golem/output/n"], capture: .atEnd)),
            .transfer(TransferCommand(from: "container:/golem/output/n", to: target)),
            .transfer(TransferCommand(from: "/golem/output/n", to: "/golem/work/copy")),
        ])
        #expect(record.results.map { $0.result.result } == [.ok, .ok, .ok, .ok])
        #expect(record.results[0].result.stdout == nil)
        #expect(s.file("/golem/input/p.txt") == "payload")
        #expect(try exchange.received(url: target) == Array("7\npayload".utf8))
        #expect(s.file("/golem/work/copy") == "7\npayload")
    }

    @Test func transfersThatCannotHappenFailNamingTheirEnd() throws {
        var s = try sandbox()
        #expect(try s.sh("echo x > src") == Run())
        let cases: [(TransferCommand, String)] = [
            (TransferCommand(from: "container:/golem/work/nope", to: "container:/golem/output/x"), "Transfer error: no such file on the provider: /golem/work/nope"),
            (TransferCommand(from: "file:///etc/hosts", to: "container:/golem/output/x"), "Transfer error: transfers from 'file:///etc/hosts' are not simulated; use gftp://, http(s):// or container:"),
            (TransferCommand(from: "gftp://node/abc", to: "container:/golem/output/x"), "Transfer error: nothing is published at gftp://node/abc"),
            (TransferCommand(from: "container:/golem/work/src", to: "ftp://host/x"), "Transfer error: transfers to 'ftp://host/x' are not simulated; use gftp:// or container:"),
            (TransferCommand(from: "container:/golem/work/src", to: "gftp://node/unknown"), "Transfer error: gftp://node/unknown was not registered with receive"),
        ]
        for (transfer, message) in cases {
            let result = try #require(s.batch([.transfer(transfer)]).results.first?.result)
            #expect(result.result == .error && result.isBatchFinished && result.message == message, "\(transfer.from) → \(transfer.to)")
        }
        #expect(s.file("/golem/output/x") == nil)
    }

    /// The exe-unit resolves `container:` paths within the deployed volumes only ("path not
    /// found in container"); the shell itself may write anywhere (the VM's root is an overlay).
    @Test func transfersStayInsideTheVolumesWhileTheShellMayWriteElsewhere() throws {
        var s = try sandbox("""
            name: t
            providers:
              - name: p
                volumes: [/golem/work, /data]
            """)
        #expect(try s.sh("[ -d /data ] && [ ! -d /golem/output ] && ls /data") == Run())
        #expect(try s.sh("echo x > src; echo t > /srv/t; cat /srv/t") == Run(out: "t\n"))
        let inside = s.batch([.transfer(TransferCommand(from: "container:/golem/work/src", to: "container:/data/x"))])
        #expect(inside.results.first?.result.result == .ok && s.file("/data/x") == "x\n")
        let outside = s.batch([.transfer(TransferCommand(from: "container:/golem/work/src", to: "container:/golem/output/x"))])
        #expect(outside.results.first?.result.result == .error)
        #expect(s.file("/golem/output/x") == nil)
        let fromOutside = s.batch([.transfer(TransferCommand(from: "container:/srv/t", to: "container:/data/t"))])
        #expect(fromOutside.results.first?.result.result == .error)
    }

    @Test func activityPathsResolveLikeAShellAndVolumesMatchWholeComponents() throws {
        #expect(ActivityPath.normalise("container:/golem/output/x") == "/golem/output/x")
        #expect(ActivityPath.normalise("out/../f") == "/golem/work/f")
        #expect(ActivityPath.normalise("../../../etc/passwd") == "/etc/passwd")
        #expect(ActivityPath.normalise("/a//b/./c/") == "/a/b/c")
        #expect(ActivityPath.normalise("x", cwd: "/golem/input") == "/golem/input/x")
        #expect(ActivityPath.normalise("") == "/golem/work")
        #expect(ActivityPath.normalise("/..") == "/")
        let volumes = ActivityPath.defaultVolumes
        let cases: [(String, Bool)] = [
            ("/golem/work", true), ("/golem/work/a/b", true), ("/golem/output/x", true),
            ("/golem/workshop/x", false), ("/golem", false), ("/etc/passwd", false), ("/", false),
        ]
        for (path, inside) in cases {
            #expect(ActivityPath.inVolume(path, volumes) == inside, "\(path)")
        }
    }

    @Test func gftpURLsAndTheInMemoryExchangeRefuseWhatTheyDoNotHold() throws {
        let notGftp = #expect(throws: FileExchangeError.self) { _ = try GftpURL.key("http://x/y") }
        #expect(notGftp?.description == "'http://x/y' is not a gftp URL (gftp://<node>/<id>)")
        #expect(throws: FileExchangeError.self) { _ = try GftpURL.key("gftp://nodeonly") }
        #expect(try GftpURL.key("gftp://node/abc/def") == "abc/def")
        let hash = GftpURL.contentHash([1, 2, 3])
        #expect(hash.count == 64 && hash.allSatisfy(\.isHexDigit) && hash == GftpURL.contentHash([1, 2, 3]))
        #expect(hash != GftpURL.contentHash([1, 2, 4]) && GftpURL.contentHash([]).count == 64)

        let exchange = InMemoryFileExchange(nodeId: "0xabc")
        let published = try exchange.publish([9])
        let again = try exchange.publish([9])
        #expect(published == "gftp://0xabc/" + GftpURL.contentHash([9]) && published == again)
        let one = try exchange.receive(into: nil)
        let two = try exchange.receive(into: nil)
        let key = try GftpURL.key(one)
        #expect(one != two && one.hasPrefix("gftp://0xabc/r") && key.count == 65)
        let unread = #expect(throws: FileExchangeError.self) { _ = try exchange.read(url: "gftp://0xabc/" + String(repeating: "0", count: 64)) }
        #expect(unread?.description == "nothing is published at gftp://0xabc/" + String(repeating: "0", count: 64))
        let notYet = #expect(throws: FileExchangeError.self) { _ = try exchange.received(url: one) }
        #expect(notYet?.description == "nothing was uploaded to \(one)")
        let stranger = #expect(throws: FileExchangeError.self) { try exchange.write(url: "gftp://0xabc/zzz", bytes: [1]) }
        #expect(stranger?.description == "gftp://0xabc/zzz was not registered with receive")
        try exchange.write(url: two, bytes: [4, 2])
        #expect(try exchange.received(url: two) == [4, 2])
    }

    // MARK: - Found in review

    @Test func aLineEndingInAPipeGoesOnOnTheNext() throws {
        var s = try sandbox()
        #expect(try s.sh("echo a > f; cat f |\n  wc -l") == Run(out: "1\n"))
        #expect(throws: Shell.SyntaxError.self) { _ = try Shell.parse("echo a |\n") }
    }

    @Test func onlyTheBackgroundedPipelineIsFreeAndItsStatusIsZero() throws {
        var s = try sandbox()
        let ran = try s.result("sleep 10; sleep 30 &")
        #expect(ran.duration == .seconds(10))
        #expect(try s.sh("false &") == Run(code: 0))
        #expect(try s.sh("false & echo $?") == Run(out: "0\n"))
        #expect(try s.result("sleep 5 & sleep 2").duration == .seconds(2))
    }

    @Test func aSubshellsCdStaysInItAndLsListsTheWorkingDirectory() throws {
        var s = try sandbox()
        #expect(try s.sh("X=$(cd /golem/output; pwd); echo $X; pwd") == Run(out: "/golem/output\n/golem/work\n"))
        #expect(try s.sh("touch /golem/output/o; cd /golem/output && ls") == Run(out: "o\n"))
        // A run is a process of its own: its cd moves nothing for the runs after it.
        _ = s.unit.builtin(RunCommand(entryPoint: "/bin/sh", args: ["-c", "cd /golem/output"]))
        let after = s.unit.builtin(RunCommand(entryPoint: "/bin/sh", args: ["-c", "pwd"]))
        #expect(after.stdout == "/golem/work\n")
    }

    @Test func theLaterOfTwoStdoutRedirectionsWins() throws {
        var s = try sandbox()
        #expect(try s.sh("echo x >&2 > f") == Run())
        #expect(s.file("/golem/work/f") == "x\n")
        #expect(try s.sh("echo y > g >&2") == Run(err: "y\n"))
    }

    @Test func rulesMatchSubstringsByteForByteAndCompileTheirPatternsOnce() {
        #expect("python app.py --db-port 4001".containsBytes("--db-port 4001"))
        #expect("héllo wörld".containsBytes("ö") && !"héllo wörld".containsBytes("o r"))
        #expect("abc".containsBytes("") && !"ab".containsBytes("abc") && !"aab".containsBytes("abb"))
        #expect("aaab".containsBytes("aab"))
        let rule = CommandRule(match: "/^hashcat .*--skip=([0-9]+)/")
        #expect(rule.matches("hashcat -a 3 --skip=48") && !rule.matches("echo hashcat --skip=1"))
        #expect(RegexCache.regex("^hashcat .*--skip=([0-9]+)") === RegexCache.regex("^hashcat .*--skip=([0-9]+)"))
        #expect(RegexCache.regex("(unclosed") == nil)
    }
}
