public import YagnaSimulator
import YagnaAPI

/// A protocol-level diff of two sessions: the requestor operations of each provider and of the
/// requestor itself, aligned per resource in order, with the fields that differ. Ids,
/// timestamps, expirations, gftp URLs and read-only calls are not compared.
public struct SessionDiff: Sendable {
    public enum Line: Sendable, Hashable {
        case onlyInA(ProtocolOperation, lane: String)
        case onlyInB(ProtocolOperation, lane: String)
        case fieldsDiffer(ProtocolOperation, ProtocolOperation, lane: String, differences: [String])
    }

    public var lines: [Line] = []
    public var operationsA: Int
    public var operationsB: Int
    public var same: Bool { lines.isEmpty }

    /// Compares two recordings. Providers are paired by node id, else by name.
    public init(_ a: Recording, _ b: Recording) {
        self.init(a.analysis, b.analysis)
    }

    public init(_ a: ProtocolAnalyzer, _ b: ProtocolAnalyzer) {
        operationsA = a.operations.count
        operationsB = b.operations.count
        // Pair B's lanes with A's: same id, else same name.
        var laneOfB: [String: String] = [:]
        for id in b.providerOrder {
            if a.providers[id] != nil { laneOfB[id] = id } else if let match = a.providerOrder.first(where: { a.name(of: $0) == b.name(of: id) }) {
                laneOfB[id] = match
            }
        }
        let opsA = a.operations
        let opsB = b.operations.map { op -> ProtocolOperation in
            var op = op
            op.lane = laneOfB[op.lane] ?? op.lane
            return op
        }
        func key(_ op: ProtocolOperation) -> String { op.lane + "\u{1}" + op.resource }
        var keys: [String] = []
        var groupsA: [String: [ProtocolOperation]] = [:]
        var groupsB: [String: [ProtocolOperation]] = [:]
        for op in opsA {
            if groupsA[key(op)] == nil && groupsB[key(op)] == nil { keys.append(key(op)) }
            groupsA[key(op), default: []].append(op)
        }
        for op in opsB {
            if groupsA[key(op)] == nil && groupsB[key(op)] == nil { keys.append(key(op)) }
            groupsB[key(op), default: []].append(op)
        }
        for k in keys {
            let x = groupsA[k] ?? [], y = groupsB[k] ?? []
            let laneName = x.first.map { a.name(of: $0.lane) } ?? y.first.map { b.name(of: $0.lane) } ?? "?"
            for step in Self.align(x, y) {
                switch step {
                case (let p?, let q?):
                    let d = FieldDiff.lines(p.fields, q.fields)
                    if !d.isEmpty { lines.append(.fieldsDiffer(p, q, lane: laneName, differences: d)) }
                case (let p?, nil): lines.append(.onlyInA(p, lane: laneName))
                case (nil, let q?): lines.append(.onlyInB(q, lane: laneName))
                default: break
                }
            }
        }
    }

    /// Aligns two operation lists by kind (longest common subsequence), keeping their order.
    static func align(_ x: [ProtocolOperation], _ y: [ProtocolOperation]) -> [(ProtocolOperation?, ProtocolOperation?)] {
        let n = x.count, m = y.count
        var t = Array(repeating: Array(repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                t[i][j] = x[i].kind == y[j].kind ? t[i + 1][j + 1] + 1 : max(t[i + 1][j], t[i][j + 1])
            }
        }
        var out: [(ProtocolOperation?, ProtocolOperation?)] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, x[i].kind == y[j].kind {
                out.append((x[i], y[j]))
                i += 1
                j += 1
            } else if j >= m || (i < n && t[i + 1][j] >= t[i][j + 1]) {
                out.append((x[i], nil))
                i += 1
            } else {
                out.append((nil, y[j]))
                j += 1
            }
        }
        return out
    }

    /// The diff as readable lines.
    public var text: [String] {
        lines.map { line in
            switch line {
            case .onlyInA(let op, let lane): "- only in A: \(lane) \(op.resource): \(op.kind) (exchange \(op.sequence))"
            case .onlyInB(let op, let lane): "+ only in B: \(lane) \(op.resource): \(op.kind) (exchange \(op.sequence))"
            case .fieldsDiffer(let p, let q, let lane, let d):
                "~ \(lane) \(p.resource): \(p.kind) (exchanges \(p.sequence) / \(q.sequence))\n" + d.map { "    \($0)" }.joined(separator: "\n")
            }
        }
    }
}
