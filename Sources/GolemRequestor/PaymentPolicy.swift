import Foundation
import YagnaAPI

/// The requestor's payment decisions with no I/O and no clock: which invoices and debit notes
/// to accept, which to reject or refuse, and what is still owed. The engine asks it what to do
/// with a document, does that over the API, and tells it what was done.
struct PaymentPolicy: Sendable {
    /// One agreement of this engine, as payments see it.
    struct Book: Sendable, Hashable {
        var provider: String
        var providerId: String
        var terminated = false
        /// A terminate request of this engine is under way (one at a time).
        var terminating = false
        var invoiceAccepted = false
        /// The negotiated debit-note interval in seconds (`…debit-note.interval-sec?`).
        var debitNoteInterval: Double? = nil
        /// When the last accepted debit note was issued.
        var lastDebitNote: Date? = nil
    }

    enum InvoiceAction: Sendable, Hashable {
        case accept(Decimal)
        /// Rejected through the API with this reason and message; `event` names it for the events.
        case reject(RejectionReason, message: String, event: String)
        /// Already settled: nothing to do.
        case ignore
    }

    enum DebitNoteAction: Sendable, Hashable {
        case accept(Decimal)
        /// Left unaccepted (the daemon cannot reject a debit note) and the agreement ended.
        case refuse(reason: String, message: String, code: String)
        /// Not this engine's (another session's agreement or activity).
        case ignore
    }

    let budget: Decimal
    /// What accepted invoices add up to.
    private(set) var spent: Decimal = 0
    private(set) var books: [String: Book] = [:]
    /// Agreement ids in the order they were made.
    private(set) var order: [String] = []

    init(budget: Decimal) { self.budget = budget }

    mutating func register(agreement id: String, provider: String, providerId: String, debitNoteInterval: Double?) {
        if books[id] == nil { order.append(id) }
        books[id] = Book(provider: provider, providerId: providerId, debitNoteInterval: debitNoteInterval)
    }

    mutating func markTerminated(_ id: String) {
        books[id]?.terminated = true
        books[id]?.terminating = false
    }

    func isTerminated(_ id: String) -> Bool { books[id]?.terminated == true }

    /// Whether this caller may send the agreement's terminate: not when it is ended or another
    /// terminate is under way (so it is sent once). An agreement not in the books may be ended.
    mutating func claimTermination(_ id: String) -> Bool {
        guard let book = books[id] else { return true }
        guard !book.terminated, !book.terminating else { return false }
        books[id]?.terminating = true
        return true
    }

    /// A claimed terminate did not go through: another may try.
    mutating func releaseTermination(_ id: String) { books[id]?.terminating = false }

    // MARK: Invoices

    func onInvoice(agreementId: String, amount: Decimal) -> InvoiceAction {
        guard let book = books[agreementId] else {
            return .reject(.unsolicitedService, message: "no agreement of this requestor", event: "unsolicited")
        }
        if book.invoiceAccepted { return .ignore }
        guard amount >= 0 else { return .reject(.incorrectAmount, message: "a negative amount", event: "negative amount") }
        guard spent + amount <= budget else {
            return .reject(.incorrectAmount, message: "over the budget", event: "over budget")
        }
        return .accept(amount)
    }

    mutating func invoiceAccepted(agreementId: String, amount: Decimal) {
        guard books[agreementId]?.invoiceAccepted == false else { return }
        books[agreementId]?.invoiceAccepted = true
        spent += amount
    }

    /// Whether an ended agreement still waits for its invoice.
    var awaitingInvoices: Bool { order.contains { books[$0]!.terminated && !books[$0]!.invoiceAccepted } }

    /// Agreements without an accepted invoice, in the order they were made.
    var unpaid: [(id: String, provider: String)] { order.filter { !books[$0]!.invoiceAccepted }.map { ($0, books[$0]!.provider) } }

    // MARK: Debit notes

    /// `issued`: the note's timestamp. Notes closer together than the negotiated interval
    /// (with a fifth of slack) are abusive; so is one whose total exceeds what is left of the
    /// budget.
    func onDebitNote(agreementId: String, activityKnown: Bool, totalDue: Decimal, issued: Date?) -> DebitNoteAction {
        guard let book = books[agreementId], activityKnown else { return .ignore }
        guard totalDue <= budget - spent else {
            return .refuse(reason: "over budget", message: "Debit note over budget", code: "TooMuchDue")
        }
        if let interval = book.debitNoteInterval, let last = book.lastDebitNote, let issued, issued.timeIntervalSince(last) < interval * 0.8 {
            return .refuse(
                reason: "too frequent: \(Int(issued.timeIntervalSince(last))) s after the last, \(Int(interval)) s negotiated",
                message: "Debit notes more frequent than negotiated", code: "DebitNotesTooFrequent")
        }
        return .accept(totalDue)
    }

    mutating func debitNoteAccepted(agreementId: String, issued: Date?) {
        if let issued { books[agreementId]?.lastDebitNote = issued }
    }
}
