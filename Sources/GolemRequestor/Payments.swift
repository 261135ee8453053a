import YagnaAPI
import GolemTime
import Foundation
import Logging

extension Golem {
    /// Polls debit-note and invoice events until shutdown, accepting what is due.
    func paymentLoop() async throws {
        var invoiceAfter: WireTimestamp? = WireTimestamp(clock.now)
        var debitAfter: WireTimestamp? = invoiceAfter
        while !paymentsStopped {
            try Task.checkCancellation()
            do {
                let invoiceEvents = try await yagna.payment.invoiceEvents(afterTimestamp: invoiceAfter, timeout: .seconds(1))
                for event in invoiceEvents {
                    invoiceAfter = event.eventDate
                    if event.kind == .received, let id = event.invoiceId { await handleInvoice(id) }
                }
                let debitEvents = try await yagna.payment.debitNoteEvents(afterTimestamp: debitAfter, timeout: .seconds(1))
                for event in debitEvents {
                    debitAfter = event.eventDate
                    if event.kind == .received, let id = event.debitNoteId { await handleDebitNote(id) }
                }
            } catch is CancellationError {
                return
            } catch {
                if paymentsStopped || Task.isCancelled { return }
                logger.debug("payment events: \(error)")
                try await clock.sleep(for: .seconds(1))
            }
        }
    }

    func handleInvoice(_ id: String) async {
        guard let allocation else { return }
        do {
            let invoice = try await yagna.payment.invoice(id)
            guard let book = agreements[invoice.agreementId] else {
                try await yagna.payment.rejectInvoice(id, Rejection(rejectionReason: .unsolicitedService, totalAmountAccepted: 0, message: "no agreement of this requestor"))
                emit(.invoiceRejected(provider: invoice.issuerId, invoiceId: id, reason: "unsolicited"))
                return
            }
            guard !book.invoiceAccepted else { return }
            guard spent + invoice.amount <= configuration.budget else {
                try await yagna.payment.rejectInvoice(id, Rejection(rejectionReason: .incorrectAmount, totalAmountAccepted: 0, message: "over the budget"))
                emit(.invoiceRejected(provider: book.provider, invoiceId: id, reason: "over budget"))
                return
            }
            try await yagna.payment.acceptInvoice(id, Acceptance(totalAmountAccepted: invoice.amount, allocationId: allocation.allocationId))
            spent += invoice.amount
            agreements[invoice.agreementId]?.invoiceAccepted = true
            emit(.invoiceAccepted(provider: book.provider, invoiceId: id, amount: invoice.amount))
        } catch {
            logger.warning("invoice \(id): \(error)")
        }
    }

    /// The daemon cannot reject a debit note: an unacceptable one is left unaccepted and its
    /// agreement ended, with the reason.
    func refuse(_ note: DebitNote, id: String, provider: String, reason: String, message: String, code: String) async {
        emit(.debitNoteIgnored(provider: provider, debitNoteId: id, reason: reason))
        if (try? await yagna.market.terminateAgreement(note.agreementId, reason: Reason(message: message, extra: ["golem.requestor.code": .string(code)]))) != nil {
            emit(.agreementTerminated(provider: provider, agreementId: note.agreementId, byProvider: false, reason: message))
        }
        markTerminated(note.agreementId)
    }

    func handleDebitNote(_ id: String) async {
        guard let allocation else { return }
        do {
            let note = try await yagna.payment.debitNote(id)
            guard let book = agreements[note.agreementId], activities.contains(note.activityId) else { return }
            guard note.totalAmountDue <= configuration.budget - spent else {
                await refuse(note, id: id, provider: book.provider, reason: "over budget", message: "Debit note over budget", code: "TooMuchDue")
                return
            }
            // Notes closer together than the negotiated interval (with a fifth of slack) are
            // abusive: left unaccepted, and the agreement ends.
            let issued = note.timestamp.date
            if let interval = book.debitNoteInterval, let last = book.lastDebitNote, let issued, issued.timeIntervalSince(last) < interval * 0.8 {
                await refuse(
                    note, id: id, provider: book.provider,
                    reason: "too frequent: \(Int(issued.timeIntervalSince(last))) s after the last, \(Int(interval)) s negotiated",
                    message: "Debit notes more frequent than negotiated", code: "DebitNotesTooFrequent")
                return
            }
            try await yagna.payment.acceptDebitNote(id, Acceptance(totalAmountAccepted: note.totalAmountDue, allocationId: allocation.allocationId))
            if let issued { agreements[note.agreementId]?.lastDebitNote = issued }
            emit(.debitNoteAccepted(provider: book.provider, debitNoteId: id, amount: note.totalAmountDue))
        } catch {
            logger.warning("debit note \(id): \(error)")
        }
    }
}
