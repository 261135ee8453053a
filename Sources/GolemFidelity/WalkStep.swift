/// One requestor-side request of the fidelity walk.
///
/// Paths, queries and bodies are templates: `{name}` is replaced by a value captured from an
/// earlier answer (or by a built-in such as `{validTo}`).
public struct WalkStep: Sendable {
    /// Which key the request carries.
    public enum Auth: Sendable { case requestor, none, bad }

    /// What is compared.
    public enum Check: Sendable, Equatable {
        /// Status, content type, shape, formats and error texts.
        case full
        /// Only the status: the body is one node's artefact (the reason says which).
        case statusOnly(String)
        /// Not compared: one real node cannot show this behaviour (the reason says why).
        case skipped(String)
    }

    /// Repeat a poll (bounded) until its answer shows what the walk waits for.
    public enum Until: Sendable {
        /// The JSON array is not empty.
        case nonEmpty
        /// The body contains this text.
        case contains(String)
    }

    public var name: String
    public var method: String
    public var target: String
    public var body: String?
    public var auth: Auth
    public var contentType: String?
    /// Values to remember from the answer: variable name and a path (`$`, `$[0].proposal.proposalId`,
    /// `$[proposal.state=Draft].proposal.proposalId`, `$.id`).
    public var captures: [(String, String)]
    public var check: Check
    public var until: Until?

    public init(
        _ name: String, _ method: String, _ target: String, body: String? = nil, auth: Auth = .requestor,
        contentType: String? = "application/json", capture: [(String, String)] = [], check: Check = .full, until: Until? = nil
    ) {
        self.name = name
        self.method = method
        self.target = target
        self.body = body
        self.auth = auth
        self.contentType = body == nil ? nil : contentType
        self.captures = capture
        self.check = check
        self.until = until
    }
}

/// What the provider does between the requestor's requests. On a real node the walk's
/// provider role does it through REST with the provider identity's key; the simulated node's
/// scenario providers do it by themselves.
public enum ProviderAction: Sendable {
    /// Subscribe an offer the demands match.
    case offer
    /// Counter the requestor's latest counter-proposal (named by the variable).
    case counter(String)
    /// Approve the agreement (named by the variable).
    case approve(String)
    /// Answer `CreateActivity`/`DestroyActivity` events for as long as the walk runs.
    case serveActivities
    /// Issue and send a debit note for the activity (named by the variable) of the agreement.
    case debitNote(activity: String, agreement: String)
    /// Issue and send an invoice for the agreement and activity.
    case invoice(agreement: String, activity: String)
}

/// One item of the walk.
public enum WalkItem: Sendable {
    case request(WalkStep)
    case provider(ProviderAction)
}
