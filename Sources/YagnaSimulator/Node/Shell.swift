import Foundation

/// Just enough POSIX shell syntax for the commands real images' scripts send: words with
/// quotes and backslashes, `;` `&&` `||` and newlines between pipelines, `|` within one,
/// redirections (`>`, `>>`, `<`, `2>`, `2>>`, `2>&1`), a trailing `&`, and expansions —
/// `$NAME`, `${NAME}`, `${NAME:-word}`, `$?`, and command substitution `$(…)` and `` `…` ``
/// (outside single quotes), and arithmetic `$((…))` (see `ShellArithmetic`). Words keep their expansions as marked spans, filled in when the
/// command runs (after the assignments before it); what an unquoted expansion gives is split
/// into fields on blanks (spaces, tabs, newlines), as sh splits it with its default `IFS`.
enum Shell {
    /// Marks a parameter expansion (`NAME`, `NAME:-word`) inside a word.
    static let parameterOpen: Character = "\u{E000}", parameterClose: Character = "\u{E001}"
    /// Marks a command substitution (its script) inside a word.
    static let commandOpen: Character = "\u{E002}", commandClose: Character = "\u{E003}"
    /// Stands before an expansion outside quotes: its value is split into fields.
    static let splitMark: Character = "\u{E004}"
    /// Stands before a `*`, `?` or `[` outside quotes: the field it ends up in is a pathname
    /// pattern.
    static let globMark: Character = "\u{E007}"
    /// Stands for empty quotes (`''`, `""`) in a word with unquoted expansions: the word is a
    /// field even if the expansions give nothing.
    static let quotedMark: Character = "\u{E008}"
    /// Marks an arithmetic expansion (its expression, unexpanded) inside a word.
    static let arithmeticOpen: Character = "\u{E005}", arithmeticClose: Character = "\u{E006}"

    /// An expansion that cannot be made (`$((1/0))`): dash reports it and the script exits (2).
    struct ExpansionError: Error, Equatable {
        let message: String
    }

    enum Token: Equatable {
        case word(String)
        case op(String)
    }

    /// A compound command: a loop or a conditional, of lists of pipelines.
    indirect enum Compound: Equatable {
        case forLoop(variable: String, words: [String], body: [Pipeline])
        case ifClause(branches: [Branch], otherwise: [Pipeline]?)
        case whileLoop(condition: [Pipeline], body: [Pipeline], until: Bool)
    }

    /// One `if`/`elif` condition and what runs when it holds.
    struct Branch: Equatable {
        var condition: [Pipeline]
        var body: [Pipeline]
    }

    /// A command with its redirections: a simple command's words, or a compound command.
    struct Command: Equatable {
        var words: [String] = []
        var compound: Compound?
        var stdout: (path: String, append: Bool)?
        var stderr: (path: String, append: Bool)?
        /// `2>&1` after any `>`: stderr goes wherever stdout goes.
        var stderrToStdout = false
        /// `2>&1` before a `>`: stderr goes to the stdout the command started with.
        var stderrToOriginalStdout = false
        /// `>&2`, `1>&2`: stdout goes to stderr.
        var stdoutToStderr = false
        var stdin: String?

        static func == (a: Command, b: Command) -> Bool {
            a.words == b.words && a.compound == b.compound && a.stdout?.path == b.stdout?.path && a.stdout?.append == b.stdout?.append
                && a.stderr?.path == b.stderr?.path && a.stderrToStdout == b.stderrToStdout && a.stdin == b.stdin
                && a.stderrToOriginalStdout == b.stderrToOriginalStdout && a.stdoutToStderr == b.stdoutToStderr
        }
    }

    /// Commands joined by `|`, and how the list goes on after it: `;`, `&&` or `||`.
    struct Pipeline: Equatable {
        var commands: [Command]
        /// The connector before this pipeline (`nil` for the first).
        var after: String?
        /// Sent to the background with `&`: the shell goes on at once and `$?` is 0.
        var background = false
    }

    struct SyntaxError: Error, Equatable {
        let message: String
    }

    static func tokens(_ script: String) throws(SyntaxError) -> [Token] {
        var out: [Token] = []
        var current = ""
        var inWord = false
        var chars = Array(script)[...]
        func flush() {
            // Empty quotes matter only beside unquoted expansions.
            if current.contains(quotedMark) && !current.contains(splitMark) { current.removeAll { $0 == quotedMark } }
            // A `[` with no `]` after it is no pattern (the `[` command, above all).
            if current.contains(globMark), let open = current.lastIndex(of: "["), !current[open...].contains("]") {
                var kept = ""
                var rest = current[...]
                while let c = rest.popFirst() {
                    if c == globMark, rest.first == "[", !rest.dropFirst().contains("]") { continue }
                    kept.append(c)
                }
                current = kept
            }
            if inWord { out.append(.word(current)) }
            current = ""
            inWord = false
        }
        while let c = chars.popFirst() {
            switch c {
            case "'", "\"":
                inWord = true
                if chars.first == c { current.append(quotedMark) }
                var closed = false
                while let d = chars.popFirst() {
                    if d == c { closed = true; break }
                    if c == "\"", d == "\\", let e = chars.first, "\"\\$`".contains(e) { current.append(chars.removeFirst()); continue }
                    if c == "\"", d == "$" || d == "`" {
                        current += try expansion(after: d, &chars)
                        continue
                    }
                    current.append(d)
                }
                guard closed else { throw SyntaxError(message: "Syntax error: Unterminated quoted string") }
            case "$", "`":
                inWord = true
                let span = try expansion(after: c, &chars)
                if span.first == parameterOpen || span.first == commandOpen || span.first == arithmeticOpen { current.append(splitMark) }
                current += span
            case "\\":
                if let d = chars.popFirst() { if d != "\n" { current.append(d); inWord = true } }
            case ";":
                flush(); out.append(.op(";"))
            case "\n":
                flush(); out.append(.op("\n"))
            case "#" where !inWord:
                // A comment, to the end of the line.
                while let d = chars.first, d != "\n" { chars.removeFirst() }
            case "&":
                flush()
                if chars.first == "&" { chars.removeFirst(); out.append(.op("&&")) } else { out.append(.op("&")) }
            case "|":
                flush()
                if chars.first == "|" { chars.removeFirst(); out.append(.op("||")) } else { out.append(.op("|")) }
            case "<":
                flush(); out.append(.op("<"))
            case ">":
                // `2>` and `1>` when the digit stands right before the arrow.
                var prefix = ""
                if inWord, current == "2" || current == "1" { prefix = current == "2" ? "2" : ""; current = ""; inWord = false }
                flush()
                var op = prefix + ">"
                if chars.first == ">" { chars.removeFirst(); op += ">" }
                if chars.first == "&", chars.dropFirst().first == "1", prefix == "2" {
                    chars.removeFirst(2)
                    op = "2>&1"
                } else if chars.first == "&", chars.dropFirst().first == "2", prefix.isEmpty, op == ">" {
                    chars.removeFirst(2)
                    op = "1>&2"
                }
                out.append(.op(op))
            case " ", "\t", "\r":
                flush()
            case "*", "?", "[":
                current.append(globMark)
                current.append(c)
                inWord = true
            default:
                current.append(c)
                inWord = true
            }
        }
        flush()
        return out
    }

    /// What follows a `$` or a backtick, as a marked span (or the `$` itself when nothing
    /// expandable follows).
    static func expansion(after c: Character, _ chars: inout ArraySlice<Character>) throws(SyntaxError) -> String {
        if c == "`" {
            var script = ""
            while let d = chars.popFirst() {
                if d == "`" { return String(commandOpen) + script + String(commandClose) }
                if d == "\\", let e = chars.first, "`\\$".contains(e) { script.append(chars.removeFirst()); continue }
                script.append(d)
            }
            throw SyntaxError(message: "Syntax error: EOF in backquote substitution")
        }
        guard let next = chars.first else { return "$" }
        if next == "(", chars.dropFirst().first == "(" {
            // `$((expression))`: to the `))` that closes it, over nested parentheses.
            chars.removeFirst(2)
            guard let expression = scan(&chars, to: ")", from: "("), chars.popFirst() == ")" else {
                throw SyntaxError(message: "Syntax error: Missing '))'")
            }
            return String(arithmeticOpen) + expression + String(arithmeticClose)
        }
        if next == "(" {
            chars.removeFirst()
            guard let script = scan(&chars, to: ")", from: "(") else {
                throw SyntaxError(message: "Syntax error: end of file unexpected (expecting \")\")")
            }
            return String(commandOpen) + script + String(commandClose)
        }
        if next == "{" {
            chars.removeFirst()
            var name = ""
            while let d = chars.first, d == "_" || d == "?" || (d.isASCII && (d.isLetter || d.isNumber)) { name.append(chars.removeFirst()) }
            guard !name.isEmpty else { throw SyntaxError(message: "Syntax error: Bad substitution") }
            if chars.first == "}" {
                chars.removeFirst()
                return String(parameterOpen) + name + String(parameterClose)
            }
            guard chars.first == ":", chars.dropFirst().first == "-" else { throw SyntaxError(message: "Syntax error: Bad substitution") }
            chars.removeFirst(2)
            // The default word, to its matching brace; its quotes and expansions are read as a
            // word's are, when it is used.
            guard let word = scan(&chars, to: "}", from: "{") else { throw SyntaxError(message: "Syntax error: Missing '}'") }
            return String(parameterOpen) + name + ":-" + word + String(parameterClose)
        }
        if next == "?" || next == "$" || next == "#" || next.isNumber {
            chars.removeFirst()
            return String(parameterOpen) + String(next) + String(parameterClose)
        }
        guard next == "_" || (next.isASCII && next.isLetter) else { return "$" }
        var name = ""
        while let d = chars.first, d == "_" || (d.isASCII && (d.isLetter || d.isNumber)) { name.append(chars.removeFirst()) }
        return String(parameterOpen) + name + String(parameterClose)
    }

    /// The text up to the `close` that matches an `open` already read, over nested pairs and
    /// quoted text (the close is consumed, not returned); `nil` if the script ends first.
    static func scan(_ chars: inout ArraySlice<Character>, to close: Character, from open: Character) -> String? {
        var depth = 1
        var text = ""
        var quote: Character?
        while let d = chars.popFirst() {
            if let q = quote {
                if d == q { quote = nil }
            } else if d == "'" || d == "\"" {
                quote = d
            } else if d == open {
                depth += 1
            } else if d == close {
                depth -= 1
                if depth == 0 { return text }
            }
            text.append(d)
        }
        return nil
    }

    /// A word with its expansions filled in: parameters from `variables` (unset is empty;
    /// `NAME:-word` gives `word` when unset or empty), command substitutions by `substitute`
    /// (trailing newlines dropped). No field splitting: for assignments and redirections.
    static func expand(_ word: String, variables: [String: String], substitute: (String) -> String) throws(ExpansionError) -> String {
        guard word.contains(where: { $0 == parameterOpen || $0 == commandOpen || $0 == arithmeticOpen || $0 == globMark }) else { return word }
        var out = ""
        try walk(word, variables: variables, substitute: substitute) { piece, _ in out += piece }
        out.removeAll { $0 == globMark }
        return out
    }

    /// A command's word as the fields it becomes: expanded, and what its unquoted expansions
    /// give split on blanks. A word that is only unquoted expansions giving nothing (or blanks)
    /// is no field at all; `""` is one empty field.
    /// A field holding unquoted `*`, `?` or `[` is a pathname pattern: `glob` gives the paths it
    /// matches, sorted (`nil` or none: the field stays as written).
    static func fields(
        _ word: String, variables: [String: String], substitute: (String) -> String, glob: (String) -> [String]? = { _ in nil }
    ) throws(ExpansionError) -> [String] {
        guard word.contains(where: { $0 == splitMark || $0 == globMark }) else { return [try expand(word, variables: variables, substitute: substitute)] }
        var fields: [String] = []
        var current = ""
        var started = false
        try walk(word, variables: variables, substitute: substitute) { piece, split in
            guard split else {
                current += piece
                started = true
                return
            }
            for c in piece {
                if c == " " || c == "\t" || c == "\n" {
                    if started { fields.append(current) }
                    current = ""
                    started = false
                } else {
                    // What an unquoted expansion gives is a pattern too.
                    if c == "*" || c == "?" || c == "[" { current.append(globMark) }
                    current.append(c)
                    started = true
                }
            }
        }
        if started { fields.append(current) }
        return fields.flatMap { field -> [String] in
            guard field.contains(globMark) else { return [field] }
            let literal = String(field.filter { $0 != globMark })
            guard let matches = glob(pattern(field)), !matches.isEmpty else { return [literal] }
            return matches
        }
    }

    /// A field with marked pattern characters as an `fnmatch` pattern: the marked ones active,
    /// every other `*?[\` escaped.
    static func pattern(_ field: String) -> String {
        var out = ""
        var active = false
        for c in field {
            if c == globMark {
                active = true
                continue
            }
            if !active, c == "*" || c == "?" || c == "[" || c == "\\" { out.append("\\") }
            out.append(c)
            active = false
        }
        return out
    }

    /// Hands `word`'s pieces in order to `piece`: literal text, and each expansion's value with
    /// whether it stood outside quotes (to be split).
    private static func walk(
        _ word: String, variables: [String: String], substitute: (String) -> String, _ piece: (String, _ split: Bool) -> Void
    ) throws(ExpansionError) {
        var literal = ""
        var split = false
        var rest = word[...]
        func flush() {
            if !literal.isEmpty { piece(literal, false) }
            literal = ""
        }
        func expansion(_ value: String) {
            flush()
            piece(value, split)
            split = false
        }
        while let c = rest.popFirst() {
            if c == splitMark {
                split = true
            } else if c == quotedMark {
                flush()
                piece("", false)
            } else if c == parameterOpen, let close = rest.firstIndex(of: parameterClose) {
                let spec = String(rest[..<close])
                rest = rest[rest.index(after: close)...]
                if let range = spec.range(of: ":-") {
                    let value = variables[String(spec[..<range.lowerBound])] ?? ""
                    if !value.isEmpty {
                        expansion(value)
                    } else {
                        // The default word, read as the shell reads words: outside quotes its
                        // words are fields of their own (its quoted parts kept whole).
                        let words = ((try? tokens(String(spec[range.upperBound...]))) ?? []).compactMap { token -> String? in
                            guard case .word(let w) = token else { return nil }
                            return w
                        }
                        if split {
                            flush()
                            split = false
                            for (i, w) in words.enumerated() {
                                if i > 0 { piece(" ", true) }
                                // An empty word there was quoted (`''`): a field of its own.
                                if w.isEmpty { piece("", false) } else { try walk(w, variables: variables, substitute: substitute, piece) }
                            }
                        } else {
                            var values: [String] = []
                            for w in words { values.append(try expand(w, variables: variables, substitute: substitute)) }
                            expansion(values.joined(separator: " "))
                        }
                    }
                } else {
                    expansion(variables[spec] ?? "")
                }
            } else if c == arithmeticOpen, let close = rest.firstIndex(of: arithmeticClose) {
                let expression = String(rest[..<close])
                rest = rest[rest.index(after: close)...]
                expansion(try arithmetic(expression, variables: variables, substitute: substitute))
            } else if c == commandOpen, let close = lastClose(in: rest) {
                var text = substitute(String(rest[..<close]))
                while text.hasSuffix("\n") { text.removeLast() }
                rest = rest[rest.index(after: close)...]
                expansion(text)
            } else {
                literal.append(c)
            }
        }
        if !literal.isEmpty { piece(literal, false) }
    }

    /// An arithmetic expansion's value: its `$` expansions filled in, then evaluated.
    static func arithmetic(_ expression: String, variables: [String: String], substitute: (String) -> String) throws(ExpansionError) -> String {
        var marked = ""
        var chars = Array(expression)[...]
        while let c = chars.popFirst() {
            if c == "$" || c == "`" {
                guard let span = try? expansion(after: c, &chars) else { throw ExpansionError(message: "Syntax error: Bad substitution") }
                marked += span
            } else {
                marked.append(c)
            }
        }
        let text = try expand(marked, variables: variables, substitute: substitute)
        do { return String(try ShellArithmetic.evaluate(text, variables: variables)) } catch {
            throw ExpansionError(message: error.message)
        }
    }

    /// The close mark matching a command substitution's open one (substitutions nest).
    static func lastClose(in text: Substring) -> Substring.Index? {
        var depth = 1
        var i = text.startIndex
        while i < text.endIndex {
            if text[i] == commandOpen { depth += 1 }
            if text[i] == commandClose {
                depth -= 1
                if depth == 0 { return i }
            }
            i = text.index(after: i)
        }
        return nil
    }

    /// `NAME=value` at the start of a command: an assignment, with its (unexpanded) value.
    static func assignment(_ word: String) -> (name: String, value: String)? {
        guard let eq = word.firstIndex(of: "="), eq > word.startIndex else { return nil }
        let name = word[..<eq]
        guard let first = name.first, first == "_" || (first.isASCII && first.isLetter),
            name.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) })
        else { return nil }
        return (String(name), String(word[word.index(after: eq)...]))
    }

    /// Parses a script into pipelines; `background` tells whether it ended in `&` (its last
    /// pipeline was sent to the background).
    static func parse(_ script: String) throws(SyntaxError) -> (pipelines: [Pipeline], background: Bool) {
        var tokens = try tokens(script)[...]
        let (pipelines, _) = try list(&tokens, until: [])
        return (pipelines, pipelines.last?.background ?? false)
    }

    /// The reserved words that end a list inside a compound command.
    static let closers: Set<String> = ["then", "elif", "else", "fi", "do", "done"]

    /// Pipelines up to one of `terminators` (a reserved word where a command starts), or to the
    /// end of the tokens when there are none; the terminator met.
    static func list(_ tokens: inout ArraySlice<Token>, until terminators: Set<String>) throws(SyntaxError) -> ([Pipeline], String?) {
        var pipelines: [Pipeline] = []
        var commands: [Command] = []
        var command = Command()
        var connector: String?
        // A `|` waiting for the command it feeds.
        var pipeOpen = false
        func endCommand() throws(SyntaxError) {
            guard !command.words.isEmpty || command.compound != nil else {
                if command != Command() { throw SyntaxError(message: "Syntax error: redirection without a command") }
                return
            }
            commands.append(command)
            command = Command()
        }
        func endPipeline(_ op: String?) throws(SyntaxError) {
            let empty = command.words.isEmpty && command.compound == nil
            // A line may end in `|`: the pipeline goes on on the next line.
            if pipeOpen && empty && op == "\n" { return }
            if pipeOpen && empty {
                throw SyntaxError(message: op.map { $0 == "\n" ? "Syntax error: newline unexpected" : "Syntax error: \"\($0)\" unexpected" } ?? "Syntax error: end of file unexpected")
            }
            pipeOpen = false
            try endCommand()
            if commands.isEmpty {
                // Blank lines are nothing; an operator with no command before it is an error.
                if let op, op != "\n" { throw SyntaxError(message: "Syntax error: \"\(op)\" unexpected") }
                return
            }
            pipelines.append(Pipeline(commands: commands, after: connector, background: op == "&"))
            commands = []
            connector = op == "\n" || op == "&" ? ";" : op
        }
        func finish() throws(SyntaxError) {
            try endPipeline(nil)
            if let connector, connector == "&&" || connector == "||" { throw SyntaxError(message: "Syntax error: end of file unexpected after \"\(connector)\"") }
        }
        /// Ends the list at its closing word; a compound command's lists may not be empty.
        func close(_ word: String) throws(SyntaxError) -> ([Pipeline], String?) {
            try finish()
            if pipelines.isEmpty { throw SyntaxError(message: "Syntax error: \"\(word)\" unexpected") }
            return (pipelines, word)
        }
        while let token = tokens.popFirst() {
            switch token {
            case .word(let w) where command.words.isEmpty && command.compound == nil && command == Command():
                // Where a command starts, a reserved word opens or closes a compound command.
                if terminators.contains(w) { return try close(w) }
                if closers.contains(w) { throw SyntaxError(message: "Syntax error: \"\(w)\" unexpected") }
                switch w {
                case "for": command.compound = try forLoop(&tokens)
                case "if": command.compound = try ifClause(&tokens)
                case "while", "until":
                    let (condition, _) = try list(&tokens, until: ["do"])
                    let (body, _) = try list(&tokens, until: ["done"])
                    command.compound = .whileLoop(condition: condition, body: body, until: w == "until")
                default: command.words.append(w)
                }
            case .word(let w):
                if command.compound != nil {
                    // Right after a compound command only a closing word may come (`fi done`).
                    if terminators.contains(w) { return try close(w) }
                    throw SyntaxError(message: "Syntax error: word unexpected")
                }
                command.words.append(w)
            case .op("|"):
                guard !command.words.isEmpty || command.compound != nil else { throw SyntaxError(message: "Syntax error: \"|\" unexpected") }
                try endCommand()
                pipeOpen = true
            case .op(let op) where [";", "\n", "&&", "||"].contains(op):
                try endPipeline(op)
            case .op("&"):
                try endPipeline("&")
            case .op("2>&1"): command.stderrToStdout = true
            case .op("1>&2"): command.stdoutToStderr = true
            case .op(let op):
                guard case .word(let target)? = tokens.popFirst() else { throw SyntaxError(message: "Syntax error: redirection \"\(op)\" without a file") }
                switch op {
                case "<": command.stdin = target
                case ">", ">>":
                    command.stdout = (target, op == ">>")
                    // `>&2 > f`: the later redirection wins.
                    command.stdoutToStderr = false
                    // A `2>&1` before this one sent stderr to the stdout as it was then.
                    if command.stderrToStdout {
                        command.stderrToStdout = false
                        command.stderrToOriginalStdout = true
                    }
                default: command.stderr = (target, op == "2>>")
                }
            }
        }
        if let expected = terminators.sorted().first(where: { ["then", "do", "done", "fi"].contains($0) }) ?? terminators.first {
            throw SyntaxError(message: "Syntax error: end of file unexpected (expecting \"\(expected)\")")
        }
        try finish()
        return (pipelines, nil)
    }

    /// `for NAME [in WORD…]; do LIST; done`, after the `for`.
    static func forLoop(_ tokens: inout ArraySlice<Token>) throws(SyntaxError) -> Compound {
        guard case .word(let name)? = tokens.popFirst(), assignment(name + "=") != nil else { throw SyntaxError(message: "Syntax error: Bad for loop variable") }
        func skipNewlines() { while tokens.first == .op("\n") { tokens.removeFirst() } }
        skipNewlines()
        var words: [String] = []
        if tokens.first == .word("in") {
            tokens.removeFirst()
            while case .word(let w)? = tokens.first {
                tokens.removeFirst()
                words.append(w)
            }
            guard tokens.first == .op(";") || tokens.first == .op("\n") else { throw SyntaxError(message: "Syntax error: end of file unexpected (expecting \"do\")") }
            tokens.removeFirst()
        } else if tokens.first == .op(";") {
            tokens.removeFirst()
        }
        skipNewlines()
        guard tokens.popFirst() == .word("do") else { throw SyntaxError(message: "Syntax error: end of file unexpected (expecting \"do\")") }
        let (body, _) = try list(&tokens, until: ["done"])
        return .forLoop(variable: name, words: words, body: body)
    }

    /// `if LIST; then LIST; [elif LIST; then LIST;]… [else LIST;] fi`, after the `if`.
    static func ifClause(_ tokens: inout ArraySlice<Token>) throws(SyntaxError) -> Compound {
        var branches: [Branch] = []
        var otherwise: [Pipeline]?
        var next = "if"
        while next == "if" || next == "elif" {
            let (condition, _) = try list(&tokens, until: ["then"])
            let (body, ended) = try list(&tokens, until: ["elif", "else", "fi"])
            branches.append(Branch(condition: condition, body: body))
            next = ended ?? "fi"
        }
        if next == "else" {
            otherwise = try list(&tokens, until: ["fi"]).0
        }
        return .ifClause(branches: branches, otherwise: otherwise)
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

    /// `printf FORMAT ARGS…`: `%s`, `%d`, `%i`, `%x`, `%%`, widths with `0` or `-`, and the
    /// escapes `\n`, `\t`, `\\`; the format is reused while arguments remain, as `printf` does.
    static func printf(_ format: String, _ arguments: [String]) -> String {
        var out = ""
        var args = arguments[...]
        var left = Int.max
        // The format is used again while arguments remain — as long as a pass consumed some.
        repeat {
            left = args.count
            var chars = Array(format)[...]
            while let c = chars.popFirst() {
                if c == "\\", let e = chars.popFirst() {
                    switch e {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "\\": out.append("\\")
                    default: out.append("\\"); out.append(e)
                    }
                    continue
                }
                guard c == "%" else { out.append(c); continue }
                var flags = ""
                while let f = chars.first, "0-".contains(f) { flags.append(chars.removeFirst()) }
                var width = ""
                while let d = chars.first, d.isNumber { width.append(chars.removeFirst()) }
                guard let conversion = chars.popFirst() else { out.append("%"); break }
                var text: String
                switch conversion {
                case "%": out.append("%"); continue
                case "s": text = args.popFirst() ?? ""
                case "d", "i": text = String(Int(args.popFirst() ?? "0") ?? 0)
                case "x": text = String(Int(args.popFirst() ?? "0") ?? 0, radix: 16)
                default: text = "%" + flags + width + String(conversion)
                }
                if let w = Int(width), text.count < w {
                    let zeros = flags.contains("0") && !flags.contains("-") && conversion != "s"
                    let pad = String(repeating: zeros ? "0" : " ", count: w - text.count)
                    if zeros, text.hasPrefix("-") {
                        text = "-" + pad + text.dropFirst()
                    } else {
                        text = flags.contains("-") ? text + pad : pad + text
                    }
                }
                out += text
            }
        } while !args.isEmpty && args.count < left
        return out
    }
}

/// Paths in an activity: `container:` prefixes dropped, relative paths under `/golem/work`,
/// `.` and `..` resolved (`..` at the root stays there, as in a shell).
public enum ActivityPath {
    /// The volumes of a typical task image (a provider's `volumes` in a scenario).
    public static let defaultVolumes = ["/golem/input", "/golem/output", "/golem/resource", "/golem/work"]

    /// Where relative paths start: the working directory of task images.
    static let workDirectory = "/golem/work"

    /// Directories every image has besides its volumes (a shell may write to `/tmp`).
    static let systemDirectories: Set<String> = [
        "/", "/bin", "/dev", "/etc", "/home", "/lib", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp",
        "/usr", "/usr/bin", "/usr/lib", "/usr/local", "/usr/local/bin", "/usr/sbin", "/var", "/var/log", "/var/tmp",
    ]

    static func normalise(_ p: String, cwd: String = workDirectory) -> String {
        let trimmed = p.hasPrefix("container:") ? String(p.dropFirst("container:".count)) : p
        let absolute = trimmed.hasPrefix("/") ? trimmed : cwd + "/" + trimmed
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    static func inVolume(_ path: String, _ volumes: [String]) -> Bool {
        volumes.contains { path == $0 || path.hasPrefix($0 + "/") }
    }
}
