/// One machine's share of a sweep: shard `index` of `count` takes every `count`-th seed of the
/// range, starting at its `index - 1`-th, so the shards are disjoint, cover the range, and are
/// the same on every machine.
public struct SweepShard: Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// Parses `K/N` with 1 ≤ K ≤ N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, (1...n).contains(k) else { return nil }
        index = k
        count = n
    }

    public init(index: Int, count: Int) {
        precondition(count >= 1 && (1...count).contains(index), "shard \(index)/\(count)")
        self.index = index
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }

    /// The shard's seeds of `range`, in order.
    public func seeds(of range: ClosedRange<UInt64>) -> [UInt64] {
        let first = range.lowerBound &+ UInt64(index - 1)
        guard first >= range.lowerBound, first <= range.upperBound else { return [] }
        return Array(stride(from: first, through: range.upperBound, by: count))
    }
}
