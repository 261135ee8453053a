import Foundation
import GolemTime
import YagnaAPI

/// Runs a batch on a simulated activity: each command's result, output and duration come from
/// the provider's rules, its faults and the built-in behaviours, on the node's clock.
struct ExeUnit {
    /// What the batch needs of the node, taken once (a copy of the whole node per batch cost
    /// more than the batch): the provider, its random stream (handed back after the run), the
    /// networks and the file exchange.
    let spec: ProviderSpec
    let nodeId: String
    let networksFromDaemon: Bool
    let netState: NetStateMachine
    let files: any FileExchange
    var providerRandom: SeededRandom
    var activity: ActivityRecord
    let batchId: String
    /// When the next command starts.
    var clock: Date
    let batchNumber: Int
    /// The working directory of the shell running now (`cd` moves it; every `sh -c` starts
    /// in the image's working directory).
    var cwd = ActivityPath.workDirectory
    /// How many loops of the running script enclose the command being run (`break` and
    /// `continue` reach no further out).
    var loopDepth = 0
    /// The rounds the running script's loops have run (see `loopLimit`).
    var loopRounds = 0

    init(core: NodeCore, activity: ActivityRecord, batchId: String, start: Date) {
        let provider = core.providers[activity.provider]
        self.spec = provider.spec
        self.nodeId = provider.id
        self.networksFromDaemon = core.networksFromDaemon
        self.netState = core.netState
        self.files = core.files
        self.providerRandom = core.providerRandom[activity.provider]
        self.activity = activity
        self.batchId = batchId
        self.clock = start
        self.batchNumber = core.agreements[activity.agreementId]?.batches ?? 1
    }

    mutating func strikes(_ trigger: Trigger) -> Bool { trigger.strikes(&providerRandom) }

    struct Outcome {
        var ok = true
        var exitCode = 0
        var stdout = ""
        var stderr = ""
        var message: String?
        var duration: Duration = .zero
        /// Bytes moved (transfers) or fetched (deploy), for progress events.
        var bytes: Int?
    }

    mutating func run(_ commands: [ExeScriptCommand], into batch: inout BatchRecord) {
        for (index, command) in commands.enumerated() {
            let started = clock
            batch.frames.append((started, .init(index: index, kind: .started(command))))
            var outcome = execute(command)
            if !outcome.ok && outcome.message == nil {
                outcome.message = "ExeScript command exited with code \(outcome.exitCode)"
            }
            progress(command, index: index, outcome: outcome, from: started, into: &batch)
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
                batch.frames.append((clock, .init(index: index, kind: .event(.stdout(stdout)))))
            }
            if let stderr, case .run(let run) = command, run.capture?.stderr != nil, !outcome.stderr.isEmpty {
                batch.frames.append((clock, .init(index: index, kind: .event(.stderr(stderr)))))
            }
            batch.frames.append((clock, .init(
                index: index, kind: .event(.finished(returnCode: outcome.ok ? 0 : max(1, outcome.exitCode), message: outcome.ok ? nil : outcome.message)))))
            if !outcome.ok { break }
        }
    }

    /// Progress events of a `deploy` or `transfer` that asks for them (`progress:
    /// {updateInterval, updateStep}`), spread over the command's duration: bytes so far of the
    /// total, every interval (default 1 s) or every `updateStep` bytes, at most 100 per command.
    func progress(_ command: ExeScriptCommand, index: Int, outcome: Outcome, from start: Date, into batch: inout BatchRecord) {
        let args: ProgressArgs?
        var total = outcome.bytes ?? 0
        var message: String?
        switch command {
        case .transfer(let t): args = t.progress
        case .deploy(let d):
            args = d.progress
            total = spec.imageSize
            message = "Downloading image"
        default: return
        }
        guard let args, outcome.duration > .zero else { return }
        let seconds = outcome.duration.timeInterval
        var times: [Double] = []
        if let step = args.updateStep, step > 0, total > 0 {
            times = stride(from: step, to: total, by: step).map { seconds * Double($0) / Double(total) }
        } else {
            let interval = max(0.001, ExeUnit.humanDuration(args.updateInterval ?? "") ?? 1)
            times = Array(stride(from: interval, to: seconds, by: interval))
        }
        if times.count > 100 { times = (1...100).map { seconds * Double($0) / 101 } }
        for t in times + [seconds] {
            let at = start.addingTimeInterval(t)
            let done = Int((Double(total) * t / seconds).rounded(.down))
            let event = RuntimeProgress(step: [0, 1], message: message, progress: [min(done, total), total], unit: "Bytes")
            batch.frames.append((at, .init(index: index, kind: .event(.progress(event)))))
        }
    }

    /// `300ms`, `1s`, `2m`, `1h`, `1s 500ms` (the exe-unit's humantime durations) in seconds.
    static func humanDuration(_ text: String) -> Double? {
        var total = 0.0
        var found = false
        for part in text.split(separator: " ") {
            let digits = part.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(digits) else { return nil }
            let unit: Double? = switch part.dropFirst(digits.count) {
            case "ms": 0.001
            case "s", "sec", "": 1
            case "m", "min": 60
            case "h": 3600
            case "us": 0.000001
            default: nil
            }
            guard let unit else { return nil }
            total += value * unit
            found = true
        }
        return found ? total : nil
    }

    static func naive(_ date: Date) -> WireTimestamp {
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
            for net in deploy.net ?? [] where !networksFromDaemon {
                if let refusal = netState.refusal(net, nodeId: nodeId) {
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
        where (match.isEmpty || line.containsBytes(match)) && batchNumber >= (trigger.afterBatches ?? 0) {
            if strikes(trigger) {
                return Outcome(ok: false, exitCode: exitCode, stderr: stderr, message: "ExeScript command exited with code \(exitCode)", duration: spec.commandDuration)
            }
        }
        if let rule = spec.commands.first(where: { $0.matches(line) }) {
            let groups = rule.captures(line) ?? []
            var outcome = Outcome(ok: rule.exitCode == 0, exitCode: rule.exitCode, duration: rule.duration ?? spec.commandDuration)
            outcome.stdout = rule.stdout.map { expand($0, groups) } ?? builtin(run).stdout
            outcome.stderr = rule.stderr.map { expand($0, groups) } ?? ""
            for effect in rule.files {
                let target = path(expand(effect.path, groups))
                guard ActivityPath.inVolume(target, spec.volumes) else {
                    let volumes = spec.volumes.joined(separator: ", ")
                    return Outcome(
                        ok: false, exitCode: 1, stderr: "cannot write \(target): outside the activity's volumes (\(volumes))\n",
                        message: "ExeScript command failed: the scenario rule for '\(rule.match)' writes \(target), outside the activity's volumes (\(volumes))",
                        duration: outcome.duration)
                }
                let bytes: [UInt8]
                switch effect.content {
                case .text(let template): bytes = Array(expand(template, groups).utf8)
                case .bytes(let b): bytes = b
                }
                write(bytes, to: target, append: effect.append)
            }
            for (name, value) in rule.usage { activity.counters[name] = (value, clock.adding(outcome.duration)) }
            return outcome
        }
        return builtin(run)
    }

    /// A rule's template with its placeholders filled in (see `Template`).
    func expand(_ text: String, _ groups: [String] = []) -> String {
        let activity = self.activity
        return Template(groups: groups, now: clock, provider: spec.name, activityId: activity.id, read: { read(path($0)) }, list: { activity.files(in: $0) }).expand(text)
    }

    mutating func transfer(_ t: TransferCommand) -> Outcome {
        var outcome = Outcome(duration: spec.commandDuration)
        do {
            let bytes: [UInt8]
            if t.from.hasPrefix("gftp://") {
                bytes = try files.read(url: t.from)
            } else if t.from.hasPrefix("http://") || t.from.hasPrefix("https://") {
                guard let declared = spec.urls.first(where: { $0.url == t.from }) else {
                    throw FileExchangeError(description: "Failed to download \(t.from): the host cannot be reached from the provider (the scenario declares no content for this URL; add it under the provider's 'urls')")
                }
                bytes = declared.bytes
            } else if t.from.hasPrefix("container:") || t.from.hasPrefix("/") {
                let p = path(t.from)
                // The exe-unit reaches the container only through its volumes.
                guard ActivityPath.inVolume(p, spec.volumes) else { throw FileExchangeError(description: "path not found in container: \(p)") }
                guard let content = activity.files[p] ?? activity.periodic[p].map({ Array($0.content(at: clock).utf8) }) else {
                    throw FileExchangeError(description: "no such file on the provider: \(p)")
                }
                bytes = content
            } else {
                throw FileExchangeError(description: "transfers from '\(t.from)' are not simulated; use gftp://, http(s):// or container:")
            }
            if t.to.hasPrefix("gftp://") {
                try files.write(url: t.to, bytes: bytes)
            } else if t.to.hasPrefix("container:") || t.to.hasPrefix("/") {
                guard ActivityPath.inVolume(path(t.to), spec.volumes) else { throw FileExchangeError(description: "path not found in container: \(path(t.to))") }
                activity.files[path(t.to)] = bytes
                activity.periodic[path(t.to)] = nil
            } else {
                throw FileExchangeError(description: "transfers to '\(t.to)' are not simulated; use gftp:// or container:")
            }
            outcome.duration += .nanoseconds(Int64(Double(bytes.count) / 10_000_000 * 1e9))
            outcome.bytes = bytes.count
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
        guard let seconds = Double(String(parts[1].dropFirst(6)).trimmingSpaces), seconds > 0, let interval = Duration.rounded(seconds: seconds),
            interval > .zero
        else { return nil }
        return (file, PeriodicWriter(command: command, interval: interval, start: start))
    }

    /// What the file holds at `time`: the command's output at the loop's last iteration.
    func content(at time: Date) -> String {
        let elapsed = max(0, time.timeIntervalSince(start))
        let step = interval.timeInterval
        let last = start.addingTimeInterval((elapsed / step).rounded(.down) * step)
        let words: [String] = ((try? Shell.tokens(command)) ?? []).compactMap {
            guard case .word(let w) = $0 else { return nil }
            // The loop runs in a shell of its own: only the variables every shell starts with.
            return try? Shell.expand(w, variables: ExeUnit.shellVariables, substitute: { _ in "" })
        }
        switch words.first {
        case "date": return Shell.dateText(last) + "\n"
        case "echo": return words.dropFirst().joined(separator: " ") + "\n"
        default: return ""
        }
    }
}
