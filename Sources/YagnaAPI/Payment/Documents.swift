public import Foundation

/// A document's status.
public enum DocumentStatus: String, Codable, Sendable, Hashable, CaseIterable {
    case issued = "ISSUED"
    case received = "RECEIVED"
    case accepted = "ACCEPTED"
    case rejected = "REJECTED"
    case failed = "FAILED"
    case settled = "SETTLED"
    case cancelled = "CANCELLED"
}

/// A debit note: the provider's running bill for an activity. `totalAmountDue` is cumulative.
public struct DebitNote: Codable, Sendable, Hashable {
    public var debitNoteId: String
    public var issuerId: String
    public var recipientId: String
    public var payeeAddr: String
    public var payerAddr: String
    public var paymentPlatform: String
    public var previousDebitNoteId: String?
    public var timestamp: WireTimestamp
    public var agreementId: String
    public var activityId: String
    public var totalAmountDue: Decimal
    public var usageCounterVector: JSONValue?
    public var paymentDueDate: WireTimestamp?
    public var status: DocumentStatus
    public var unknownFields = UnknownFields()

    public init(
        debitNoteId: String, issuerId: String, recipientId: String, payeeAddr: String, payerAddr: String,
        paymentPlatform: String, previousDebitNoteId: String?, timestamp: WireTimestamp, agreementId: String,
        activityId: String, totalAmountDue: Decimal, usageCounterVector: JSONValue?, paymentDueDate: WireTimestamp?,
        status: DocumentStatus
    ) {
        self.debitNoteId = debitNoteId
        self.issuerId = issuerId
        self.recipientId = recipientId
        self.payeeAddr = payeeAddr
        self.payerAddr = payerAddr
        self.paymentPlatform = paymentPlatform
        self.previousDebitNoteId = previousDebitNoteId
        self.timestamp = timestamp
        self.agreementId = agreementId
        self.activityId = activityId
        self.totalAmountDue = totalAmountDue
        self.usageCounterVector = usageCounterVector
        self.paymentDueDate = paymentDueDate
        self.status = status
    }
}

/// An invoice: the provider's final bill for an agreement.
public struct Invoice: Codable, Sendable, Hashable {
    public var invoiceId: String
    public var issuerId: String
    public var recipientId: String
    public var payeeAddr: String
    public var payerAddr: String
    public var paymentPlatform: String
    public var timestamp: WireTimestamp
    public var agreementId: String
    public var activityIds: [String]?
    public var amount: Decimal
    public var paymentDueDate: WireTimestamp
    public var status: DocumentStatus
    public var unknownFields = UnknownFields()

    public init(
        invoiceId: String, issuerId: String, recipientId: String, payeeAddr: String, payerAddr: String,
        paymentPlatform: String, timestamp: WireTimestamp, agreementId: String, activityIds: [String],
        amount: Decimal, paymentDueDate: WireTimestamp, status: DocumentStatus
    ) {
        self.invoiceId = invoiceId
        self.issuerId = issuerId
        self.recipientId = recipientId
        self.payeeAddr = payeeAddr
        self.payerAddr = payerAddr
        self.paymentPlatform = paymentPlatform
        self.timestamp = timestamp
        self.agreementId = agreementId
        self.activityIds = activityIds
        self.amount = amount
        self.paymentDueDate = paymentDueDate
        self.status = status
    }
}

/// `POST …/accept` body. The amount must equal what is due.
public struct Acceptance: Codable, Sendable, Hashable {
    public var totalAmountAccepted: Decimal
    public var allocationId: String
    public var unknownFields = UnknownFields()

    public init(totalAmountAccepted: Decimal, allocationId: String) {
        self.totalAmountAccepted = totalAmountAccepted
        self.allocationId = allocationId
    }
}

/// Why an invoice is rejected.
public enum RejectionReason: String, Codable, Sendable, Hashable {
    case unsolicitedService = "UNSOLICITED_SERVICE"
    case badService = "BAD_SERVICE"
    case incorrectAmount = "INCORRECT_AMOUNT"
}

/// `POST /invoices/{id}/reject` body.
public struct Rejection: Codable, Sendable, Hashable {
    public var rejectionReason: RejectionReason
    public var totalAmountAccepted: Decimal
    public var message: String?
    public var unknownFields = UnknownFields()

    public init(rejectionReason: RejectionReason, totalAmountAccepted: Decimal, message: String? = nil) {
        self.rejectionReason = rejectionReason
        self.totalAmountAccepted = totalAmountAccepted
        self.message = message
    }
}

/// A debit-note or invoice event (`DebitNoteReceivedEvent`, `InvoiceAcceptedEvent`, …).
/// Exactly one of `debitNoteId` and `invoiceId` is set.
public struct PaymentEvent: Codable, Sendable, Hashable {
    public var eventType: String
    public var eventDate: WireTimestamp
    public var debitNoteId: String?
    public var invoiceId: String?
    public var rejection: Rejection?
    public var property: JSONValue?
    public var unknownFields = UnknownFields()

    public init(eventType: String, eventDate: WireTimestamp, debitNoteId: String? = nil, invoiceId: String? = nil, rejection: Rejection? = nil) {
        self.eventType = eventType
        self.eventDate = eventDate
        self.debitNoteId = debitNoteId
        self.invoiceId = invoiceId
        self.rejection = rejection
    }

    /// The document kind's event types, as the requestor sees them.
    public enum Kind: String, Sendable, Hashable {
        case received = "Received"
        case accepted = "Accepted"
        case rejected = "Rejected"
        case cancelled = "Cancelled"
        case settled = "Settled"
        case paymentStatus = "PaymentStatus"
        case paymentOk = "PaymentOk"
    }

    /// The event's kind, whether for a debit note or an invoice (`nil` if unknown).
    public var kind: Kind? {
        let stem = eventType.hasPrefix("DebitNote") ? eventType.dropFirst("DebitNote".count) : eventType.dropFirst("Invoice".count)
        return Kind(rawValue: String(stem.dropLast("Event".count)))
    }
}

/// Identity of the node's default account (`GET /me`).
public struct Identity: Codable, Sendable, Hashable {
    public var identity: String
    public var name: String?
    public var role: String?
    public var unknownFields = UnknownFields()

    public init(identity: String, name: String?, role: String?) {
        self.identity = identity
        self.name = name
        self.role = role
    }
}

/// `GET /version/get`.
public struct VersionInfo: Codable, Sendable, Hashable {
    public struct Release: Codable, Sendable, Hashable {
        public var version: String
        public var name: String
        public var seen: Bool
        public var releaseTs: String
        public var insertionTs: String?
        public var updateTs: String?
        public var unknownFields = UnknownFields()

        public init(version: String, name: String, seen: Bool, releaseTs: String) {
            self.version = version
            self.name = name
            self.seen = seen
            self.releaseTs = releaseTs
        }
    }

    public var current: Release
    public var pending: Release?
    public var unknownFields = UnknownFields()

    public init(current: Release, pending: Release? = nil) {
        self.current = current
        self.pending = pending
    }
}
