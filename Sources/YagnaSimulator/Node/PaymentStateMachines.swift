public import Foundation
public import YagnaAPI

/// An allocation's budget on the node: amended, spent by accepted debit notes and invoices,
/// released once.
///
/// Sans-I/O: each event says whether it holds; a refusal carries yagna 0.17.6's status and
/// message. Amounts are exact `Decimal`s.
public struct AllocationStateMachine: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case done
        /// The allocation was released. The daemon words this by where it is asked: releasing
        /// again answers 410 `Allocation <id> has been already released`; everywhere else a
        /// released allocation is not found.
        case released
        case refused(status: Int, message: String)
    }

    public private(set) var total: Decimal
    public private(set) var spent: Decimal = 0
    public private(set) var released = false
    public var remaining: Decimal { total - spent }

    public init(total: Decimal, spent: Decimal = 0, released: Bool = false) {
        self.total = total
        self.spent = spent
        self.released = released
    }

    /// `PUT /allocations/{id}` with a new total (the old one when the update names none).
    public mutating func amend(total newTotal: Decimal) -> Outcome {
        guard !released else { return .released }
        guard newTotal - spent >= 0 else {
            return .refused(status: 400, message: "New allocation would be smaller than the already spent amount")
        }
        total = newTotal
        return .done
    }

    /// Whether `amount` could be paid from it now. Like the daemon, only an amount above what
    /// remains is refused; nothing is checked against zero.
    public func canSpend(_ amount: Decimal) -> Outcome {
        guard !released else { return .released }
        guard amount <= remaining else {
            return .refused(status: 400, message: "Not enough funds. Allocated: \(remaining.wireString) Needed: \(amount.wireString)")
        }
        return .done
    }

    /// What an acceptance pays: the part of a debit note or invoice not accepted before.
    /// A zero or negative amount spends nothing.
    public mutating func spend(_ amount: Decimal) -> Outcome {
        let check = canSpend(amount)
        if check == .done, amount > 0 { spent += amount }
        return check
    }

    public mutating func release() -> Outcome {
        guard !released else { return .released }
        released = true
        return .done
    }
}

/// A debit note's or invoice's status as the requestor decides on it, by yagna 0.17.6's rules:
/// Received, Rejected and Failed documents can be accepted; accepting an Accepted or Settled
/// one again answers OK and changes nothing. Invoices can be rejected while Received or
/// Failed (rejecting again answers OK); debit notes cannot be rejected at all (501).
public struct DocumentStateMachine: Sendable, Hashable {
    /// Which document: the daemon's refusals name it, and only invoices can be rejected.
    public enum Kind: Sendable, Hashable { case debitNote, invoice }

    public enum Event: Sendable, Hashable, CaseIterable { case accept, reject }

    public enum Outcome: Sendable, Hashable {
        case moved(DocumentStatus)
        /// Already so: answered 200, nothing changes.
        case unchanged
        /// The daemon's status and message (`nil`: `{"message": null}`).
        case refused(status: Int, message: String?)
    }

    public private(set) var status: DocumentStatus
    public let kind: Kind

    public init(status: DocumentStatus = .received, kind: Kind = .invoice) {
        self.status = status
        self.kind = kind
    }

    /// What `on(event)` would do, without doing it (to check before changing anything).
    public func transitionPreview(_ event: Event) -> Outcome {
        var copy = self
        return copy.on(event)
    }

    public mutating func on(_ event: Event) -> Outcome {
        switch event {
        case .accept:
            switch status {
            case .received, .rejected, .failed:
                status = .accepted
                return .moved(.accepted)
            case .accepted, .settled: return .unchanged
            case .cancelled: return .refused(status: 400, message: kind == .invoice ? "Invoice cancelled" : "Debit note cancelled")
            case .issued: return .refused(status: 500, message: "Illegal status: issued")
            }
        case .reject:
            guard kind == .invoice else { return .refused(status: 501, message: nil) }
            switch status {
            case .received, .failed:
                status = .rejected
                return .moved(.rejected)
            case .rejected: return .unchanged
            case .accepted: return .refused(status: 400, message: "Invoice accepted")
            case .settled: return .refused(status: 400, message: "Invoice settled")
            case .cancelled: return .refused(status: 400, message: "Invoice cancelled")
            case .issued: return .refused(status: 500, message: "Illegal status: issued")
            }
        }
    }
}
