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
/// (fixed ≤ 1.0, per CPU-second ≤ 0.2, per second ≤ 0.1) and offers without linear pricing.
public struct LeastExpensiveLinear: MarketStrategy {
    public var maxFixedPrice: Double = 1.0
    public var maxPerCpuSecond: Double = 0.2
    public var maxPerDurationSecond: Double = 0.1
    /// Expected usage used to compare offers.
    public var expectedSeconds: Double = 60

    public init() {}

    public func score(_ offer: Proposal, context: MarketContext) -> Result<Double, OfferRejection> {
        let p = offer.properties
        guard p["golem.com.pricing.model"]?.stringValue == "linear", p["golem.com.scheme"]?.stringValue == "payu",
            let vector = p["golem.com.usage.vector"]?.arrayValue?.compactMap(\.stringValue),
            let coeffs = p["golem.com.pricing.model.linear.coeffs"]?.arrayValue?.compactMap(\.doubleValue),
            coeffs.count == vector.count + 1
        else { return .failure(OfferRejection("Unknown error in score offer")) }
        var cost = coeffs.last!
        guard cost >= 0, cost <= maxFixedPrice else { return .failure(OfferRejection("Score too low")) }
        for (name, price) in zip(vector, coeffs) {
            guard price >= 0 else { return .failure(OfferRejection("Score too low")) }
            if name == "golem.usage.cpu_sec", price > maxPerCpuSecond { return .failure(OfferRejection("Score too low")) }
            if name == "golem.usage.duration_sec", price > maxPerDurationSecond { return .failure(OfferRejection("Score too low")) }
            cost += price * expectedSeconds
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
