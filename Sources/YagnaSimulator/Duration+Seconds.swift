extension Duration {
    /// `seconds` as a duration rounded to the nanosecond, or `nil` when it is not a finite
    /// number of seconds that 64-bit nanoseconds hold (about ±292 years).
    static func rounded(seconds: Double) -> Duration? {
        rounded(nanoseconds: seconds * 1e9)
    }

    /// `nanoseconds` rounded to a whole number, or `nil` beyond what 64 bits hold.
    static func rounded(nanoseconds: Double) -> Duration? {
        let ns = nanoseconds.rounded()
        guard ns.isFinite, ns > -9.2e18, ns < 9.2e18 else { return nil }
        return .nanoseconds(Int64(ns))
    }
}
