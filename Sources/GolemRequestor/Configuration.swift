public import Foundation

/// How a `Golem` engine runs: budget, payment platform, subnet, market strategy, timeouts.
public struct GolemConfiguration: Sendable {
    /// The most the engine may spend, reserved as one allocation.
    public var budget: Decimal
    public var subnet: String = "public"
    public var paymentDriver: String = "erc20"
    public var paymentNetwork: String = "holesky"
    /// How long shutdown waits for due invoices before reporting them unpaid (yapapi: 30 s).
    public var invoiceWait: Duration = .seconds(30)
    /// How long cleanup may take beyond `invoiceWait` when work ends or is cancelled (ending
    /// agreements, destroying activities, releasing the allocation): a daemon that stops
    /// answering cannot keep the process from ending.
    public var cleanupLimit: Duration = .seconds(30)
    /// How long a demand is valid.
    public var demandExpiration: Duration = .minutes(15)
    /// How the engine scores and filters offers.
    public var strategy: any MarketStrategy = LeastExpensiveLinear()
    /// Called with every event, in order, on the engine's task.
    public var onEvent: (@Sendable (GolemEvent) -> Void)?
    /// How many events `Golem.events` keeps (the most recent), and how many an `eventStream`
    /// holds for a consumer that falls behind (the oldest are dropped first): a long-running
    /// engine's memory stays bounded (at least one is kept). `onEvent` and `summary` see every event.
    public var eventBufferLimit = 10_000
    /// How scripts' results come back by default: long polls, or the SSE stream (yapapi's
    /// `stream_output=True`). A script can choose its own (`newScript(resultMode:)`).
    public var resultMode: ResultMode = .poll

    public init(budget: Decimal) { self.budget = budget }

    /// The payment platform name (`erc20-holesky-tglm`): token `glm` on mainnet and polygon,
    /// `tglm` elsewhere, as yapapi names it.
    public var paymentPlatform: String {
        let token = ["mainnet", "polygon"].contains(paymentNetwork) ? "glm" : "tglm"
        return "\(paymentDriver)-\(paymentNetwork)-\(token)"
    }

    /// Reads `YAGNA_SUBNET`, `YAGNA_PAYMENT_DRIVER` and `YAGNA_PAYMENT_NETWORK` like yapapi.
    public mutating func apply(environment: [String: String]) {
        if let v = environment["YAGNA_SUBNET"], !v.isEmpty { subnet = v }
        if let v = environment["YAGNA_PAYMENT_DRIVER"], !v.isEmpty { paymentDriver = v }
        if let v = environment["YAGNA_PAYMENT_NETWORK"], !v.isEmpty { paymentNetwork = v }
    }
}

extension Duration {
    static func minutes(_ m: Int64) -> Duration { .seconds(m * 60) }
}

/// How a script's results come back.
public enum ResultMode: Sendable, Hashable {
    /// Long polls of `GET /activity/{id}/exec/{batch}` (the default, as yapapi's).
    case poll
    /// The batch's SSE stream of runtime events (`Accept: text/event-stream`); commands' output
    /// arrives as it is produced. If the stream ends before the batch does, polling takes over.
    case stream
}
