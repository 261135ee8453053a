import Foundation
@testable import GolemRequestor
import Testing
import YagnaAPI

/// The requestor's payment decisions, sans I/O: documents in, actions out, no clock, no node.
@Suite struct PaymentPolicyTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func policy(budget: Decimal = 1, interval: Double? = 20) -> PaymentPolicy {
        var p = PaymentPolicy(budget: budget)
        p.register(agreement: "A", provider: "a", providerId: "0xa", debitNoteInterval: interval)
        p.register(agreement: "B", provider: "b", providerId: "0xb", debitNoteInterval: nil)
        return p
    }

    @Test func invoicesAreAcceptedOnceWithinTheBudget() {
        var p = policy(budget: 1)
        #expect(p.onInvoice(agreementId: "A", amount: 0.6) == .accept(0.6))
        p.invoiceAccepted(agreementId: "A", amount: 0.6)
        #expect(p.spent == 0.6)
        // The same agreement's invoice again: already settled (a duplicate event).
        #expect(p.onInvoice(agreementId: "A", amount: 0.6) == .ignore)
        p.invoiceAccepted(agreementId: "A", amount: 0.6)
        #expect(p.spent == 0.6)
        // Over what is left of the budget.
        #expect(p.onInvoice(agreementId: "B", amount: 0.5) == .reject(.incorrectAmount, message: "over the budget", event: "over budget"))
        #expect(p.onInvoice(agreementId: "B", amount: 0.4) == .accept(0.4))
        // A negative amount is not money owed.
        #expect(p.onInvoice(agreementId: "B", amount: -1) == .reject(.incorrectAmount, message: "a negative amount", event: "negative amount"))
    }

    @Test func anInvoiceForAnotherRequestorsAgreementIsUnsolicited() {
        let p = policy()
        #expect(p.onInvoice(agreementId: "Z", amount: 0.1) == .reject(.unsolicitedService, message: "no agreement of this requestor", event: "unsolicited"))
    }

    @Test func debitNotesWithinTheIntervalAndBudget() {
        var p = policy(budget: 1, interval: 20)
        #expect(p.onDebitNote(agreementId: "A", activityKnown: true, totalDue: 0.1, issued: t0) == .accept(0.1))
        p.debitNoteAccepted(agreementId: "A", issued: t0)
        // 16 s is within a fifth of slack of 20 s; 15 s is not.
        #expect(p.onDebitNote(agreementId: "A", activityKnown: true, totalDue: 0.2, issued: t0.addingTimeInterval(16)) == .accept(0.2))
        #expect(p.onDebitNote(agreementId: "A", activityKnown: true, totalDue: 0.2, issued: t0.addingTimeInterval(15))
            == .refuse(reason: "too frequent: 15 s after the last, 20 s negotiated", message: "Debit notes more frequent than negotiated", code: "DebitNotesTooFrequent"))
        // Without a negotiated interval any spacing is accepted.
        p.debitNoteAccepted(agreementId: "B", issued: t0)
        #expect(p.onDebitNote(agreementId: "B", activityKnown: true, totalDue: 0.1, issued: t0.addingTimeInterval(1)) == .accept(0.1))
        // Over what is left of the budget after accepted invoices.
        p.invoiceAccepted(agreementId: "B", amount: 0.9)
        #expect(p.onDebitNote(agreementId: "A", activityKnown: true, totalDue: 0.2, issued: t0.addingTimeInterval(40))
            == .refuse(reason: "over budget", message: "Debit note over budget", code: "TooMuchDue"))
    }

    @Test func debitNotesOfUnknownAgreementsOrActivitiesAreNotOurs() {
        let p = policy()
        #expect(p.onDebitNote(agreementId: "Z", activityKnown: true, totalDue: 0.1, issued: t0) == .ignore)
        #expect(p.onDebitNote(agreementId: "A", activityKnown: false, totalDue: 0.1, issued: t0) == .ignore)
    }

    @Test func whatIsOwedAtTheEnd() {
        var p = policy()
        #expect(!p.awaitingInvoices)
        p.markTerminated("A")
        #expect(p.awaitingInvoices && p.isTerminated("A") && !p.isTerminated("B"))
        p.invoiceAccepted(agreementId: "A", amount: 0.1)
        #expect(!p.awaitingInvoices)
        #expect(p.unpaid.map(\.id) == ["B"] && p.unpaid.map(\.provider) == ["b"])
        // Registering the same agreement twice keeps one entry in the order.
        p.register(agreement: "B", provider: "b", providerId: "0xb", debitNoteInterval: nil)
        #expect(p.order == ["A", "B"])
    }
}
