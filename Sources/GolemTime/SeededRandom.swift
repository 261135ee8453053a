/// A deterministic random number generator (SplitMix64): the same seed gives the same
/// sequence on every machine and in every process.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator for a named sub-stream, so adding draws in one place does not shift another.
    public func derived(_ label: String) -> SeededRandom {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in label.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        var copy = SeededRandom(seed: state ^ h)
        _ = copy.next()
        return copy
    }

    /// `count` random lowercase hex digits.
    public mutating func hex(_ count: Int) -> String {
        // One draw per digit, as always (the ids of every seed stay what they were), written
        // as bytes rather than appended Character by Character.
        String(unsafeUninitializedCapacity: max(count, 0)) { buffer in
            for i in 0..<max(count, 0) {
                let d = UInt8(truncatingIfNeeded: next() & 0xF)
                buffer[i] = d < 10 ? UInt8(ascii: "0") + d : UInt8(ascii: "a") + d - 10
            }
            return max(count, 0)
        }
    }

    /// `true` with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        guard p > 0 else { return false }
        guard p < 1 else { return true }
        return Double(next() >> 11) / Double(1 << 53) < p
    }
}
