public import YagnaAPI
public import Foundation

/// A provider's linear pricing as its offer states it: `golem.com.usage.vector` names the
/// counters and `golem.com.pricing.model.linear.coeffs` prices each, the fixed price last.
/// Works with any number of counters (duration, CPU and custom ones).
public struct LinearPricing: Sendable, Hashable {
    public var usageVector: [String]
    /// One price per counter of `usageVector`.
    public var prices: [Double]
    public var fixedPrice: Double

    /// `nil` when the offer has no linear pricing, or its coefficients do not match its vector
    /// (one per counter plus the fixed price).
    public init?(_ properties: Properties) {
        guard properties["golem.com.pricing.model"]?.stringValue == "linear",
            let vector = properties["golem.com.usage.vector"]?.arrayValue?.compactMap(\.stringValue),
            let coeffs = properties["golem.com.pricing.model.linear.coeffs"]?.arrayValue?.compactMap(\.doubleValue),
            coeffs.count == vector.count + 1
        else { return nil }
        usageVector = vector
        prices = Array(coeffs.dropLast())
        fixedPrice = coeffs[coeffs.count - 1]
    }

    /// The price of one counter, by name.
    public func price(of counter: String) -> Double? {
        usageVector.firstIndex(of: counter).map { prices[$0] }
    }

    /// The cost of a usage vector in the offer's order; `nil` when its length differs from
    /// the vector's.
    public func cost(_ usage: [Double]) -> Double? {
        guard usage.count == prices.count else { return nil }
        return zip(prices, usage).reduce(fixedPrice) { $0 + $1.0 * $1.1 }
    }
}

/// An activity's usage as the provider reports it, by counter name.
public struct UsageReport: Sendable, Hashable {
    /// The counters in the offer's order with their current values.
    public var counters: [(name: String, value: Double)]
    /// When the provider measured it.
    public var timestamp: Date
    /// The cost so far by the agreement's linear pricing (`nil` without one).
    public var cost: Double?

    public subscript(name: String) -> Double? { counters.first { $0.name == name }?.value }

    public static func == (a: UsageReport, b: UsageReport) -> Bool {
        a.counters.map(\.name) == b.counters.map(\.name) && a.counters.map(\.value) == b.counters.map(\.value) && a.timestamp == b.timestamp && a.cost == b.cost
    }

    public func hash(into hasher: inout Hasher) {
        for c in counters { hasher.combine(c.name); hasher.combine(c.value) }
        hasher.combine(timestamp)
    }
}

/// The provider reported a usage vector that does not fit its offer's.
public struct UsageMismatch: Error, CustomStringConvertible {
    public var activityId: String
    public var expected: [String]
    public var got: [Double]
    public var description: String {
        "activity \(activityId) reported \(got.count) usage values for the offer's \(expected.count) counters (\(expected.joined(separator: ", ")))"
    }
}

extension WorkContext {
    /// The activity's current usage, named by the offer's usage vector, and its cost so far.
    ///
    /// - Throws: `UsageMismatch` when the provider's values do not match its vector,
    ///   `YagnaError` when the daemon fails.
    public func usage() async throws -> UsageReport {
        let usage = try await golem.yagna.activity.usage(activityId)
        let values = usage.currentUsage ?? []
        let vector = pricing?.usageVector ?? offer["golem.com.usage.vector"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard values.isEmpty || values.count == vector.count else { throw UsageMismatch(activityId: activityId, expected: vector, got: values) }
        return UsageReport(
            counters: zip(vector, values).map { ($0, $1) }, timestamp: Date(timeIntervalSince1970: TimeInterval(usage.timestamp)),
            cost: values.isEmpty ? pricing?.fixedPrice : pricing?.cost(values))
    }

    /// The agreement's linear pricing, from the provider's offer.
    public var pricing: LinearPricing? { LinearPricing(offer) }
}
