import Foundation
import GolemTime
import YagnaAPI

/// Runs a batch on a simulated activity: each command's result, output and duration come from
/// the provider's rules, its faults and the built-in behaviours, on the node's clock.
struct ExeUnit {
    var core: NodeCore
    var activity: ActivityRecord
    let batchId: String
    /// When the next command starts.
    var clock: Date
    let batchNumber: Int

    init(core: NodeCore, activity: ActivityRecord, batchId: String, start: Date) {
        self.core = core
        self.activity = activity
        self.batchId = batchId
        self.clock = start
        self.batchNumber = core.agreements[activity.agreementId]?.batches ?? 1
    }

    var spec: ProviderSpec { core.providers[activity.provider].spec }

    struct Outcome {
        var ok = true
        var exitCode = 0
        var stdout = ""
        var stderr = ""
        var message: String?
        var duration: Duration = .zero
    }

    mutating func run(_ commands: [ExeScriptCommand], into batch: inout BatchRecord) {
        for (index, command) in commands.enumerated() {
            let started = clock
            batch.frames.append((started, RuntimeEvent(batchId: batchId, index: index, timestamp: naive(started), kind: .started(command: JSONValue(command)))))
            var outcome = execute(command)
            if !outcome.ok && outcome.message == nil {
                outcome.message = "ExeScript command exited with code \(outcome.exitCode)"
            }
            clock = clock.adding(outcome.duration)
            if case .run = command { activity.cpuSeconds += outcome.duration.timeInterval }
            var stdout: CommandOutput?
            var stderr: CommandOutput?
            if case .run(let run) = command {
                stdout = captured(outcome.stdout, run.capture?.stdout)
                stderr = captured(outcome.stderr, run.capture?.stderr)
            }
            let last = index == commands.count - 1
            let result = ExeScriptCommandResult(
                index: index, eventDate: WireTimestamp(clock), result: outcome.ok ? .ok : .error, stdout: stdout, stderr: stderr,
                message: outcome.ok ? nil : outcome.message, isBatchFinished: last || !outcome.ok)
            batch.results.append((clock, result))
            if let stdout, case .run(let run) = command, run.capture?.stdout != nil, !outcome.stdout.isEmpty {
                batch.frames.append((clock, RuntimeEvent(batchId: batchId, index: index, timestamp: naive(clock), kind: .stdout(stdout))))
            }
            if let stderr, case .run(let run) = command, run.capture?.stderr != nil, !outcome.stderr.isEmpty {
                batch.frames.append((clock, RuntimeEvent(batchId: batchId, index: index, timestamp: naive(clock), kind: .stderr(stderr))))
            }
            batch.frames.append((clock, RuntimeEvent(
                batchId: batchId, index: index, timestamp: naive(clock),
                kind: .finished(returnCode: outcome.ok ? 0 : max(1, outcome.exitCode), message: outcome.ok ? nil : outcome.message))))
            if !outcome.ok { break }
        }
    }

    func naive(_ date: Date) -> WireTimestamp {
        WireTimestamp(epochNanoseconds: WireTimestamp(date).epochNanoseconds!, fractionDigits: 6, zulu: false)
    }

    func captured(_ text: String, _ mode: CaptureMode?) -> CommandOutput? {
        guard let mode else { return nil }
        var bytes = Array(text.utf8)
        if case .atEnd(let part, _) = mode {
            switch part {
            case .all: break
            case .head(let n): bytes = Array(bytes.prefix(n))
            case .tail(let n): bytes = Array(bytes.suffix(n))
            case .headTail(let n):
                if bytes.count > n { bytes = Array(bytes.prefix(n / 2)) + Array(bytes.suffix(n - n / 2)) }
            }
        }
        if case .stream(let limit?, _) = mode { bytes = Array(bytes.prefix(limit)) }
        return mode.format == .bin ? .bytes(bytes) : .text(String(decoding: bytes, as: UTF8.self))
    }

    mutating func execute(_ command: ExeScriptCommand) -> Outcome {
        switch command {
        case .deploy(let deploy):
            if let refused = lifecycle(.deploy, apply: false) { return refused }
            let nodeId = core.providers[activity.provider].id
            for net in deploy.net ?? [] where !core.networksFromDaemon {
                if let refusal = core.netState.refusal(net, nodeId: nodeId) {
                    return Outcome(ok: false, exitCode: 1, message: refusal, duration: .milliseconds(100))
                }
            }
            activity.networkAddresses = (deploy.net ?? []).map(\.nodeIp)
            _ = lifecycle(.deploy)
            return Outcome(duration: spec.deployDuration)
        case .start:
            if let refused = lifecycle(.start) { return refused }
            return Outcome(duration: .milliseconds(100))
        case .run(let run):
            if let refused = lifecycle(.work) { return refused }
            return execute(run)
        case .transfer(let t):
            if let refused = lifecycle(.work) { return refused }
            return transfer(t)
        case .sign:
            if let refused = lifecycle(.work) { return refused }
            return Outcome(duration: .milliseconds(10))
        case .terminate:
            _ = lifecycle(.terminate)
            return Outcome(duration: .milliseconds(50))
        case .other(let name, _):
            return Outcome(ok: false, exitCode: 1, message: "unknown ExeScript command '\(name)'", duration: .zero)
        }
    }

    /// Applies a command's lifecycle event (`ActivityStateMachine`); a refused command's
    /// failed outcome, or `nil` to go on. An unresponsive activity's commands are not judged:
    /// nothing of its batch comes back anyway.
    mutating func lifecycle(_ event: ActivityStateMachine.Event, apply: Bool = true) -> Outcome? {
        guard activity.state != .unresponsive else { return nil }
        var machine = ActivityStateMachine(state: activity.state)
        let outcome = machine.on(event)
        if case .refused(let message) = outcome { return Outcome(ok: false, exitCode: 1, message: message, duration: .milliseconds(10)) }
        if apply { activity.state = machine.state }
        return nil
    }

    mutating func execute(_ run: RunCommand) -> Outcome {
        let line = ([run.entryPoint] + run.args).joined(separator: " ")
        for case .failCommand(let match, let exitCode, let stderr, let trigger) in spec.faults
        where (match.isEmpty || line.contains(match)) && batchNumber >= (trigger.afterBatches ?? 0) {
            if core.strikes(trigger, provider: activity.provider) {
                return Outcome(ok: false, exitCode: exitCode, stderr: stderr, message: "ExeScript command exited with code \(exitCode)", duration: spec.commandDuration)
            }
        }
        if let rule = spec.commands.first(where: { $0.matches(line) }) {
            var outcome = Outcome(ok: rule.exitCode == 0, exitCode: rule.exitCode, duration: rule.duration ?? spec.commandDuration)
            outcome.stdout = rule.stdout.map { expand($0) } ?? builtin(run).stdout
            outcome.stderr = rule.stderr ?? ""
            return outcome
        }
        return builtin(run)
    }

    /// Placeholders in scripted output: `{now}` (the virtual time), `{provider}`, `{activity}`.
    func expand(_ text: String) -> String {
        text.replacingOccurrences(of: "{now}", with: WireTimestamp(clock).text)
            .replacingOccurrences(of: "{provider}", with: spec.name)
            .replacingOccurrences(of: "{activity}", with: activity.id)
    }

    // MARK: - Built-in behaviours

    mutating func builtin(_ run: RunCommand) -> Outcome {
        var script: String
        if ["/bin/sh", "/bin/bash", "sh", "bash"].contains(run.entryPoint), run.args.first == "-c", run.args.count >= 2 {
            script = run.args[1]
        } else {
            let name = run.entryPoint.split(separator: "/").last.map(String.init) ?? run.entryPoint
            script = ([name] + run.args.map { $0.contains(" ") ? "'\($0)'" : $0 }).joined(separator: " ")
        }
        var outcome = Outcome(duration: spec.commandDuration)
        script = script.trimmingSpaces
        if let loop = PeriodicWriter.parse(script, start: clock) {
            activity.periodic[loop.path] = loop.writer
            return outcome
        }
        for statement in Shell.split(script) {
            let result = shell(statement)
            outcome.stdout += result.stdout
            outcome.stderr += result.stderr
            outcome.duration += result.duration
            outcome.exitCode = result.exitCode
            if result.exitCode != 0 {
                outcome.ok = false
                break
            }
        }
        return outcome
    }

    mutating func shell(_ statement: String) -> Outcome {
        var words = Shell.words(statement)
        var redirect: (path: String, append: Bool)?
        if let i = words.firstIndex(where: { $0 == ">" || $0 == ">>" }), i + 1 < words.count {
            redirect = (path(words[i + 1]), words[i] == ">>")
            words.removeSubrange(i...(i + 1))
        }
        guard let name = words.first else { return Outcome() }
        let args = Array(words.dropFirst())
        var out = Outcome()
        switch name {
        case "echo":
            // `-n`: no trailing newline (as the shells of real images read it).
            if args.first == "-n" { out.stdout = args.dropFirst().joined(separator: " ") } else { out.stdout = args.joined(separator: " ") + "\n" }
        case "date": out.stdout = Shell.dateText(clock) + "\n"
        case "hostname":
            // `hostname -I`: the activity's addresses in the requestor's networks.
            out.stdout = args.first == "-I" ? activity.networkAddresses.map { $0 + " " }.joined() + "\n" : spec.name + "\n"
        case "true", ":": break
        case "false": out.exitCode = 1
        case "exit": out.exitCode = Int(args.first ?? "0") ?? 2
        case "sleep":
            let seconds = Double(args.first ?? "0") ?? 0
            out.duration = .nanoseconds(Int64(seconds * 1e9))
        case "cat":
            for arg in args {
                if let content = read(path(arg)) { out.stdout += content } else {
                    out.stderr += "cat: \(arg): No such file or directory\n"
                    out.exitCode = 1
                }
            }
        case "ls":
            let dir = path(args.first(where: { !$0.hasPrefix("-") }) ?? "/golem/work")
            let prefix = dir.hasSuffix("/") ? dir : dir + "/"
            let names = Set((Array(activity.files.keys) + Array(activity.periodic.keys)).filter { $0.hasPrefix(prefix) }
                .map { String($0.dropFirst(prefix.count).split(separator: "/").first ?? "") })
            out.stdout = names.sorted().map { $0 + "\n" }.joined()
        case "wc":
            let content = args.last.flatMap { read(path($0)) } ?? ""
            out.stdout = "\(content.split(separator: "\n", omittingEmptySubsequences: false).count - (content.hasSuffix("\n") ? 1 : 0)) \(args.last ?? "")\n"
        default:
            // Anything else succeeds quietly; scenario rules give it output.
            break
        }
        if let redirect, out.exitCode == 0 {
            let old = redirect.append ? (read(redirect.path) ?? "") : ""
            activity.files[redirect.path] = Array((old + out.stdout).utf8)
            activity.periodic[redirect.path] = nil
            out.stdout = ""
        }
        return out
    }

    func path(_ p: String) -> String {
        let trimmed = p.hasPrefix("container:") ? String(p.dropFirst("container:".count)) : p
        return trimmed.hasPrefix("/") ? trimmed : "/golem/work/" + trimmed
    }

    func read(_ path: String) -> String? {
        if let writer = activity.periodic[path] { return writer.content(at: clock) }
        return activity.files[path].map { String(decoding: $0, as: UTF8.self) }
    }

    mutating func transfer(_ t: TransferCommand) -> Outcome {
        var outcome = Outcome(duration: spec.commandDuration)
        do {
            let bytes: [UInt8]
            if t.from.hasPrefix("gftp://") {
                bytes = try core.files.read(url: t.from)
            } else if t.from.hasPrefix("container:") || t.from.hasPrefix("/") {
                let p = path(t.from)
                guard let content = activity.files[p] ?? activity.periodic[p].map({ Array($0.content(at: clock).utf8) }) else {
                    throw FileExchangeError(description: "no such file on the provider: \(p)")
                }
                bytes = content
            } else {
                throw FileExchangeError(description: "transfers from '\(t.from)' are not simulated; use gftp:// or container:")
            }
            if t.to.hasPrefix("gftp://") {
                try core.files.write(url: t.to, bytes: bytes)
            } else if t.to.hasPrefix("container:") || t.to.hasPrefix("/") {
                activity.files[path(t.to)] = bytes
                activity.periodic[path(t.to)] = nil
            } else {
                throw FileExchangeError(description: "transfers to '\(t.to)' are not simulated; use gftp:// or container:")
            }
            outcome.duration += .nanoseconds(Int64(Double(bytes.count) / 10_000_000 * 1e9))
        } catch {
            outcome.ok = false
            outcome.exitCode = 1
            outcome.message = "Transfer error: \(error)"
        }
        return outcome
    }
}

extension PeriodicWriter {
    /// Recognises `while true; do CMD > FILE; sleep N; done &`.
    static func parse(_ script: String, start: Date) -> (path: String, writer: PeriodicWriter)? {
        guard script.hasPrefix("while true"), script.hasSuffix("&") else { return nil }
        let body = script.replacingOccurrences(of: "while true;", with: "").replacingOccurrences(of: "do ", with: "")
            .replacingOccurrences(of: "done", with: "").replacingOccurrences(of: "&", with: "")
        let parts = body.split(separator: ";").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        guard parts.count >= 2, let redirect = parts[0].range(of: ">"), parts[1].hasPrefix("sleep ") else { return nil }
        let command = String(parts[0][..<redirect.lowerBound]).trimmingSpaces
        var file = String(parts[0][redirect.upperBound...]).trimmingSpaces
        if !file.hasPrefix("/") { file = "/golem/work/" + file }
        guard let seconds = Double(String(parts[1].dropFirst(6)).trimmingSpaces), seconds > 0 else { return nil }
        return (file, PeriodicWriter(command: command, interval: .nanoseconds(Int64(seconds * 1e9)), start: start))
    }

    /// What the file holds at `time`: the command's output at the loop's last iteration.
    func content(at time: Date) -> String {
        let elapsed = max(0, time.timeIntervalSince(start))
        let step = interval.timeInterval
        let last = start.addingTimeInterval((elapsed / step).rounded(.down) * step)
        let words = Shell.words(command)
        switch words.first {
        case "date": return Shell.dateText(last) + "\n"
        case "echo": return words.dropFirst().joined(separator: " ") + "\n"
        default: return ""
        }
    }
}

/// Just enough shell syntax for the built-in behaviours.
enum Shell {
    /// Splits a script into statements at `;`, `&&` and newlines (outside quotes).
    static func split(_ script: String) -> [String] {
        var out: [String] = []
        var current = ""
        var quote: Character?
        var chars = Array(script)[...]
        while let c = chars.popFirst() {
            if let q = quote {
                current.append(c)
                if c == q { quote = nil }
                continue
            }
            if c == "'" || c == "\"" { quote = c; current.append(c); continue }
            if c == ";" || c == "\n" { out.append(current); current = ""; continue }
            if c == "&", chars.first == "&" { chars = chars.dropFirst(); out.append(current); current = ""; continue }
            current.append(c)
        }
        out.append(current)
        return out.map { $0.trimmingSpaces }.filter { !$0.isEmpty }
    }

    /// Splits a statement into words, honouring quotes; `>` and `>>` are words of their own.
    static func words(_ statement: String) -> [String] {
        var out: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var chars = Array(statement)[...]
        while let c = chars.popFirst() {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
                continue
            }
            if c == "'" || c == "\"" { quote = c; inWord = true; continue }
            if c == ">" {
                if inWord { out.append(current); current = ""; inWord = false }
                if chars.first == ">" { chars = chars.dropFirst(); out.append(">>") } else { out.append(">") }
                continue
            }
            if c.isWhitespace {
                if inWord { out.append(current); current = ""; inWord = false }
                continue
            }
            current.append(c)
            inWord = true
        }
        if inWord { out.append(current) }
        return out
    }

    /// `date`'s default output in UTC: `Sun Nov 22 13:23:59 UTC 2026`.
    static func dateText(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int?) -> String { let s = String(v ?? 0); return s.count < 2 ? "0" + s : s }
        let day = String(c.day ?? 1)
        return "\(days[(c.weekday ?? 1) - 1]) \(months[(c.month ?? 1) - 1]) \(day.count < 2 ? " " + day : day) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) UTC \(c.year ?? 1970)"
    }
}
