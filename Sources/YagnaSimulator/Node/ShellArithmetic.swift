/// dash's arithmetic expansion `$((…))`: integer arithmetic with C's operators and precedence —
/// unary `+ - ! ~`, `* / %`, `+ -`, `<< >>`, comparisons, `== !=`, `& ^ |`, `&& ||`, `?:` and
/// parentheses — on decimal, octal (`010`) and hex (`0x10`) numbers and variables by name
/// (unset or empty is 0); `&&`, `||` and `?:` evaluate only the side that counts. Assignments
/// inside the expression (`i=…`, `+=`) are not simulated: they are refused with a message that
/// says so. Like dash, no `++`/`--` (`--x` is `-(-x)`).
struct ShellArithmetic {
    /// Why an expression has no value, in dash's words (`division by zero: "1/0"`).
    struct Failure: Error, Equatable {
        let message: String
    }

    private let text: String
    private let bytes: [UInt8]
    private let variables: [String: String]
    private var at = 0
    /// Inside a branch `&&`, `||` or `?:` does not take: read, not evaluated (no errors for
    /// division by zero or bad numbers there), as dash does.
    private var skipping = 0

    /// The value of `expression` (its `$` expansions already filled in).
    static func evaluate(_ expression: String, variables: [String: String]) throws(Failure) -> Int {
        var parser = ShellArithmetic(text: expression, variables: variables)
        let value = try parser.ternary()
        parser.skipBlanks()
        guard parser.at == parser.bytes.count else { throw parser.failure("expecting EOF") }
        return value
    }

    private init(text: String, variables: [String: String]) {
        self.text = text
        self.bytes = Array(text.utf8)
        self.variables = variables
    }

    private func failure(_ what: String) -> Failure {
        Failure(message: "arithmetic expression: \(what): \"\(text)\"")
    }

    private mutating func skipBlanks() {
        while at < bytes.count, bytes[at] == UInt8(ascii: " ") || bytes[at] == UInt8(ascii: "\t") || bytes[at] == UInt8(ascii: "\n") { at += 1 }
    }

    /// Takes `op` if it comes next (and is not the start of a longer operator in `unless`).
    private mutating func take(_ op: String, unless longer: [String] = []) -> Bool {
        skipBlanks()
        let o = Array(op.utf8)
        guard at + o.count <= bytes.count, Array(bytes[at ..< at + o.count]) == o else { return false }
        for l in longer {
            let b = Array(l.utf8)
            if at + b.count <= bytes.count, Array(bytes[at ..< at + b.count]) == b { return false }
        }
        // An assignment is not an operator we evaluate.
        if at + o.count < bytes.count, bytes[at + o.count] == UInt8(ascii: "="), ["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"].contains(op) {
            return false
        }
        at += o.count
        return true
    }

    private mutating func ternary() throws(Failure) -> Int {
        let condition = try binary(0)
        guard take("?") else { return condition }
        let yes = try skipped(condition == 0) { (p: inout ShellArithmetic) throws(Failure) in try p.ternary() }
        guard take(":") else { throw failure("expecting ':'") }
        let no = try skipped(condition != 0) { (p: inout ShellArithmetic) throws(Failure) in try p.ternary() }
        return condition != 0 ? yes : no
    }

    /// Reads `part`, not evaluating it when `skip`.
    private mutating func skipped(_ skip: Bool, _ part: (inout ShellArithmetic) throws(Failure) -> Int) throws(Failure) -> Int {
        if skip { skipping += 1 }
        defer { if skip { skipping -= 1 } }
        return try part(&self)
    }

    /// Binary operators from loosest to tightest; each level's operators with the longer
    /// spellings they must not be mistaken for.
    private static let levels: [[(op: String, unless: [String])]] = [
        [("||", [])], [("&&", [])], [("|", ["||"])], [("^", [])], [("&", ["&&"])],
        [("==", []), ("!=", [])], [("<=", []), (">=", []), ("<", ["<<", "<="]), (">", [">>", ">="])],
        [("<<", []), (">>", [])], [("+", []), ("-", [])], [("*", []), ("/", []), ("%", [])],
    ]

    private mutating func binary(_ level: Int) throws(Failure) -> Int {
        guard level < Self.levels.count else { return try unary() }
        var left = try binary(level + 1)
        while true {
            guard let op = Self.levels[level].first(where: { take($0.op, unless: $0.unless) })?.op else { return left }
            // `0 && …` and `1 || …`: the right side is read, not evaluated.
            let skip = (op == "&&" && left == 0) || (op == "||" && left != 0)
            let right = try skipped(skip) { (p: inout ShellArithmetic) throws(Failure) in try p.binary(level + 1) }
            left = try apply(op, left, right)
        }
    }

    private func apply(_ op: String, _ a: Int, _ b: Int) throws(Failure) -> Int {
        switch op {
        case "||": return a != 0 || b != 0 ? 1 : 0
        case "&&": return a != 0 && b != 0 ? 1 : 0
        case "|": return a | b
        case "^": return a ^ b
        case "&": return a & b
        case "==": return a == b ? 1 : 0
        case "!=": return a != b ? 1 : 0
        case "<": return a < b ? 1 : 0
        case "<=": return a <= b ? 1 : 0
        case ">": return a > b ? 1 : 0
        case ">=": return a >= b ? 1 : 0
        case "<<": return a << (b & 63)
        case ">>": return a >> (b & 63)
        case "+": return a &+ b
        case "-": return a &- b
        case "*": return a &* b
        case "/", "%":
            guard b != 0 else {
                if skipping > 0 { return 0 }
                throw failure("division by zero")
            }
            // Int.min / -1 overflows (dash dies of SIGFPE); the simulator wraps.
            if a == .min && b == -1 { return op == "/" ? .min : 0 }
            return op == "/" ? a / b : a % b
        default: throw failure("expecting primary")
        }
    }

    private mutating func unary() throws(Failure) -> Int {
        // dash has no `++`/`--`: `--x` is `-(-x)`.
        if take("+") { return try unary() }
        if take("-") { return 0 &- (try unary()) }
        if take("!", unless: ["!="]) { return try unary() == 0 ? 1 : 0 }
        if take("~") { return ~(try unary()) }
        return try primary()
    }

    private mutating func primary() throws(Failure) -> Int {
        skipBlanks()
        guard at < bytes.count else { throw failure("expecting primary") }
        if take("(") {
            let value = try ternary()
            guard take(")") else { throw failure("expecting ')'") }
            return value
        }
        let start = at
        let first = bytes[at]
        if first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") {
            while at < bytes.count, Self.isNameByte(bytes[at]) { at += 1 }
            let literal = String(decoding: bytes[start ..< at], as: UTF8.self)
            guard let value = Self.number(literal) else { throw failure("expecting EOF") }
            return value
        }
        guard Self.isNameByte(first) else { throw failure("expecting primary") }
        while at < bytes.count, Self.isNameByte(bytes[at]) { at += 1 }
        let name = String(decoding: bytes[start ..< at], as: UTF8.self)
        skipBlanks()
        if at < bytes.count, bytes[at] == UInt8(ascii: "="), at + 1 >= bytes.count || bytes[at + 1] != UInt8(ascii: "=") {
            throw Failure(message: "arithmetic expression: assignment to \(name) is not simulated: \"\(text)\"")
        }
        let value = variables[name] ?? ""
        if value.isEmpty { return 0 }
        guard let number = Self.number(value.trimmingBlanks) else {
            if skipping > 0 { return 0 }
            throw Failure(message: "Illegal number: \(value)")
        }
        return number
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
    }

    /// A C integer literal: decimal, `0x` hex or `0` octal, with an optional sign.
    static func number(_ text: String) -> Int? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        let value: Int?
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            value = Int(digits.dropFirst(2), radix: 16)
        } else if digits.count > 1, digits.hasPrefix("0") {
            value = Int(digits.dropFirst(), radix: 8)
        } else {
            value = Int(digits, radix: 10)
        }
        return value.map { negative ? 0 &- $0 : $0 }
    }
}

extension String {
    /// Without leading and trailing blanks (spaces, tabs, newlines).
    fileprivate var trimmingBlanks: String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" }
        guard let first = firstIndex(where: { !blank($0) }), let last = lastIndex(where: { !blank($0) }) else { return "" }
        return String(self[first...last])
    }
}
