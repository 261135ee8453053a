import Foundation
import YagnaAPI

/// The built-in behaviour of `run` commands no rule scripts: a small shell over the activity's
/// own file system, on the node's clock.
extension ExeUnit {
    struct ShellResult {
        var stdout: [UInt8] = []
        var stderr = ""
        var exitCode = 0
        var duration: Duration = .zero
        /// `exit` was called: the rest of the script does not run.
        var exited = false
        /// `break` or `continue` was called: the rest of the loop's round does not run.
        var jump: Jump?
    }

    enum Jump: Equatable {
        case breakLoop(Int)
        case continueLoop(Int)
    }

    static let shells: Set<String> = ["/bin/sh", "/bin/bash", "sh", "bash", "/bin/dash", "/usr/bin/bash"]

    mutating func builtin(_ run: RunCommand) -> Outcome {
        // Every run is a process of its own: it starts in the image's working directory, and
        // a `cd` in it moves nothing for the commands, transfers and rules after it.
        cwd = ActivityPath.workDirectory
        defer { cwd = ActivityPath.workDirectory }
        var outcome = Outcome(duration: spec.commandDuration)
        let result: ShellResult
        if Self.shells.contains(run.entryPoint), run.args.first == "-c", run.args.count >= 2 {
            let script = run.args[1].trimmingSpaces
            if let loop = PeriodicWriter.parse(script, start: clock) {
                activity.periodic[loop.path] = loop.writer
                return outcome
            }
            do {
                var variables = Self.shellVariables
                loopRounds = 0
                let parsed = try Shell.parse(script)
                result = interpret(parsed.pipelines, variables: &variables)
            } catch {
                outcome.ok = false
                outcome.exitCode = 2
                outcome.stderr = "\(run.entryPoint): 1: \(error.message)\n"
                return outcome
            }
        } else {
            let name = run.entryPoint.split(separator: "/").last.map(String.init) ?? run.entryPoint
            result = program([name] + run.args, stdin: [])
        }
        outcome.stdout = String(decoding: result.stdout, as: UTF8.self)
        outcome.stderr = result.stderr
        outcome.duration += result.duration
        outcome.exitCode = result.exitCode
        outcome.ok = result.exitCode == 0
        return outcome
    }

    /// The variables a `sh -c` starts with.
    static let shellVariables = ["HOME": "/root", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "PWD": "/golem/work", "?": "0"]

    /// Runs pipelines joined by `;`, `&&` and `||` with the shell's rules for each; assignments
    /// change `variables`, and `$?` follows each pipeline.
    mutating func interpret(_ pipelines: [Shell.Pipeline], stdin: [UInt8] = [], variables: inout [String: String]) -> ShellResult {
        var out = ShellResult()
        for pipeline in pipelines {
            if pipeline.after == "&&" && out.exitCode != 0 { continue }
            if pipeline.after == "||" && out.exitCode == 0 { continue }
            var input: [UInt8] = stdin
            var last = ShellResult()
            let before = out.duration
            for command in pipeline.commands {
                last = simple(command, stdin: input, variables: &variables)
                out.stderr += last.stderr
                out.duration += last.duration
                input = last.stdout
                if last.exited || last.jump != nil { break }
            }
            out.stdout += last.stdout
            // A job sent to the background takes none of the script's time, `$?` is 0, and its
            // `exit` or `break` ends only itself.
            if pipeline.background {
                out.duration = before
                last.exitCode = 0
                last.exited = false
                last.jump = nil
            }
            out.exitCode = last.exitCode
            variables["?"] = String(last.exitCode)
            if last.exited { out.exited = true; break }
            if let jump = last.jump {
                out.jump = jump
                break
            }
        }
        return out
    }

    /// A command substitution's output: a scenario rule's when one matches its text (as it
    /// would for a `run` of it), else the built-in shell's, in a subshell (its assignments
    /// stay there).
    mutating func substitute(_ script: String, variables: [String: String]) -> String {
        let text = script.trimmingSpaces
        if let rule = spec.commands.first(where: { $0.matches(text) }), let stdout = rule.stdout {
            return expand(stdout, rule.captures(text) ?? [])
        }
        guard let parsed = try? Shell.parse(text) else { return "" }
        // A subshell: its `cd` and assignments stay in it.
        let outerDirectory = cwd
        defer { cwd = outerDirectory }
        var inner = variables
        return String(decoding: interpret(parsed.pipelines, variables: &inner).stdout, as: UTF8.self)
    }

    /// One command with its expansions, assignments and redirections.
    mutating func simple(_ command: Shell.Command, stdin: [UInt8], variables: inout [String: String]) -> ShellResult {
        do { return try expandAndRun(command, stdin: stdin, variables: &variables) } catch {
            // An expansion that fails ends the script, as in a non-interactive dash.
            var result = ShellResult(stderr: "sh: 1: \(error.message)\n", exitCode: 2)
            result.exited = true
            return result
        }
    }

    private mutating func expandAndRun(_ command: Shell.Command, stdin: [UInt8], variables: inout [String: String]) throws(Shell.ExpansionError) -> ShellResult {
        let current = variables
        func expanded(_ word: String) throws(Shell.ExpansionError) -> String {
            try Shell.expand(word, variables: current, substitute: { substitute($0, variables: current) })
        }
        if let compound = command.compound {
            let opened: Opened
            switch try open(command, stdin, expanded) {
            case .success(let o): opened = o
            case .failure(let refusal): return refusal.result
            }
            var result = try run(compound, stdin: opened.stdin, variables: &variables)
            redirect(&result, command, to: opened)
            return result
        }
        var words = command.words
        var assignments: [(String, String)] = []
        while let first = words.first, let assignment = Shell.assignment(first) {
            assignments.append((assignment.name, try expanded(assignment.value)))
            words.removeFirst()
        }
        // `export`'s arguments are assignments: expanded, not split into fields.
        if words.first == "export" {
            var out: [String] = []
            for word in words { out.append(try expanded(word)) }
            words = out
        } else {
            var out: [String] = []
            for word in words {
                out += try Shell.fields(word, variables: current, substitute: { substitute($0, variables: current) }, glob: { glob($0) })
            }
            words = out
        }
        // `exit` alone exits with the last command's status.
        if words == ["exit"] { words.append(current["?"] ?? "0") }
        if words.first == "export" {
            for word in words.dropFirst() { if let a = Shell.assignment(word) { assignments.append(a) } }
            words = []
        }
        if words.isEmpty {
            // Only assignments (or `export NAME=value`): they stay for the rest of the script.
            for (name, value) in assignments { variables[name] = value }
            return ShellResult()
        }
        // `break` and `continue` leave the rounds of their loop (or of `n` loops out, at most
        // all of them); outside a loop they do nothing, as in dash.
        if words.first == "break" || words.first == "continue" {
            let n = min(loopDepth, max(1, words.dropFirst().first.flatMap { Int($0) } ?? 1))
            var result = ShellResult()
            if n > 0 { result.jump = words.first == "break" ? .breakLoop(n) : .continueLoop(n) }
            return result
        }
        let opened: Opened
        switch try open(command, stdin, expanded) {
        case .success(let o): opened = o
        case .failure(let refusal): return refusal.result
        }
        var result = program(words, stdin: opened.stdin)
        if words.first == "cd", result.exitCode == 0 { variables["PWD"] = cwd }
        redirect(&result, command, to: opened)
        return result
    }

    /// A command's redirections, each target expanded once: what it reads, where its output goes.
    struct Opened {
        var stdin: [UInt8]
        var stdout: String?
        var stderr: String?
    }

    struct Refusal: Error {
        let result: ShellResult
    }

    /// Opens the command's redirections as sh does before it runs it, or refuses them: a target
    /// that expands to nothing, a file in a folder that does not exist, a `<` file that is not
    /// there.
    private func open(
        _ command: Shell.Command, _ stdin: [UInt8], _ expanded: (String) throws(Shell.ExpansionError) -> String
    ) throws(Shell.ExpansionError) -> Result<Opened, Refusal> {
        func refused(_ text: String) -> Result<Opened, Refusal> { .failure(Refusal(result: ShellResult(stderr: "sh: 1: \(text)\n", exitCode: 2))) }
        let source = try command.stdin.map { (p: String) throws(Shell.ExpansionError) in try expanded(p) }
        let out = try command.stdout.map { (t: (path: String, append: Bool)) throws(Shell.ExpansionError) in try expanded(t.path) }
        let err = try command.stderr.map { (t: (path: String, append: Bool)) throws(Shell.ExpansionError) in try expanded(t.path) }
        if [source, out, err].contains(where: { $0?.isEmpty == true }) { return refused("cannot create : Directory nonexistent") }
        for target in [out, err].compactMap({ $0 }) where target != "/dev/null" {
            guard mayBeDirectory(ActivityPath.normalise(path(target) + "/..")) else { return refused("cannot create \(target): Directory nonexistent") }
        }
        var bytes = stdin
        if let source {
            guard let read = read(path(source)) else { return refused("cannot open \(source): No such file") }
            bytes = read
        }
        return .success(Opened(stdin: bytes, stdout: out, stderr: err))
    }

    /// Sends the command's output where its redirections say (`targets`: where they were opened).
    private mutating func redirect(_ result: inout ShellResult, _ command: Shell.Command, to targets: Opened) {
        if command.stdoutToStderr {
            result.stderr += String(decoding: result.stdout, as: UTF8.self)
            result.stdout = []
        }
        if command.stderrToStdout {
            result.stdout += Array(result.stderr.utf8)
            result.stderr = ""
        }
        // `2>&1 > file`: stderr took the stdout the command started with, before stdout moved.
        let original = command.stderrToOriginalStdout ? Array(result.stderr.utf8) : []
        if command.stderrToOriginalStdout { result.stderr = "" }
        if let target = command.stdout, let file = targets.stdout {
            write(result.stdout, to: file, append: target.append)
            result.stdout = original
        }
        if let target = command.stderr, let file = targets.stderr {
            write(Array(result.stderr.utf8), to: file, append: target.append)
            result.stderr = ""
        }
    }

    /// The most rounds the loops of one script may run together: one that does not end by then
    /// is stopped with an error (the simulator runs it at once, on the node's clock: a real one
    /// would run forever).
    static let loopLimit = 10_000

    /// Runs a loop or a conditional (its redirections are the caller's).
    private mutating func run(
        _ compound: Shell.Compound, stdin: [UInt8], variables: inout [String: String]
    ) throws(Shell.ExpansionError) -> ShellResult {
        var out = ShellResult()
        func take(_ r: ShellResult) {
            out.stdout += r.stdout
            out.stderr += r.stderr
            out.duration += r.duration
            out.exitCode = r.exitCode
            out.exited = r.exited
            out.jump = r.jump
        }
        /// Whether the loop goes on after a round that ended with `jump`.
        func goesOn() -> Bool {
            guard let jump = out.jump else { return !out.exited }
            switch jump {
            case .breakLoop(let n):
                out.jump = n > 1 ? .breakLoop(n - 1) : nil
                return false
            case .continueLoop(let n):
                out.jump = n > 1 ? .continueLoop(n - 1) : nil
                return n <= 1
            }
        }
        /// One more round of the script's loops; past the budget the script is stopped (`false`).
        func round() -> Bool {
            loopRounds += 1
            guard loopRounds > Self.loopLimit else { return true }
            out.stderr += "sh: 1: the simulator stopped a loop after \(Self.loopLimit) rounds: give this script a command rule\n"
            out.exitCode = 2
            out.exited = true
            return false
        }
        switch compound {
        case .forLoop(let name, let words, let body):
            loopDepth += 1
            defer { loopDepth -= 1 }
            let current = variables
            var values: [String] = []
            for word in words {
                values += try Shell.fields(word, variables: current, substitute: { substitute($0, variables: current) }, glob: { glob($0) })
            }
            for value in values {
                guard round() else { return out }
                variables[name] = value
                take(interpret(body, stdin: stdin, variables: &variables))
                if !goesOn() { break }
            }
            if values.isEmpty { out.exitCode = 0 }
        case .ifClause(let branches, let otherwise):
            for branch in branches {
                take(interpret(branch.condition, stdin: stdin, variables: &variables))
                if out.exited || out.jump != nil { return out }
                if out.exitCode == 0 {
                    take(interpret(branch.body, stdin: stdin, variables: &variables))
                    return out
                }
            }
            out.exitCode = 0
            if let otherwise { take(interpret(otherwise, stdin: stdin, variables: &variables)) }
        case .whileLoop(let condition, let body, let until):
            loopDepth += 1
            defer { loopDepth -= 1 }
            var status = 0
            while true {
                guard round() else { return out }
                take(interpret(condition, stdin: stdin, variables: &variables))
                if out.exited || out.jump != nil {
                    if !goesOn() { break } else { continue }
                }
                if (out.exitCode == 0) == until { break }
                take(interpret(body, stdin: stdin, variables: &variables))
                status = out.exitCode
                if !goesOn() { break }
            }
            out.exitCode = out.exited ? out.exitCode : status
        }
        return out
    }

    mutating func write(_ bytes: [UInt8], to target: String, append: Bool) {
        guard target != "/dev/null" else { return }
        let p = path(target)
        let old = append ? (read(p) ?? []) : []
        activity.files[p] = old + bytes
        activity.periodic[p] = nil
    }

    // MARK: - Programs

    mutating func program(_ words: [String], stdin: [UInt8]) -> ShellResult {
        guard let name = words.first else { return ShellResult() }
        let args = Array(words.dropFirst())
        var out = ShellResult()
        func fail(_ message: String, _ code: Int = 1) -> ShellResult {
            ShellResult(stderr: "\(name): \(message)\n", exitCode: code)
        }
        /// The bytes of the named files, or of stdin when none is named.
        func inputs(_ files: [String]) -> (bytes: [(String, [UInt8])], error: ShellResult?) {
            if files.isEmpty { return ([("-", stdin)], nil) }
            var all: [(String, [UInt8])] = []
            for file in files {
                guard let bytes = read(path(file)) else { return (all, fail("\(file): No such file or directory")) }
                all.append((file, bytes))
            }
            return (all, nil)
        }
        let operands = args.filter { !$0.hasPrefix("-") || $0 == "-" }
        switch name {
        case "echo":
            // Flags as bash reads them: `-n` no trailing newline, `-e` backslash escapes.
            var words = args[...]
            var newline = true
            var escapes = false
            while let flag = words.first, flag.count > 1, flag.hasPrefix("-"), flag.dropFirst().allSatisfy({ "neE".contains($0) }) {
                if flag.contains("n") { newline = false }
                if flag.contains("e") { escapes = true }
                if flag.contains("E") { escapes = false }
                words.removeFirst()
            }
            var text = words.joined(separator: " ")
            if escapes { text = Shell.printf(text.replacingOccurrences(of: "%", with: "%%"), []) }
            out.stdout = Array((text + (newline ? "\n" : "")).utf8)
        case "printf":
            guard let format = args.first else { return fail("usage: printf format [arg ...]", 2) }
            out.stdout = Array(Shell.printf(format, Array(args.dropFirst())).utf8)
        case "date":
            if let format = args.first(where: { $0.hasPrefix("+") }) {
                out.stdout = Array((Self.dateFormat(String(format.dropFirst()), clock) + "\n").utf8)
            } else {
                out.stdout = Array((Shell.dateText(clock) + "\n").utf8)
            }
        case "hostname":
            // `hostname -I`: the activity's addresses in the requestor's networks.
            let text = args.first == "-I" ? activity.networkAddresses.map { $0 + " " }.joined() + "\n" : spec.name + "\n"
            out.stdout = Array(text.utf8)
        case "true", ":", "export", "set", "sync": break
        case "cd":
            let target = args.first ?? "/root"
            let p = path(target)
            guard mayBeDirectory(p) else { return ShellResult(stderr: "sh: 1: cd: can't cd to \(target)\n", exitCode: 2) }
            cwd = p
        case "pwd":
            out.stdout = Array((cwd + "\n").utf8)
        case "false": out.exitCode = 1
        case "exit":
            out.exitCode = Int(args.first ?? "0") ?? 2
            out.exited = true
        case "sleep":
            guard let seconds = Double(args.first ?? ""), seconds >= 0, let d = Duration.rounded(seconds: seconds) else {
                return fail("invalid time interval '\(args.first ?? "")'")
            }
            out.duration = d
        case "cat":
            // Every file it can read, in order; each it cannot is named on stderr.
            if operands.isEmpty { out.stdout = stdin }
            for file in operands {
                if file == "-" { out.stdout += stdin; continue }
                guard let bytes = read(path(file)) else {
                    out.stderr += "cat: \(file): \(isDirectory(path(file)) ? "Is a directory" : "No such file or directory")\n"
                    out.exitCode = 1
                    continue
                }
                out.stdout += bytes
            }
        case "ls":
            // Names starting with a dot only with -a or -A (-a adds `.` and `..`).
            let options = args.filter { $0.hasPrefix("-") && !$0.hasPrefix("--") }
            let hidden = options.contains { $0.contains("a") || $0.contains("A") }
            let dots = options.contains { $0.contains("a") }
            func listing(_ dir: String) -> String {
                ((dots ? [".", ".."] : []) + entries(of: path(dir)).filter { hidden || !$0.hasPrefix(".") }).map { $0 + "\n" }.joined()
            }
            // Files named first, then each folder under its name (with one operand, just its
            // entries), as ls prints them when its output is not a terminal.
            var files: [String] = []
            var folders: [String] = []
            var missing = ""
            for target in operands.isEmpty ? ["."] : operands {
                if read(path(target)) != nil {
                    files.append(target)
                } else if isDirectory(path(target)) {
                    folders.append(target)
                } else {
                    missing += "ls: cannot access '\(target)': No such file or directory\n"
                }
            }
            var text = files.sorted().map { $0 + "\n" }.joined()
            if files.isEmpty, folders.count == 1, missing.isEmpty {
                text = listing(folders[0])
            } else {
                for folder in folders.sorted() {
                    if !text.isEmpty { text += "\n" }
                    text += "\(folder):\n" + listing(folder)
                }
            }
            out.stdout = Array(text.utf8)
            if !missing.isEmpty {
                out.stderr = missing
                out.exitCode = 2
            }
        case "wc":
            let (all, error) = inputs(operands)
            if let error { return error }
            let flags = args.contains { ["-l", "-w", "-c"].contains($0) } ? args : ["-l", "-w", "-c"]
            for (file, bytes) in all {
                var counts: [Int] = []
                if flags.contains("-l") { counts.append(bytes.reduce(0) { $1 == 10 ? $0 + 1 : $0 }) }
                if flags.contains("-w") {
                    var words = 0
                    var inWord = false
                    for b in bytes {
                        let space = b == 32 || (9...13).contains(b)
                        if !space && !inWord { words += 1 }
                        inWord = !space
                    }
                    counts.append(words)
                }
                if flags.contains("-c") { counts.append(bytes.count) }
                let text = counts.map(String.init).joined(separator: " ") + (file == "-" ? "" : " " + file)
                out.stdout += Array((text + "\n").utf8)
            }
        case "head", "tail":
            var count = 10
            var bytesMode = false
            var files: [String] = []
            var rest = args[...]
            while let a = rest.popFirst() {
                if a == "-n" || a == "-c", let v = rest.popFirst(), let n = Int(v) { count = n; bytesMode = a == "-c" } else if a.hasPrefix("-n"), let n = Int(a.dropFirst(2)) {
                    count = n
                } else if a.hasPrefix("-"), let n = Int(a.dropFirst()) { count = n } else { files.append(a) }
            }
            let (all, error) = inputs(files)
            if let error { return error }
            for (_, bytes) in all {
                if bytesMode {
                    out.stdout += name == "head" ? Array(bytes.prefix(count)) : Array(bytes.suffix(count))
                    continue
                }
                var lines = bytes.split(separator: 10, omittingEmptySubsequences: false).map(Array.init)
                if bytes.last == 10 { lines.removeLast() }
                let chosen = name == "head" ? Array(lines.prefix(count)) : Array(lines.suffix(count))
                out.stdout += chosen.flatMap { $0 + [10] }
            }
        case "touch":
            for file in operands where read(path(file)) == nil { activity.files[path(file)] = [] }
        case "mkdir":
            let parents = args.contains("-p")
            for dir in operands {
                let p = path(dir)
                if !parents, isDirectory(p) || read(p) != nil { return fail("cannot create directory '\(dir)': File exists") }
                if !parents, !mayBeDirectory(ActivityPath.normalise(p + "/..")) {
                    return fail("cannot create directory '\(dir)': No such file or directory")
                }
                activity.directories.insert(p)
            }
        case "cp", "mv":
            guard operands.count >= 2, let last = operands.last else { return fail("missing file operand", 1) }
            let target = path(last)
            // Several sources (a pattern's matches) go into a directory.
            if operands.count > 2, !isDirectory(target) { return fail("target '\(last)' is not a directory", 1) }
            for source in operands.dropLast() {
                let from = path(source)
                var to = target
                guard let bytes = read(from) else { return fail("cannot stat '\(source)': No such file or directory") }
                if isDirectory(to) { to += "/" + (from.split(separator: "/").last.map(String.init) ?? "") }
                activity.files[to] = bytes
                activity.periodic[to] = nil
                if name == "mv", from != to {
                    activity.files[from] = nil
                    activity.periodic[from] = nil
                }
            }
        case "rm":
            for file in operands {
                let p = path(file)
                let under = activity.files.keys.filter { $0.hasPrefix(p + "/") }
                if read(p) != nil {
                    activity.files[p] = nil
                    activity.periodic[p] = nil
                } else if !under.isEmpty || isDirectory(p), args.contains(where: { $0.hasPrefix("-") && ($0.contains("r") || $0.contains("R")) }) {
                    for key in under { activity.files[key] = nil }
                    activity.directories = activity.directories.filter { $0 != p && !$0.hasPrefix(p + "/") }
                } else if isDirectory(p) {
                    return fail("cannot remove '\(file)': Is a directory")
                } else if !args.contains(where: { $0.hasPrefix("-") && $0.contains("f") }) {
                    return fail("cannot remove '\(file)': No such file or directory")
                }
            }
        case "sha256sum":
            let (all, error) = inputs(operands)
            if let error { return error }
            out.stdout = Array(all.map { SHA256.hex($0.1) + "  " + $0.0 + "\n" }.joined().utf8)
        case "grep":
            let flags = args.filter { $0.hasPrefix("-") && $0 != "-" }
            guard let pattern = operands.first else { return fail("usage: grep PATTERN [FILE]", 2) }
            let (all, error) = inputs(Array(operands.dropFirst()))
            if let error { return ShellResult(stderr: error.stderr, exitCode: 2) }
            let invert = flags.contains("-v")
            // With several files each line (or count) is named by its file, as grep does.
            let named = all.count > 1 && !flags.contains("-h")
            var found = 0
            var text = ""
            for (file, bytes) in all {
                let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                    .filter { !$0.isEmpty && $0.contains(pattern) != invert }
                found += lines.count
                if flags.contains("-c") {
                    text += (named ? "\(file):" : "") + "\(lines.count)\n"
                } else {
                    text += lines.map { (named ? "\(file):" : "") + $0 + "\n" }.joined()
                }
            }
            out.stdout = Array(text.utf8)
            out.exitCode = found == 0 ? 1 : 0
        case "test", "[":
            var expression = args
            if name == "[" {
                guard expression.last == "]" else { return fail("missing ']'", 2) }
                expression.removeLast()
            }
            out.exitCode = test(expression) ? 0 : 1
        default:
            // Anything else succeeds quietly unless the provider says unknown programs fail;
            // scenario rules give programs their output.
            if spec.unknownProgramExitCode != 0 {
                return ShellResult(stderr: "sh: 1: \(name): not found\n", exitCode: spec.unknownProgramExitCode)
            }
        }
        return out
    }

    func test(_ e: [String]) -> Bool {
        switch e.count {
        case 1: return !e[0].isEmpty
        case 2:
            let p = path(e[1])
            switch e[0] {
            case "-f": return read(p) != nil
            case "-d": return isDirectory(p)
            case "-e": return read(p) != nil || isDirectory(p)
            case "-s": return (read(p)?.count ?? 0) > 0
            case "-n": return !e[1].isEmpty
            case "-z": return e[1].isEmpty
            case "!": return !test([e[1]])
            default: return false
            }
        case 3:
            switch e[1] {
            case "=", "==": return e[0] == e[2]
            case "!=": return e[0] != e[2]
            case "-eq": return Int(e[0]) == Int(e[2])
            case "-ne": return Int(e[0]) != Int(e[2])
            case "-lt": return (Int(e[0]) ?? 0) < (Int(e[2]) ?? 0)
            case "-gt": return (Int(e[0]) ?? 0) > (Int(e[2]) ?? 0)
            case "-le": return (Int(e[0]) ?? 0) <= (Int(e[2]) ?? 0)
            case "-ge": return (Int(e[0]) ?? 0) >= (Int(e[2]) ?? 0)
            default: return e[0] == "!" ? !test(Array(e.dropFirst())) : false
            }
        default: return false
        }
    }

    /// `date +FORMAT` for the common conversions: `%s %Y %m %d %H %M %S %F %T %%`.
    static func dateFormat(_ format: String, _ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ v: Int?) -> String { let s = String(v ?? 0); return s.count < 2 ? "0" + s : s }
        var out = ""
        var chars = Array(format)[...]
        while let ch = chars.popFirst() {
            guard ch == "%", let k = chars.popFirst() else { out.append(ch); continue }
            switch k {
            case "s": out += String(Int(date.timeIntervalSince1970.rounded(.down)))
            case "Y": out += String(c.year ?? 1970)
            case "m": out += two(c.month)
            case "d": out += two(c.day)
            case "H": out += two(c.hour)
            case "M": out += two(c.minute)
            case "S": out += two(c.second)
            case "F": out += "\(c.year ?? 1970)-\(two(c.month))-\(two(c.day))"
            case "T": out += "\(two(c.hour)):\(two(c.minute)):\(two(c.second))"
            case "%": out += "%"
            default: out += "%" + String(k)
            }
        }
        return out
    }

    // MARK: - The activity's file system

    func path(_ p: String) -> String { ActivityPath.normalise(p, cwd: cwd) }

    func read(_ path: String) -> [UInt8]? {
        if path == "/dev/null" { return [] }
        if let writer = activity.periodic[path] { return Array(writer.content(at: clock).utf8) }
        return activity.files[path]
    }

    func isDirectory(_ p: String) -> Bool {
        ActivityPath.systemDirectories.contains(p) || spec.volumes.contains { $0 == p || $0.hasPrefix(p + "/") } || activity.directories.contains(p)
            || activity.files.keys.contains { $0.hasPrefix(p + "/") } || activity.periodic.keys.contains { $0.hasPrefix(p + "/") }
            || activity.directories.contains { $0.hasPrefix(p + "/") }
    }

    /// Whether `p` may be a directory of the activity: inside the volumes (which start empty)
    /// only what was made there is; elsewhere the image's own tree is unknown, so anything but a
    /// file written there may be.
    func mayBeDirectory(_ p: String) -> Bool {
        if spec.volumes.contains(where: { p.hasPrefix($0 + "/") }) { return isDirectory(p) }
        return read(p) == nil
    }

    /// The paths a pathname pattern (`fnmatch` syntax) matches in the activity's files, sorted;
    /// relative to the working directory when the pattern is. Names starting with `.` match
    /// only a pattern that starts with one, as in sh.
    func glob(_ pattern: String) -> [String] {
        let absolute = pattern.hasPrefix("/")
        // (absolute path, as shown)
        var found: [(String, String)] = [(absolute ? "" : cwd, "")]
        for component in pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init) {
            var next: [(String, String)] = []
            let active = Self.hasActivePattern(component)
            for (dir, shown) in found {
                let join = { (name: String) -> (String, String) in
                    ((dir.hasSuffix("/") ? dir : dir + "/") + name, shown.isEmpty ? (absolute ? "/" + name : name) : shown + "/" + name)
                }
                if active {
                    for name in entries(of: dir.isEmpty ? "/" : dir) where fnmatch(component, name, FNM_PERIOD) == 0 { next.append(join(name)) }
                } else {
                    // `.` and `..` (`./*`, `../x/*`) move in the tree; they are shown as written.
                    let (joined, shownAs) = join(Self.unescaped(component))
                    next.append((ActivityPath.normalise(joined), shownAs))
                }
            }
            found = next
            if found.isEmpty { return [] }
        }
        return found.filter { read($0.0) != nil || isDirectory($0.0) }.map(\.1).sorted()
    }

    /// Whether a pattern component has an unescaped `*`, `?` or `[`.
    static func hasActivePattern(_ component: String) -> Bool {
        var escaped = false
        for c in component {
            if escaped { escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "*" || c == "?" || c == "[" { return true }
        }
        return false
    }

    static func unescaped(_ component: String) -> String {
        var out = ""
        var escaped = false
        for c in component {
            if !escaped, c == "\\" { escaped = true; continue }
            escaped = false
            out.append(c)
        }
        return out
    }

    /// The names directly inside a directory, sorted.
    func entries(of dir: String) -> [String] {
        let prefix = dir.hasSuffix("/") ? dir : dir + "/"
        let all = Array(activity.files.keys) + Array(activity.periodic.keys) + Array(activity.directories)
        return Set(all.filter { $0.hasPrefix(prefix) }.compactMap { $0.dropFirst(prefix.count).split(separator: "/").first.map(String.init) }).sorted()
    }
}
