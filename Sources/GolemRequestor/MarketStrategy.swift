public import YagnaAPI

/// Scores offers: a higher score is better; `nil` rejects the offer with a reason.
public protocol MarketStrategy: Sendable {
    /// The offer's score, or a rejection reason.
    func score(_ offer: Proposal, context: MarketContext) -> Result<Double, OfferRejection>
}

/// Why an offer was not taken.
public struct OfferRejection: Error, Sendable, Hashable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// What a strategy may consult: providers that failed or confirmed in this job.
public struct MarketContext: Sendable {
    public var failedProviders: Set<String> = []
    public var confirmedProviders: Set<String> = []
    public init() {}
}

/// yapapi's default: prefers the cheapest linear pricing, rejecting prices over the caps
/// (fixed ≤ 1.0, per CPU-second ≤ 0.2, per second ≤ 0.1, and any custom counter's cap in
/// `maxPrices`) and offers without linear pricing. Works with usage vectors of any length.
public struct LeastExpensiveLinear: MarketStrategy {
    public var maxFixedPrice: Double = 1.0
    public var maxPerCpuSecond: Double = 0.2
    public var maxPerDurationSecond: Double = 0.1
    /// Caps on other counters' prices, by counter name (yapapi's `max_price_for`).
    public var maxPrices: [String: Double] = [:]
    /// Expected usage used to compare offers: seconds of duration and CPU.
    public var expectedSeconds: Double = 60
    /// Expected values of custom counters (a counter not listed is expected at 0).
    public var expectedUsage: [String: Double] = [:]

    public init() {}

    public func score(_ offer: Proposal, context: MarketContext) -> Result<Double, OfferRejection> {
        let p = offer.properties
        guard p["golem.com.scheme"]?.stringValue == "payu", let pricing = LinearPricing(p) else {
            return .failure(OfferRejection("Unknown error in score offer"))
        }
        var cost = pricing.fixedPrice
        guard cost >= 0, cost <= maxFixedPrice else { return .failure(OfferRejection("Score too low")) }
        for (name, price) in zip(pricing.usageVector, pricing.prices) {
            guard price >= 0 else { return .failure(OfferRejection("Score too low")) }
            let cap: Double? = switch name {
            case "golem.usage.cpu_sec": maxPerCpuSecond
            case "golem.usage.duration_sec": maxPerDurationSecond
            default: maxPrices[name]
            }
            if let cap, price > cap { return .failure(OfferRejection("Score too low")) }
            let expected = ["golem.usage.cpu_sec", "golem.usage.duration_sec"].contains(name) ? expectedSeconds : expectedUsage[name] ?? 0
            cost += price * expected
        }
        return .success(100 / (cost + 1.01))
    }
}

/// Decorates a strategy: excludes providers that failed in this job and prefers providers that
/// confirmed an agreement before.
public struct AvoidFailedProviders<Base: MarketStrategy>: MarketStrategy {
    public var base: Base
    public var confirmedBonus: Double
    public init(_ base: Base, confirmedBonus: Double = 1.1) {
        self.base = base
        self.confirmedBonus = confirmedBonus
    }

    public func score(_ offer: Proposal, context: MarketContext) -> Result<Double, OfferRejection> {
        if context.failedProviders.contains(offer.issuerId) { return .failure(OfferRejection("Provider failed in this job")) }
        return base.score(offer, context: context).map { context.confirmedProviders.contains(offer.issuerId) ? $0 * confirmedBonus : $0 }
    }
}

/// Decorates a strategy with allow and deny lists of provider ids or names.
public struct ProviderFilter<Base: MarketStrategy>: MarketStrategy {
    public var base: Base
    public var allowed: Set<String>?
    public var denied: Set<String>
    public init(_ base: Base, allowed: Set<String>? = nil, denied: Set<String> = []) {
        self.base = base
        self.allowed = allowed
        self.denied = denied
    }

    public func score(_ offer: Proposal, context: MarketContext) -> Result<Double, OfferRejection> {
        let name = offer.properties["golem.node.id.name"]?.stringValue ?? ""
        if denied.contains(offer.issuerId) || denied.contains(name) { return .failure(OfferRejection("Provider is denied")) }
        if let allowed, !allowed.contains(offer.issuerId), !allowed.contains(name) { return .failure(OfferRejection("Provider is not allowed")) }
        return base.score(offer, context: context)
    }
}
