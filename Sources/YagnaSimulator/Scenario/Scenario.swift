public import YagnaAPI
public import Foundation
import GolemTime

/// A simulated network: providers, their offers and behaviour, a fault schedule, faults of the
/// daemon itself, and what a run of the scenario's app is expected to show.
///
/// Loaded from YAML by `Scenario.load(file:)`; the format is documented in `scenarios/README.md`.
public struct Scenario: Sendable {
    public var name: String
    public var description: String = ""
    /// The example app `golem-sim run` drives, with its arguments.
    public var app: AppSpec?
    /// The default seed of `golem-sim run` when none is given.
    public var seed: UInt64 = 1
    public var requestor = RequestorSpec()
    public var providers: [ProviderSpec] = []
    public var daemon = DaemonSpec()
    public var expectations: [Expectation] = []
    /// Eventually / never / always / count rules over the run's journal (`assert:`).
    public var assertions: [JournalAssertion] = []
    /// A recording whose providers this scenario starts from (`base:`); its own faults add on top.
    public var base: String?

    public init(name: String, providers: [ProviderSpec] = []) {
        self.name = name
        self.providers = providers
    }
}

/// The app a scenario runs and its arguments (`tasks: 5`, `instances: 2`).
public struct AppSpec: Sendable, Hashable {
    public var name: String
    public var arguments: [String: String]
    public init(name: String, arguments: [String: String] = [:]) {
        self.name = name
        self.arguments = arguments
    }
}

/// The requestor node's identity.
public struct RequestorSpec: Sendable, Hashable {
    public var identity = "0x" + String(repeating: "a1", count: 20)
    public var name = "sim-requestor"
    /// Whether the node starts with its payment account set up (as after `yagna payment init
    /// --sender` or `yagna payment fund`): `requestorAccounts` lists it before any allocation.
    /// A fresh daemon, and the default, lists none until the first allocation.
    public var paymentInitialised = false
    public init() {}
}

/// One simulated provider (a spec with `count > 1` is expanded into several at load time).
public struct ProviderSpec: Sendable {
    public var name: String
    /// The provider's node id; `nil` draws one from the seed. Replay sets the recorded id.
    public var nodeId: String?
    /// Properties that override or add to the default offer.
    public var properties: Properties = [:]
    public var pricing = Pricing()
    public var multiActivity = true
    /// How many agreements it holds at once (ya-provider's `max-simultaneous-agreements`,
    /// default 1): at the limit it rejects proposals and agreements as ya-provider does;
    /// `nil` for no limit.
    public var maxAgreements: Int? = 1
    /// How often debit notes come while an activity runs; `nil` for none.
    public var debitNoteInterval: Duration? = .seconds(120)
    /// Delay before the provider's offer appears after a demand is subscribed.
    public var offerDelay: Duration = .milliseconds(100)
    /// Delay of the provider's answers (counter-proposals, agreement approval).
    public var responseDelay: Duration = .milliseconds(50)
    /// Duration of a command that no rule sets.
    public var commandDuration: Duration = .milliseconds(100)
    /// Duration of `deploy`.
    public var deployDuration: Duration = .seconds(1)
    /// Command results chosen by matching the command line; the first match wins.
    public var commands: [CommandRule] = []
    public var faults: [ProviderFault] = []
    /// Delay between the end of an agreement and its invoice.
    public var invoiceDelay: Duration = .milliseconds(200)
    /// The exit code of a program the built-in shell does not know and no rule scripts
    /// (`0`: it succeeds quietly; `127`: `sh: 1: NAME: not found`, as a real image says).
    public var unknownProgramExitCode = 0
    /// Services listening on the provider's ports, reached through the VPN's TCP tunnel
    /// (`/net-api/v1/net/{id}/tcp/{ip}/{port}`) once an activity is deployed in the network.
    public var services: [TunnelService] = []
    /// Content a `transfer` from an `http(s)://` URL fetches (other URLs fail to download).
    public var urls: [URLContent] = []
    /// The image's size in bytes, for `deploy`'s progress events.
    public var imageSize = 100_000_000
    /// The image's volumes: where command rules may create files (`files:`).
    public var volumes = ActivityPath.defaultVolumes

    public init(name: String) { self.name = name }
}

/// Linear pricing: a fixed start price plus per-second prices of usage, and any number of
/// custom usage counters with their own prices.
public struct Pricing: Sendable, Hashable {
    public var start: Double = 0
    public var perCpuSecond: Double = 0.0001
    public var perDurationSecond: Double = 0.00001
    /// Counters after `golem.usage.duration_sec` and `golem.usage.cpu_sec` in the usage vector.
    public var counters: [UsageCounter] = []
    public init() {}

    /// `golem.com.usage.vector`: duration, CPU, then the custom counters in order.
    public var usageVector: [String] { ["golem.usage.duration_sec", "golem.usage.cpu_sec"] + counters.map(\.name) }

    /// The `golem.com.pricing.model.linear.coeffs` for the usage vector, the fixed price last.
    public var coefficients: [Double] { [perDurationSecond, perCpuSecond] + counters.map(\.price) + [start] }
}

/// A custom usage counter (e.g. `golem.usage.custom.counter`): its price per unit, its value
/// when the activity is created and how much it grows per second of the activity's life.
/// Command rules may set its value (`usage:`).
public struct UsageCounter: Sendable, Hashable {
    public var name: String
    public var price: Double = 0
    public var initial: Double = 0
    public var perSecond: Double = 0
    public init(name: String) { self.name = name }
}

/// A rule giving a command's result. `match` is a substring of the command line
/// (`entry_point args…`), or a regular expression when written `/…/`.
public struct CommandRule: Sendable, Hashable {
    /// A substring of the command line, or `/regex/`. Changing it drops `init(exactly:)`'s
    /// byte comparison: the rule then matches by what `match` says.
    public var match: String {
        didSet { exactLine = nil }
    }
    public var exitCode: Int = 0
    public var stdout: String?
    public var stderr: String?
    public var duration: Duration?
    /// Files the command creates, writes or appends to in the activity's file system.
    public var files: [FileEffect] = []
    /// Custom usage counters the command sets, by name, when it ends.
    public var usage: [String: Double] = [:]
    /// The whole line a rule made by `init(exactly:)` matches, compared byte for byte instead
    /// of through its anchored pattern. Not part of equality: the rule is the same rule as the
    /// one its `match` writes.
    var exactLine: String?
    public init(match: String) { self.match = match }

    public static func == (a: CommandRule, b: CommandRule) -> Bool {
        a.match == b.match && a.exitCode == b.exitCode && a.stdout == b.stdout && a.stderr == b.stderr && a.duration == b.duration
            && a.files == b.files && a.usage == b.usage
    }

    public func hash(into h: inout Hasher) {
        h.combine(match)
        h.combine(exitCode)
        h.combine(stdout)
    }

    /// A rule for exactly this command line: its `match` is the anchored, escaped pattern
    /// (`/^…$/`, as written back into scenarios) and lines are compared as bytes (a replay's
    /// rules, one per recorded command line).
    public init(exactly line: String) {
        self.match = "/^" + NSRegularExpression.escapedPattern(for: line) + "$/"
        self.exactLine = line
    }

    var pattern: String? {
        match.utf8.count > 2 && match.hasPrefix("/") && match.hasSuffix("/") ? String(match.dropFirst().dropLast()) : nil
    }

    /// For a rule made by `init(exactly:)`: whether `line` is its line, allowing one final line
    /// terminator after it as the anchored pattern's `$` does.
    private func isExactLine(_ line: String, _ exact: String) -> Bool {
        let l = line.utf8, e = exact.utf8
        guard l.starts(with: e) else { return false }
        let tail = l.dropFirst(e.count)
        return tail.isEmpty || tail.elementsEqual("\n".utf8) || tail.elementsEqual("\r\n".utf8) || tail.elementsEqual("\r".utf8)
    }

    func matches(_ line: String) -> Bool {
        if let exactLine { return isExactLine(line, exactLine) }
        if let pattern {
            guard let regex = RegexCache.regex(pattern) else { return false }
            return regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
        }
        return line.containsBytes(match)
    }

    /// The match and its capture groups (`{0}`, `{1}`, … in templates); `nil` when the line
    /// does not match. A group that took no part in the match is empty.
    func captures(_ line: String) -> [String]? {
        if let exactLine { return isExactLine(line, exactLine) ? [exactLine] : nil }
        guard let pattern else { return line.containsBytes(match) ? [match] : nil }
        guard let regex = RegexCache.regex(pattern),
            let m = regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line))
        else { return nil }
        return (0..<m.numberOfRanges).map { i in Range(m.range(at: i), in: line).map { String(line[$0]) } ?? "" }
    }
}

/// A service on a provider's port: canned HTTP routes, files served from the activity's file
/// system (what the image's web server would serve), an echo, or a banner.
public struct TunnelService: Sendable, Hashable {
    public var port: Int
    public var routes: [HTTPRoute] = []
    /// Serve files under this directory of the activity (`/` → `index.html`).
    public var filesRoot: String?
    /// Send back every byte received.
    public var echo = false
    /// Sent as soon as a connection opens (an SSH or SMTP greeting).
    public var banner: String?
    public init(port: Int) { self.port = port }

    /// Whether it speaks HTTP (routes or files).
    public var isHTTP: Bool { !routes.isEmpty || filesRoot != nil }
}

/// A canned HTTP answer: `method` (any when `nil`) and `path` (without the query). A path
/// segment written `{name}` matches any one segment and binds it for the route's templates
/// (`/images/{name}`); the rest must match exactly.
public struct HTTPRoute: Sendable, Hashable {
    public var method: String?
    public var path: String
    public var status = 200
    public var contentType = "text/plain; charset=utf-8"
    /// `content-type` was given: it wins over the one a served file's name suggests.
    public var contentTypeGiven = false
    public var body: [UInt8] = []
    /// The body was given as text: its placeholders (`{file:…}`, `{now}`, `{each:DIR}…{end}`,
    /// the path's `{name}`s) are filled in per request.
    public var bodyIsTemplate = false
    public var headers: [String: String] = [:]
    /// Append each request's body (or one field of a form-encoded or multipart body) as a line
    /// to this file of the activity: a guestbook, a message board (yapapi's webapp example).
    public var save: String?
    public var saveField: String?
    /// Store each file of a `multipart/form-data` body (only the form field `saveField` when
    /// given) in this directory of the activity under its own name, made safe (what a web app's
    /// upload handler does).
    public var upload: String?
    /// Answer with this file of the activity (a template, e.g. `/uploads/{name}`); 404 when it
    /// does not exist.
    public var file: String?
    public init(path: String) { self.path = path }

    /// The names the path binds, in order (`/a/{x}/{y}` → `x`, `y`).
    public var parameters: [String] {
        path.split(separator: "/").compactMap { Self.parameter($0) }
    }

    static func parameter(_ segment: Substring) -> String? {
        guard segment.count > 2, segment.first == "{", segment.last == "}" else { return nil }
        let name = segment.dropFirst().dropLast()
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { return nil }
        return String(name)
    }

    /// The values the path's `{name}` segments take for `requestPath` (percent-decoded), or
    /// `nil` when the route does not match it. A bound segment never holds `/`, `.` or `..`,
    /// so a template built from it stays where the scenario put it.
    public func match(_ requestPath: String) -> [String: String]? {
        if !path.contains("{") { return requestPath == path ? [:] : nil }
        let want = path.split(separator: "/", omittingEmptySubsequences: false)
        let got = requestPath.split(separator: "/", omittingEmptySubsequences: false)
        guard want.count == got.count else { return nil }
        var bound: [String: String] = [:]
        for (w, g) in zip(want, got) {
            if let name = Self.parameter(w) {
                let value = g.removingPercentEncoding ?? String(g)
                guard !value.isEmpty, value != ".", value != "..", !value.contains("/"),
                    !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
                else { return nil }
                bound[name] = value
            } else if w != g {
                return nil
            }
        }
        return bound
    }
}

/// What a URL serves to a provider's `transfer`.
public struct URLContent: Sendable, Hashable {
    public var url: String
    public var bytes: [UInt8]
    public init(url: String, bytes: [UInt8]) {
        self.url = url
        self.bytes = bytes
    }
}

/// A file a command rule leaves in the activity's file system. `path` and text content are
/// templates (`{1}` a capture group of the match, `{json:FILE:key.0}` a value from a JSON file
/// in the activity, `{file:FILE}`, `{now}`, `{provider}`, `{activity}`; `|04` pads to four
/// digits). Paths must lie in one of the provider's `volumes`.
public struct FileEffect: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        /// A text template written as UTF-8.
        case text(String)
        /// Bytes read from a file beside the scenario at load time.
        case bytes([UInt8])
    }
    public var path: String
    public var content: Content
    /// Append to the file instead of replacing it.
    public var append = false
    public init(path: String, content: Content, append: Bool = false) {
        self.path = path
        self.content = content
        self.append = append
    }
}

/// When a fault strikes: always, with a probability drawn from the seed, after a number of
/// batches on an activity, or at a virtual time since the agreement was approved.
public struct Trigger: Sendable, Hashable {
    public var probability: Double = 1
    public var afterBatches: Int?
    public var at: Duration?
    public init() {}

    /// Whether the fault strikes this time: always at probability 1 (drawing nothing),
    /// otherwise a draw from the provider's seeded stream.
    func strikes(_ random: inout SeededRandom) -> Bool {
        guard probability < 1 else { return true }
        return random.chance(probability)
    }
}

/// Something a provider does wrong.
public enum ProviderFault: Sendable, Hashable {
    case rejectProposal(reason: String, Trigger)
    case rejectAgreement(reason: String, Trigger)
    case failActivityCreation(message: String, Trigger)
    /// Matching `run` commands end with this exit code and stderr.
    case failCommand(match: String, exitCode: Int, stderr: String, Trigger)
    /// The provider terminates the agreement (after N batches or at a time).
    case terminateAgreement(reason: String, Trigger)
    /// The activity goes unresponsive: state `Unresponsive`, batches stop progressing.
    case unresponsive(duration: Duration?, Trigger)
    /// Result polls of the activity stop answering (they time out).
    case stopAnsweringPolls(Trigger)
    case withholdInvoice(Trigger)
    case delayInvoice(Duration, Trigger)
    /// Debit notes at this interval, whatever was negotiated.
    case debitNotesTooFast(interval: Duration, Trigger)
}

/// Faults and behaviour of the simulated daemon itself.
public struct DaemonSpec: Sendable, Hashable {
    /// Added to every answer.
    public var latency: Duration = .zero
    public var faults: [DaemonFault] = []
    /// Whether a provider is offered again to the demands still subscribed when one of its
    /// agreements ends, as yagna 0.17.6 does. Replays of sessions that never saw it turn it off.
    public var reoffersAfterAgreements = true
    /// How long a demand subscription lives (yagna's `DEFAULT_SUBSCRIPTION_TTL`, 1 h); a
    /// demand's `golem.srv.comp.expiration` does not end it.
    public var subscriptionTTL: Duration = .seconds(3600)
    public init() {}
}

/// A fault of the daemon, for requests whose operation matches.
public struct DaemonFault: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// 500 "GSB error: … endpoint address not found" (yapapi retries result polls).
        case gsbError
        /// 408 with an ErrorMessage.
        case timeout
        /// 504.
        case gatewayTimeout
        /// The connection closes without an answer.
        case dropConnection
        /// Extra latency before the answer.
        case delay
        /// The daemon restarts: this request and every request for `duration` get no answer
        /// (open long polls too); state survives, as yagna keeps it in its database.
        case restart
    }
    public var kind: Kind
    /// Which requests: an operation name (`activity.getExecBatchResults`), a path prefix, or `*`.
    public var match: String = "*"
    public var trigger = Trigger()
    /// For `delay` and `restart`: how long.
    public var duration: Duration = .zero
    /// Strike at most this many times (`nil`: no limit).
    public var times: Int?
    public init(kind: Kind) { self.kind = kind }
}

/// An outcome a run of the scenario's app must show.
public enum Expectation: String, Sendable, Hashable, CaseIterable {
    case allTasksAccepted = "all-tasks-accepted"
    case serviceRunning = "service-reached-running"
    case instanceRespawned = "instance-respawned-on-another-provider"
    case invoicesAccepted = "all-invoices-accepted"
    case appFails = "app-fails"
}
