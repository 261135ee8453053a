public import Foundation
public import YagnaAPI

/// An allocation's budget on the node: amended, spent by accepted invoices, released once.
///
/// Sans-I/O: each event says whether it holds; a refusal carries the daemon's status and
/// message. Amounts are exact `Decimal`s.
public struct AllocationStateMachine: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case done
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

    /// `PUT /allocations/{id}` with a new total.
    public mutating func amend(total newTotal: Decimal) -> Outcome {
        guard !released else { return .refused(status: 410, message: "was released") }
        guard newTotal >= spent else { return .refused(status: 400, message: "totalAmount \(newTotal) is below the amount already spent (\(spent))") }
        total = newTotal
        return .done
    }

    /// Whether `amount` could be paid from it now.
    public func canSpend(_ amount: Decimal) -> Outcome {
        guard !released else { return .refused(status: 410, message: "was released") }
        guard remaining >= amount else {
            return .refused(status: 400, message: "Not enough funds: \(remaining.wireString) left, \(amount.wireString) due")
        }
        return .done
    }

    /// An accepted invoice's amount.
    public mutating func spend(_ amount: Decimal) -> Outcome {
        let check = canSpend(amount)
        if check == .done { spent += amount }
        return check
    }

    public mutating func release() -> Outcome {
        guard !released else { return .refused(status: 410, message: "was already released") }
        released = true
        return .done
    }
}

/// A debit note's or invoice's status as the requestor answers it: Received → Accepted or
/// Rejected; accepting again is a no-op, anything else after a decision is refused.
public struct DocumentStateMachine: Sendable, Hashable {
    public enum Event: Sendable, Hashable, CaseIterable { case accept, reject }

    public enum Outcome: Sendable, Hashable {
        case moved(DocumentStatus)
        /// Already so: answered 200, nothing changes.
        case unchanged
        case refused(message: String)
    }

    public private(set) var status: DocumentStatus

    public init(status: DocumentStatus = .received) { self.status = status }

    /// What `on(event)` would do, without doing it (to check before reading a request's body).
    public func transitionPreview(_ event: Event) -> Outcome {
        var copy = self
        return copy.on(event)
    }

    public mutating func on(_ event: Event) -> Outcome {
        switch (event, status) {
        case (.accept, .received):
            status = .accepted
            return .moved(.accepted)
        case (.accept, .accepted), (.accept, .settled): return .unchanged
        case (.reject, .received):
            status = .rejected
            return .moved(.rejected)
        case (.accept, _): return .refused(message: "is \(status.rawValue) and cannot be accepted")
        case (.reject, _): return .refused(message: "is \(status.rawValue) and cannot be rejected")
        }
    }
}
