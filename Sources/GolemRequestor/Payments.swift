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
            let provider = payments.books[invoice.agreementId]?.provider ?? invoice.issuerId
            switch payments.onInvoice(agreementId: invoice.agreementId, amount: invoice.amount) {
            case .ignore: return
            case .reject(let reason, let message, let event):
                try await yagna.payment.rejectInvoice(id, Rejection(rejectionReason: reason, totalAmountAccepted: 0, message: message))
                emit(.invoiceRejected(provider: provider, invoiceId: id, reason: event))
            case .accept(let amount):
                try await yagna.payment.acceptInvoice(id, Acceptance(totalAmountAccepted: amount, allocationId: allocation.allocationId))
                payments.invoiceAccepted(agreementId: invoice.agreementId, amount: amount)
                invoiceSettled.notify()
                emit(.invoiceAccepted(provider: provider, invoiceId: id, amount: amount))
            }
        } catch {
            logger.warning("invoice \(id): \(error)")
        }
    }

    /// The daemon cannot reject a debit note: an unacceptable one is left unaccepted and its
    /// agreement ended, with the reason.
    func refuse(_ note: DebitNote, id: String, provider: String, reason: String, message: String, code: String) async {
        emit(.debitNoteIgnored(provider: provider, debitNoteId: id, reason: reason))
        // Claimed before the request, so a worker's own clean-up does not terminate it too.
        guard payments.claimTermination(note.agreementId) else { return }
        if (try? await yagna.market.terminateAgreement(note.agreementId, reason: Reason(message: message, extra: ["golem.requestor.code": .string(code)]))) != nil {
            emit(.agreementTerminated(provider: provider, agreementId: note.agreementId, byProvider: false, reason: message))
            markTerminated(note.agreementId)
        } else {
            // Not ended (the daemon failed): the worker's clean-up or shutdown ends it later.
            payments.releaseTermination(note.agreementId)
        }
    }

    func handleDebitNote(_ id: String) async {
        guard let allocation else { return }
        do {
            let note = try await yagna.payment.debitNote(id)
            let issued = note.timestamp.date
            let provider = payments.books[note.agreementId]?.provider ?? note.issuerId
            switch payments.onDebitNote(agreementId: note.agreementId, activityKnown: activities.contains(note.activityId), totalDue: note.totalAmountDue, issued: issued) {
            case .ignore: return
            case .refuse(let reason, let message, let code):
                await refuse(note, id: id, provider: provider, reason: reason, message: message, code: code)
            case .accept(let amount):
                try await yagna.payment.acceptDebitNote(id, Acceptance(totalAmountAccepted: amount, allocationId: allocation.allocationId))
                payments.debitNoteAccepted(agreementId: note.agreementId, issued: issued)
                emit(.debitNoteAccepted(provider: provider, debitNoteId: id, amount: amount))
            }
        } catch {
            logger.warning("debit note \(id): \(error)")
        }
    }
}
