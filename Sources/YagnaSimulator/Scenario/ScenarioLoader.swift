public import Foundation
import Yams
import YagnaAPI

/// Why a scenario is invalid: the file, the line and the key at fault, and what to do.
public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let key: String?
    public let message: String

    public var description: String {
        var out = file
        if let line { out += ":\(line)" }
        out += ": "
        if let key { out += "'\(key)': " }
        return out + message
    }
}

extension Scenario {
    /// Loads and validates a scenario file.
    public static func load(file path: String) throws(ScenarioError) -> Scenario {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ScenarioError(file: path, line: nil, key: nil, message: "cannot read the file (\(error.localizedDescription))")
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses and validates scenario YAML; `file` names the source in errors.
    public static func parse(yaml: String, file: String = "<scenario>") throws(ScenarioError) -> Scenario {
        let node: Node?
        do { node = try Yams.compose(yaml: yaml) } catch {
            var line: Int?
            if let e = error as? YamlError {
                switch e {
                case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): line = mark.line
                case .duplicatedKeysInMapping(_, let context): line = context.mark.line
                default: break
                }
            }
            throw ScenarioError(file: file, line: line, key: nil, message: "not valid YAML: \(error)")
        }
        guard let node else { throw ScenarioError(file: file, line: 1, key: nil, message: "the file is empty; a scenario needs at least 'name' and 'providers'") }
        let reader = YAMLReader(file: file)
        return try reader.scenario(node)
    }
}

struct YAMLReader {
    let file: String

    func fail(_ node: Node?, _ key: String?, _ message: String) -> ScenarioError {
        ScenarioError(file: file, line: node?.mark?.line, key: key, message: message)
    }

    /// The entries of a mapping, checking every key is known.
    func mapping(_ node: Node, _ what: String, known: [String]) throws(ScenarioError) -> [(String, Node, Node)] {
        guard case .mapping(let m) = node else { throw fail(node, nil, "\(what) must be a mapping of keys") }
        var out: [(String, Node, Node)] = []
        for (k, v) in m {
            guard case .scalar(let s) = k else { throw fail(k, nil, "keys must be plain strings") }
            guard known.contains(s.string) else {
                throw fail(k, s.string, "unknown key in \(what); known keys: \(known.joined(separator: ", "))")
            }
            out.append((s.string, k, v))
        }
        return out
    }

    func string(_ node: Node, _ key: String) throws(ScenarioError) -> String {
        guard case .scalar(let s) = node else { throw fail(node, key, "must be a string") }
        return s.string
    }

    func int(_ node: Node, _ key: String, min: Int = 0) throws(ScenarioError) -> Int {
        guard case .scalar(let s) = node, let v = Int(s.string) else { throw fail(node, key, "must be an integer") }
        guard v >= min else { throw fail(node, key, "must be at least \(min)") }
        return v
    }

    func double(_ node: Node, _ key: String) throws(ScenarioError) -> Double {
        guard case .scalar(let s) = node, let v = Double(s.string), v.isFinite else { throw fail(node, key, "must be a number") }
        return v
    }

    func bool(_ node: Node, _ key: String) throws(ScenarioError) -> Bool {
        guard case .scalar(let s) = node else { throw fail(node, key, "must be true or false") }
        switch s.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail(node, key, "must be true or false")
        }
    }

    func probability(_ node: Node, _ key: String) throws(ScenarioError) -> Double {
        let p = try double(node, key)
        guard (0...1).contains(p) else { throw fail(node, key, "must be between 0 and 1") }
        return p
    }

    /// A duration: `250ms`, `2s`, `1.5m`, `1h`, or a number of seconds.
    func duration(_ node: Node, _ key: String) throws(ScenarioError) -> Duration {
        guard case .scalar(let s) = node else { throw fail(node, key, "must be a duration such as 250ms, 2s, 5m") }
        let text = s.string.trimmingSpaces
        // Nanoseconds per unit, so that 1025ms is exactly 1.025 s.
        let units: [(String, Double)] = [("ms", 1e6), ("s", 1e9), ("m", 6e10), ("h", 3.6e12)]
        var number = Double(text)
        var scale = 1e9
        for (suffix, perUnit) in units where number == nil && text.hasSuffix(suffix) {
            number = Double(text.dropLast(suffix.count))
            scale = perUnit
        }
        guard let v = number, v >= 0, v.isFinite else { throw fail(node, key, "'\(text)' is not a duration; write 250ms, 2s, 5m or 1h") }
        guard let d = Duration.rounded(nanoseconds: v * scale) else {
            throw fail(node, key, "'\(text)' is too long: durations go up to about 292 years")
        }
        return d
    }

    /// Whether `t` is a number as JSON spells one (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`).
    static func isJSONNumber(_ t: String) -> Bool {
        var b = Array(t.utf8)[...]
        func digits() -> Int {
            var n = 0
            while let c = b.first, (48...57).contains(c) { b.removeFirst(); n += 1 }
            return n
        }
        if b.first == UInt8(ascii: "-") { b.removeFirst() }
        if b.first == UInt8(ascii: "0") { b.removeFirst() } else if digits() == 0 { return false }
        if b.first == UInt8(ascii: ".") {
            b.removeFirst()
            if digits() == 0 { return false }
        }
        if b.first == UInt8(ascii: "e") || b.first == UInt8(ascii: "E") {
            b.removeFirst()
            if b.first == UInt8(ascii: "+") || b.first == UInt8(ascii: "-") { b.removeFirst() }
            if digits() == 0 { return false }
        }
        return b.isEmpty
    }

    func json(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let s):
            guard s.style == .plain || s.style == .any else { return .string(s.string) }
            let t = s.string
            if t == "null" || t == "~" || t.isEmpty { return .null }
            if t == "true" { return .bool(true) }
            if t == "false" { return .bool(false) }
            // A YAML number goes on the wire as JSON writes it: `+4` and `007` as 4 and 7.
            if let i = Int(t) { return .number(JSONNumber(literal: Self.isJSONNumber(t) ? t : String(i))) }
            if let d = Double(t), d.isFinite, t.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true {
                return .number(JSONNumber(literal: Self.isJSONNumber(t) ? t : JSONNumber(d).literal))
            }
            return .string(t)
        case .sequence(let seq): return .array(seq.map(json))
        case .mapping(let m):
            var o: [String: JSONValue] = [:]
            for (k, v) in m { o[(try? string(k, "")) ?? ""] = json(v) }
            return .object(o)
        case .alias: return .null
        }
    }

    func scenario(_ node: Node) throws(ScenarioError) -> Scenario {
        let entries = try mapping(node, "the scenario", known: ["name", "description", "app", "seed", "requestor", "providers", "daemon", "expect", "assert", "base"])
        guard let nameNode = entries.first(where: { $0.0 == "name" })?.2 else { throw fail(node, "name", "a scenario needs a name") }
        var scenario = Scenario(name: try string(nameNode, "name"))
        var sawProviders = false
        for (key, _, value) in entries {
            switch key {
            case "description": scenario.description = try string(value, key)
            case "app": scenario.app = try app(value)
            case "seed":
                guard case .scalar(let s) = value, let seed = UInt64(s.string) else { throw fail(value, key, "must be a non-negative integer") }
                scenario.seed = seed
            case "requestor":
                for (k, _, v) in try mapping(value, "requestor", known: ["identity", "name", "payment-initialised"]) {
                    switch k {
                    case "identity": scenario.requestor.identity = try string(v, k)
                    case "payment-initialised": scenario.requestor.paymentInitialised = try bool(v, k)
                    default: scenario.requestor.name = try string(v, k)
                    }
                }
            case "providers":
                sawProviders = true
                guard case .sequence(let seq) = value, !seq.isEmpty else { throw fail(value, key, "must be a non-empty list of providers") }
                for item in seq { scenario.providers += try providers(item) }
            case "daemon": scenario.daemon = try daemon(value)
            case "base":
                let path = try string(value, key)
                guard path.hasSuffix(".sqlite") || path.hasSuffix(".db") else {
                    throw fail(value, key, "must name a recording file (.sqlite) whose providers the scenario starts from")
                }
                scenario.base = path.hasPrefix("/") ? path : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(path).path
            case "expect":
                guard case .sequence(let seq) = value else { throw fail(value, key, "must be a list of expectations") }
                for item in seq {
                    let text = try string(item, key)
                    guard let e = Expectation(rawValue: text) else {
                        throw fail(item, key, "unknown expectation '\(text)'; known: \(Expectation.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    scenario.expectations.append(e)
                }
            case "assert":
                guard case .sequence(let seq) = value else { throw fail(value, key, "must be a list of rules (eventually, never, always, count)") }
                for item in seq { scenario.assertions.append(try assertion(item)) }
            default: break
            }
        }
        guard sawProviders || scenario.base != nil else { throw fail(node, "providers", "a scenario needs at least one provider (or a 'base' recording)") }
        var names = Set<String>()
        for p in scenario.providers where !names.insert(p.name).inserted {
            throw fail(node, "providers", "two providers are named '\(p.name)'; names must be unique")
        }
        return scenario
    }

    func app(_ node: Node) throws(ScenarioError) -> AppSpec {
        if case .scalar(let s) = node { return AppSpec(name: s.string) }
        var spec = AppSpec(name: "")
        for (k, _, v) in try mapping(node, "app", known: ["name", "args"]) {
            if k == "name" { spec.name = try string(v, k) } else {
                for (ak, _, av) in try mappingAny(v, "app.args") { spec.arguments[ak] = try string(av, ak) }
            }
        }
        guard !spec.name.isEmpty else { throw fail(node, "app.name", "the app needs a name (hello-task, many-tasks, file-transfer, simple-service)") }
        return spec
    }

    func mappingAny(_ node: Node, _ what: String) throws(ScenarioError) -> [(String, Node, Node)] {
        guard case .mapping(let m) = node else { throw fail(node, nil, "\(what) must be a mapping") }
        var out: [(String, Node, Node)] = []
        for (k, v) in m { out.append((try string(k, what), k, v)) }
        return out
    }

    static let providerKeys = [
        "name", "count", "properties", "pricing", "multi-activity", "max-agreements", "debit-note-interval", "offer-delay", "response-delay",
        "command-duration", "deploy-duration", "commands", "faults", "invoice-delay", "node-id", "unknown-program-exit-code", "volumes", "urls", "image-size", "services",
    ]

    func providers(_ node: Node) throws(ScenarioError) -> [ProviderSpec] {
        let entries = try mapping(node, "a provider", known: Self.providerKeys)
        guard let nameNode = entries.first(where: { $0.0 == "name" })?.2 else { throw fail(node, "name", "every provider needs a name") }
        var spec = ProviderSpec(name: try string(nameNode, "name"))
        var count = 1
        if let volumes = entries.first(where: { $0.0 == "volumes" })?.2 {
            guard case .sequence(let seq) = volumes, !seq.isEmpty else { throw fail(volumes, "volumes", "must be a list of absolute directories, e.g. [/golem/work, /golem/output]") }
            spec.volumes = []
            for item in seq {
                let dir = try string(item, "volumes")
                guard dir.hasPrefix("/"), dir.count > 1 else { throw fail(item, "volumes", "'\(dir)' is not an absolute directory") }
                spec.volumes.append(ActivityPath.normalise(dir))
            }
        }
        for (key, _, value) in entries {
            switch key {
            case "volumes": break
            case "image-size": spec.imageSize = try int(value, key, min: 1)
            case "services":
                guard case .sequence(let seq) = value else { throw fail(value, key, "must be a list of services: {port, http | files | echo | banner}") }
                for item in seq {
                    let service = try tunnelService(item)
                    if spec.services.contains(where: { $0.port == service.port }) { throw fail(item, "port", "two services on port \(service.port)") }
                    spec.services.append(service)
                }
            case "urls":
                guard case .sequence(let seq) = value else { throw fail(value, key, "must be a list of {url, content | from | size}") }
                for item in seq { spec.urls.append(try urlContent(item)) }
            case "count": count = try int(value, key, min: 1)
            case "properties":
                for (k, _, v) in try mappingAny(value, "properties") { spec.properties[k] = json(v) }
            case "pricing":
                for (k, _, v) in try mapping(value, "pricing", known: ["start", "per-cpu-second", "per-duration-second", "counters"]) {
                    if k == "counters" {
                        spec.pricing.counters = try counters(v)
                        continue
                    }
                    let d = try double(v, k)
                    guard d >= 0 else { throw fail(v, k, "prices cannot be negative") }
                    switch k {
                    case "start": spec.pricing.start = d
                    case "per-cpu-second": spec.pricing.perCpuSecond = d
                    default: spec.pricing.perDurationSecond = d
                    }
                }
            case "multi-activity": spec.multiActivity = try bool(value, key)
            case "max-agreements":
                if case .scalar(let s) = value, s.string == "none" { spec.maxAgreements = nil } else { spec.maxAgreements = try int(value, key, min: 1) }
            case "debit-note-interval":
                if case .scalar(let s) = value, s.string == "none" { spec.debitNoteInterval = nil } else {
                    let d = try duration(value, key)
                    guard d > .zero else { throw fail(value, key, "must be positive, or 'none'") }
                    spec.debitNoteInterval = d
                }
            case "offer-delay": spec.offerDelay = try duration(value, key)
            case "response-delay": spec.responseDelay = try duration(value, key)
            case "command-duration": spec.commandDuration = try duration(value, key)
            case "deploy-duration": spec.deployDuration = try duration(value, key)
            case "invoice-delay": spec.invoiceDelay = try duration(value, key)
            case "unknown-program-exit-code":
                spec.unknownProgramExitCode = try int(value, key)
                guard spec.unknownProgramExitCode <= 255 else { throw fail(value, key, "must be an exit code, 0 to 255") }
            case "node-id":
                let id = try string(value, key)
                let hex = id.dropFirst(2)
                guard id.hasPrefix("0x"), hex.count == 40, hex.allSatisfy(\.isHexDigit) else {
                    throw fail(value, key, "must be a node id: 0x and 40 hex digits, e.g. 0x1234567890abcdef1234567890abcdef12345678")
                }
                spec.nodeId = id.lowercased()
            case "commands":
                guard case .sequence(let seq) = value else { throw fail(value, key, "must be a list of command rules") }
                for item in seq { spec.commands.append(try commandRule(item, volumes: spec.volumes)) }
            case "faults":
                guard case .sequence(let seq) = value else { throw fail(value, key, "must be a list of faults") }
                for item in seq { spec.faults.append(try fault(item)) }
            default: break
            }
        }
        let counters = Set(spec.pricing.counters.map(\.name))
        for rule in spec.commands {
            for name in rule.usage.keys.sorted() where !counters.contains(name) {
                throw fail(entries.first(where: { $0.0 == "commands" })?.2, "usage", "the rule for '\(rule.match)' sets '\(name)', which is not one of the provider's pricing counters; declare it under pricing.counters")
            }
        }
        guard count > 1 else { return [spec] }
        if spec.nodeId != nil, let node = entries.first(where: { $0.0 == "node-id" })?.2 {
            throw fail(node, "node-id", "a node id names one provider; it cannot be given with 'count'")
        }
        return (1...count).map { i in
            var copy = spec
            copy.name = "\(spec.name)-\(i)"
            return copy
        }
    }

    /// `counters: [{name: golem.usage.custom.counter, price: 0.0003, initial: 10, per-second: 0.5}]`.
    func counters(_ node: Node) throws(ScenarioError) -> [UsageCounter] {
        guard case .sequence(let seq) = node, !seq.isEmpty else { throw fail(node, "counters", "must be a list of usage counters: {name, price, initial, per-second}") }
        var out: [UsageCounter] = []
        for item in seq {
            let entries = try mapping(item, "a usage counter", known: ["name", "price", "initial", "per-second"])
            guard let n = entries.first(where: { $0.0 == "name" })?.2 else { throw fail(item, "name", "a usage counter needs 'name', e.g. golem.usage.custom.counter") }
            var counter = UsageCounter(name: try string(n, "name"))
            guard !["golem.usage.duration_sec", "golem.usage.cpu_sec"].contains(counter.name), !out.contains(where: { $0.name == counter.name }) else {
                throw fail(n, "name", "'\(counter.name)' is already in the usage vector (duration and CPU come first by themselves)")
            }
            for (k, _, v) in entries where k != "name" {
                let d = try double(v, k)
                guard d >= 0 else { throw fail(v, k, "cannot be negative") }
                switch k {
                case "price": counter.price = d
                case "initial": counter.initial = d
                default: counter.perSecond = d
                }
            }
            out.append(counter)
        }
        return out
    }

    func commandRule(_ node: Node, volumes: [String]) throws(ScenarioError) -> CommandRule {
        let entries = try mapping(node, "a command rule", known: ["match", "exit-code", "stdout", "stderr", "duration", "files", "usage"])
        guard let m = entries.first(where: { $0.0 == "match" })?.2 else { throw fail(node, "match", "a command rule needs 'match'") }
        var rule = CommandRule(match: try string(m, "match"))
        for (key, _, value) in entries {
            switch key {
            case "exit-code": rule.exitCode = try int(value, key)
            case "stdout": rule.stdout = try string(value, key)
            case "stderr": rule.stderr = try string(value, key)
            case "duration": rule.duration = try duration(value, key)
            case "files":
                guard case .sequence(let seq) = value else { throw fail(value, key, "must be a list of files: {path, content | append | from}") }
                for item in seq { rule.files.append(try fileEffect(item, volumes: volumes)) }
            case "usage":
                for (k, _, v) in try mappingAny(value, "usage") {
                    let d = try double(v, k)
                    guard d >= 0 else { throw fail(v, k, "a counter cannot be negative") }
                    rule.usage[k] = d
                }
            default: break
            }
        }
        if rule.pattern != nil, (try? NSRegularExpression(pattern: rule.pattern!)) == nil {
            throw fail(m, "match", "'\(rule.match)' is not a valid regular expression")
        }
        return rule
    }

    /// `{port: 80, http: [routes], files: /usr/share/nginx/html}`, `{port: 7, echo: true}` or
    /// `{port: 22, banner: "SSH-2.0-…"}`.
    func tunnelService(_ node: Node) throws(ScenarioError) -> TunnelService {
        let entries = try mapping(node, "a service", known: ["port", "http", "files", "echo", "banner"])
        guard let p = entries.first(where: { $0.0 == "port" })?.2 else { throw fail(node, "port", "a service needs 'port'") }
        let port = try int(p, "port", min: 1)
        guard port <= 65535 else { throw fail(p, "port", "must be a TCP port, 1 to 65535") }
        var service = TunnelService(port: port)
        for (key, _, value) in entries {
            switch key {
            case "http":
                guard case .sequence(let seq) = value else { throw fail(value, key, "must be a list of routes: {path, method, status, content-type, body | from, headers}") }
                for item in seq { service.routes.append(try route(item)) }
            case "files":
                let root = try string(value, key)
                guard root.hasPrefix("/") else { throw fail(value, key, "must be an absolute directory of the activity, e.g. /usr/share/nginx/html") }
                service.filesRoot = ActivityPath.normalise(root)
            case "echo": service.echo = try bool(value, key)
            case "banner": service.banner = try string(value, key)
            default: break
            }
        }
        let kinds = [service.isHTTP, service.echo, service.banner != nil].filter { $0 }.count
        guard kinds == 1 else { throw fail(node, "port", "a service is one of: 'http' routes and/or 'files', 'echo', or 'banner'") }
        return service
    }

    func route(_ node: Node) throws(ScenarioError) -> HTTPRoute {
        let entries = try mapping(node, "an HTTP route", known: ["path", "method", "status", "content-type", "body", "from", "headers", "save", "field", "upload", "file"])
        guard let p = entries.first(where: { $0.0 == "path" })?.2 else { throw fail(node, "path", "a route needs 'path'") }
        var route = HTTPRoute(path: try string(p, "path"))
        guard route.path.hasPrefix("/") else { throw fail(p, "path", "must start with /") }
        for (key, _, value) in entries {
            switch key {
            case "method": route.method = try string(value, key).uppercased()
            case "status":
                route.status = try int(value, key, min: 100)
                guard route.status <= 599 else { throw fail(value, key, "must be an HTTP status, 100 to 599") }
            case "content-type":
                route.contentType = try string(value, key)
                route.contentTypeGiven = true
            case "body":
                route.body = Array(try string(value, key).utf8)
                route.bodyIsTemplate = true
            case "save":
                let target = try string(value, key)
                guard target.hasPrefix("/") else { throw fail(value, key, "must be an absolute path in the activity") }
                route.save = ActivityPath.normalise(target)
            case "field": route.saveField = try string(value, key)
            case "upload":
                let target = try string(value, key)
                guard target.hasPrefix("/") else { throw fail(value, key, "must be an absolute directory of the activity, e.g. /app/uploads") }
                route.upload = ActivityPath.normalise(target)
            case "file":
                let target = try string(value, key)
                guard target.hasPrefix("/") else { throw fail(value, key, "must be an absolute path of the activity, e.g. /app/uploads/{name}") }
                route.file = target
            case "from": route.body = try bytesBeside(value, key)
            case "headers": for (k, _, v) in try mappingAny(value, "headers") { route.headers[k] = try string(v, k) }
            default: break
            }
        }
        if route.saveField != nil && route.save == nil && route.upload == nil {
            throw fail(node, "field", "names the form field to 'save' or 'upload'; give one of them too")
        }
        if route.save != nil && route.upload != nil { throw fail(node, "upload", "a route either appends a line ('save') or stores uploaded files ('upload'), not both") }
        let given = Set(entries.map(\.0))
        if route.file != nil && (given.contains("body") || given.contains("from")) {
            throw fail(node, "file", "a route answers with either 'body'/'from' or a 'file' of the activity, not both")
        }
        // Every `{name}` a template of the route uses must be bound by its path.
        let bound = Set(route.parameters)
        for segment in route.path.split(separator: "/") where segment.contains("{") && HTTPRoute.parameter(segment) == nil {
            throw fail(p, "path", "'\(segment)': a bound segment is written {name} (letters, digits, _ and -), and fills the whole segment")
        }
        if bound.count != route.parameters.count { throw fail(p, "path", "binds a name twice") }
        if let file = route.file {
            for name in Self.placeholderNames(file) where !bound.contains(name) {
                throw fail(node, "file", "uses {\(name)}, which the path '\(route.path)' does not bind")
            }
        }
        return route
    }

    /// The simple `{name}` placeholders of a template (not `{file:…}`, `{1}` and the like).
    static func placeholderNames(_ text: String) -> [String] {
        var names: [String] = []
        var rest = text[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            let name = rest[rest.index(after: open)..<close]
            if HTTPRoute.parameter(rest[open...close]) != nil, Int(name) == nil, !["now", "provider", "activity", "end"].contains(name) {
                names.append(String(name))
            }
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// `{url: U, content: TEXT}`, `{url: U, from: FILE}` or `{url: U, size: BYTES}` (that
    /// many deterministic bytes).
    func urlContent(_ node: Node) throws(ScenarioError) -> URLContent {
        let entries = try mapping(node, "a URL", known: ["url", "content", "from", "size"])
        guard let u = entries.first(where: { $0.0 == "url" })?.2 else { throw fail(node, "url", "each entry needs 'url'") }
        let url = try string(u, "url")
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw fail(u, "url", "'\(url)' is not an http:// or https:// URL") }
        let sources = entries.filter { ["content", "from", "size"].contains($0.0) }
        guard sources.count == 1, let (kind, _, value) = sources.first else {
            throw fail(node, "content", "a URL needs exactly one of 'content' (text), 'from' (a file beside the scenario) or 'size' (bytes)")
        }
        switch kind {
        case "content": return URLContent(url: url, bytes: Array(try string(value, kind).utf8))
        case "size":
            let size = try int(value, kind)
            guard size <= 1 << 30 else { throw fail(value, kind, "at most 1 GiB") }
            var bytes = [UInt8](repeating: 0, count: size)
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            bytes.withUnsafeMutableBytes { buffer in
                var i = 0
                while i < size {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    var word = state
                    for _ in 0..<min(8, size - i) {
                        buffer[i] = UInt8(truncatingIfNeeded: word)
                        word >>= 8
                        i += 1
                    }
                }
            }
            return URLContent(url: url, bytes: bytes)
        default: return URLContent(url: url, bytes: try bytesBeside(value, kind))
        }
    }

    func bytesBeside(_ value: Node, _ key: String) throws(ScenarioError) -> [UInt8] {
        let name = try string(value, key)
        let resolved = name.hasPrefix("/") ? name : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(name).path
        guard let data = FileManager.default.contents(atPath: resolved) else {
            throw fail(value, key, "cannot read \(name) (looked for \(resolved)); put the file beside the scenario")
        }
        return Array(data)
    }

    /// `{path: P, content: T}`, `{path: P, append: T}` or `{path: P, from: FILE}`.
    func fileEffect(_ node: Node, volumes: [String]) throws(ScenarioError) -> FileEffect {
        let entries = try mapping(node, "a file of a command rule", known: ["path", "content", "append", "from"])
        guard let pathNode = entries.first(where: { $0.0 == "path" })?.2 else { throw fail(node, "path", "a file needs 'path'") }
        let path = try string(pathNode, "path")
        if !path.contains("{") {
            let target = ActivityPath.normalise(path)
            guard ActivityPath.inVolume(target, volumes) else {
                throw fail(pathNode, "path", "\(target) is outside the provider's volumes; write under \(volumes.joined(separator: ", ")) or list its directory in 'volumes'")
            }
        }
        let sources = entries.filter { ["content", "append", "from"].contains($0.0) }
        guard sources.count == 1, let (kind, _, value) = sources.first else {
            throw fail(node, "content", "a file needs exactly one of 'content' (text), 'append' (text) or 'from' (a file beside the scenario)")
        }
        switch kind {
        case "from": return FileEffect(path: path, content: .bytes(try bytesBeside(value, kind)))
        default:
            return FileEffect(path: path, content: .text(try string(value, kind)), append: kind == "append")
        }
    }

    static let faultKinds = [
        "reject-proposal", "reject-agreement", "fail-activity-creation", "fail-command", "terminate-agreement", "unresponsive",
        "stop-answering-polls", "withhold-invoice", "delay-invoice", "debit-notes-too-fast",
    ]

    func trigger(_ entries: [(String, Node, Node)]) throws(ScenarioError) -> Trigger {
        var t = Trigger()
        for (key, _, value) in entries {
            switch key {
            case "probability": t.probability = try probability(value, key)
            case "after-batches": t.afterBatches = try int(value, key)
            case "at": t.at = try duration(value, key)
            default: break
            }
        }
        return t
    }

    func fault(_ node: Node) throws(ScenarioError) -> ProviderFault {
        let kindEntries = try mappingAny(node, "a fault")
        guard kindEntries.count == 1, let (kind, keyNode, body) = kindEntries.first else {
            throw fail(node, nil, "a fault is a mapping with one key, its kind: \(Self.faultKinds.joined(separator: ", "))")
        }
        guard Self.faultKinds.contains(kind) else {
            throw fail(keyNode, kind, "unknown fault; known faults: \(Self.faultKinds.joined(separator: ", "))")
        }
        let common = ["probability", "after-batches", "at"]
        var extra: [String] = []
        switch kind {
        case "reject-proposal", "reject-agreement", "terminate-agreement": extra = ["reason"]
        case "fail-activity-creation": extra = ["message"]
        case "fail-command": extra = ["match", "exit-code", "stderr"]
        case "unresponsive", "delay-invoice": extra = ["duration"]
        case "debit-notes-too-fast": extra = ["interval"]
        default: break
        }
        var entries: [(String, Node, Node)] = []
        if case .scalar(let s) = body, s.string.isEmpty || s.string == "{}" || s.string == "null" || s.string == "~" {
            entries = []
        } else {
            entries = try mapping(body, "fault '\(kind)'", known: common + extra)
        }
        let t = try trigger(entries)
        func value(_ k: String) -> Node? { entries.first { $0.0 == k }?.2 }
        func str(_ k: String, _ d: String) throws(ScenarioError) -> String { if let n = value(k) { return try string(n, k) } else { return d } }
        switch kind {
        case "reject-proposal": return .rejectProposal(reason: try str("reason", "No capacity"), t)
        case "reject-agreement": return .rejectAgreement(reason: try str("reason", "Provider busy"), t)
        case "fail-activity-creation": return .failActivityCreation(message: try str("message", "Failed to create activity: exe-unit crashed"), t)
        case "fail-command":
            let code = try value("exit-code").map { (n: Node) throws(ScenarioError) -> Int in try int(n, "exit-code", min: 1) } ?? 1
            return .failCommand(match: try str("match", ""), exitCode: code, stderr: try str("stderr", "command failed"), t)
        case "terminate-agreement":
            guard t.afterBatches != nil || t.at != nil else {
                throw fail(body, kind, "say when: 'after-batches: N' or 'at: 30s'")
            }
            return .terminateAgreement(reason: try str("reason", "Provider terminated the agreement"), t)
        case "unresponsive":
            guard t.afterBatches != nil || t.at != nil else { throw fail(body, kind, "say when: 'after-batches: N' or 'at: 30s'") }
            return .unresponsive(duration: try value("duration").map { (n: Node) throws(ScenarioError) -> Duration in try duration(n, "duration") }, t)
        case "stop-answering-polls": return .stopAnsweringPolls(t)
        case "withhold-invoice": return .withholdInvoice(t)
        case "delay-invoice":
            guard let d = value("duration") else { throw fail(body, kind, "needs 'duration'") }
            return .delayInvoice(try duration(d, "duration"), t)
        default:
            guard let d = value("interval") else { throw fail(body, kind, "needs 'interval'") }
            return .debitNotesTooFast(interval: try duration(d, "interval"), t)
        }
    }

    func daemon(_ node: Node) throws(ScenarioError) -> DaemonSpec {
        var spec = DaemonSpec()
        for (key, _, value) in try mapping(node, "daemon", known: ["latency", "faults", "subscription-ttl"]) {
            if key == "latency" { spec.latency = try duration(value, key); continue }
            if key == "subscription-ttl" {
                spec.subscriptionTTL = try duration(value, key)
                guard spec.subscriptionTTL > .zero else { throw fail(value, key, "must be positive") }
                continue
            }
            guard case .sequence(let seq) = value else { throw fail(value, key, "must be a list of daemon faults") }
            for item in seq {
                let kinds = ["gsb-error", "timeout", "gateway-timeout", "drop-connection", "delay", "restart"]
                let entries = try mapping(item, "a daemon fault", known: ["kind", "match", "probability", "after-batches", "at", "duration", "times"])
                guard let k = entries.first(where: { $0.0 == "kind" })?.2 else { throw fail(item, "kind", "a daemon fault needs 'kind': \(kinds.joined(separator: ", "))") }
                let name = try string(k, "kind")
                let mapped = ["gsb-error": "gsbError", "timeout": "timeout", "gateway-timeout": "gatewayTimeout", "drop-connection": "dropConnection", "delay": "delay", "restart": "restart"][name]
                guard let kind = mapped.flatMap(DaemonFault.Kind.init(rawValue:)) else {
                    throw fail(k, "kind", "unknown daemon fault '\(name)'; known: \(kinds.joined(separator: ", "))")
                }
                var fault = DaemonFault(kind: kind)
                fault.trigger = try trigger(entries)
                for (fk, _, fv) in entries {
                    switch fk {
                    case "match": fault.match = try string(fv, fk)
                    case "duration": fault.duration = try duration(fv, fk)
                    case "times": fault.times = try int(fv, fk, min: 1)
                    default: break
                    }
                }
                spec.faults.append(fault)
            }
        }
        return spec
    }

    func assertion(_ node: Node) throws(ScenarioError) -> JournalAssertion {
        let kinds = ["eventually", "never", "always", "count"]
        let entries = try mapping(node, "an assertion", known: kinds + ["name", "within", "from", "until", "for", "at-least", "at-most"])
        let present = entries.filter { kinds.contains($0.0) }
        guard present.count == 1, let (kind, _, body) = present.first else {
            throw fail(node, nil, "an assertion has exactly one of: \(kinds.joined(separator: ", "))")
        }
        func value(_ k: String) -> Node? { entries.first { $0.0 == k }?.2 }
        func allowed(_ keys: [String]) throws(ScenarioError) {
            for (k, keyNode, _) in entries where !kinds.contains(k) && !["name", "from", "until"].contains(k) && !keys.contains(k) {
                throw fail(keyNode, k, "does not apply to '\(kind)'")
            }
        }
        let m = try matcher(body, kind)
        let rule: JournalAssertion.Rule
        switch kind {
        case "eventually":
            try allowed(["within"])
            rule = .eventually(m, within: try value("within").map { (n: Node) throws(ScenarioError) -> Duration in try duration(n, "within") })
        case "never":
            try allowed([])
            rule = .never(m)
        case "always":
            try allowed(["for"])
            rule = .always(m, scope: try value("for").map { (n: Node) throws(ScenarioError) -> ExchangeMatcher in try matcher(n, "for") } ?? ExchangeMatcher())
        default:
            try allowed(["at-least", "at-most"])
            let lo = try value("at-least").map { (n: Node) throws(ScenarioError) -> Int in try int(n, "at-least") }
            let hi = try value("at-most").map { (n: Node) throws(ScenarioError) -> Int in try int(n, "at-most") }
            guard lo != nil || hi != nil else { throw fail(node, "count", "say how many: 'at-least: N', 'at-most: N' or both") }
            if let lo, let hi, lo > hi { throw fail(node, "at-least", "is more than 'at-most'") }
            rule = .count(m, atLeast: lo, atMost: hi)
        }
        var a = JournalAssertion(rule)
        if let n = value("name") { a.name = try string(n, "name") }
        if let n = value("from") { a.from = try duration(n, "from") }
        if let n = value("until") { a.until = try duration(n, "until") }
        if let from = a.from, let until = a.until, from > until { throw fail(node, "from", "is later than 'until'") }
        return a
    }

    func matcher(_ node: Node, _ key: String) throws(ScenarioError) -> ExchangeMatcher {
        var m = ExchangeMatcher()
        for (k, _, v) in try mapping(node, "'\(key)'", known: ["op", "api", "method", "path", "status", "request", "response"]) {
            switch k {
            case "op":
                let op = try string(v, k)
                let known = OperationCatalog.all.map(\.name)
                guard op.hasSuffix("*") ? known.contains(where: { $0.hasPrefix(op.dropLast()) }) : known.contains(op) else {
                    throw fail(v, k, "unknown operation '\(op)'; write one such as payment.acceptInvoice or market.* (golem-sim verify lists them)")
                }
                m.op = op
            case "api":
                let api = try string(v, k)
                let apis = ["market", "activity", "payment", "net", "identity", "version", "registry"]
                guard apis.contains(api) else { throw fail(v, k, "unknown API '\(api)'; known: \(apis.joined(separator: ", "))") }
                m.api = api
            case "method":
                let method = try string(v, k).uppercased()
                guard HTTPMethod(rawValue: method) != nil else { throw fail(v, k, "must be GET, POST, PUT, DELETE or HEAD") }
                m.method = method
            case "path": m.path = try string(v, k)
            case "request": m.request = try string(v, k)
            case "response": m.response = try string(v, k)
            default:
                let items: [Node]
                if case .sequence(let seq) = v { items = Array(seq) } else { items = [v] }
                for item in items {
                    let s = try string(item, k)
                    guard ExchangeMatcher.isStatusPattern(s) else { throw fail(item, k, "'\(s)' is not a status; write 200, 4xx or a list") }
                    m.status.append(s.lowercased())
                }
            }
        }
        return m
    }
}
