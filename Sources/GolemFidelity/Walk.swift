/// The requestor-side walk the simulator is compared on: every operation of the market,
/// activity, payment, net (v1 and v2), identity and version APIs, the happy path as far as one
/// real node allows, and the error surface.
public enum Walk {
    static let market = "/market-api/v1"
    static let activity = "/activity-api/v1"
    static let payment = "/payment-api/v1"
    static let net1 = "/net-api/v1"
    static let net2 = "/net-api/v2/vpn"

    static func demand(_ constraints: String) -> String {
        """
        {"properties":{"golem.srv.comp.expiration":{expiration},"golem.node.debug.subnet":"public",\
        "golem.com.payment.chosen-platform":"erc20-holesky-tglm",\
        "golem.com.payment.platform.erc20-holesky-tglm.address":"{me}",\
        "golem.com.payment.debit-notes.accept-timeout?":240,\
        "golem.com.scheme.payu.debit-note.interval-sec?":120,\
        "golem.com.scheme.payu.payment-timeout-sec?":120,\
        "golem.srv.caps.multi-activity":true},"constraints":"\(constraints)"}
        """
    }

    static let constraints = "(&(golem.runtime.name=vm)(golem.inf.mem.gib>=0.5))"
    static let oneNodeExec = "no exe-unit serves activities on one real node, so exec and its results have no real answer to compare"
    static let oneNodeCancel = "on one node the cancel reaches the provider half of the same node, which does not know the agreement yet (500 'Remote failed to approve')"

    static func get(_ name: String, _ target: String, auth: WalkStep.Auth = .requestor, capture: [(String, String)] = [], check: WalkStep.Check = .full, until: WalkStep.Until? = nil) -> WalkItem {
        .request(WalkStep(name, "GET", target, auth: auth, capture: capture, check: check, until: until))
    }
    static func post(_ name: String, _ target: String, _ body: String? = nil, auth: WalkStep.Auth = .requestor, contentType: String? = "application/json", capture: [(String, String)] = [], check: WalkStep.Check = .full) -> WalkItem {
        .request(WalkStep(name, "POST", target, body: body, auth: auth, contentType: contentType, capture: capture, check: check))
    }
    static func put(_ name: String, _ target: String, _ body: String?, check: WalkStep.Check = .full) -> WalkItem {
        .request(WalkStep(name, "PUT", target, body: body, check: check))
    }
    static func delete(_ name: String, _ target: String, check: WalkStep.Check = .full) -> WalkItem {
        .request(WalkStep(name, "DELETE", target, check: check))
    }

    /// The whole walk, in order.
    public static var items: [WalkItem] {
        identity + marketSetUp + negotiation + agreements + allocations + activities + debitNotes + termination + invoices + cleanUp + netV1 + netV2
    }

    static var identity: [WalkItem] {
        [
            get("version", "/version/get", auth: .none),
            get("me", "/me", capture: [("me", "$.identity")]),
            get("me without key", "/me", auth: .none),
            get("me with bad key", "/me", auth: .bad),
            get("demands without key", "\(market)/demands", auth: .none),
            get("demands with bad key", "\(market)/demands", auth: .bad),
            get("allocations without key", "\(payment)/allocations", auth: .none),
            get("activity state without key", "\(activity)/activity/{unknownHex64}/state", auth: .none),
            get("networks without key", "\(net1)/net", auth: .none),
            get("requestor accounts before any allocation", "\(payment)/requestorAccounts"),
            get("no such endpoint", "\(market)/no-such-thing"),
        ]
    }

    static var marketSetUp: [WalkItem] {
        [
            get("demands, none yet", "\(market)/demands"),
            get("offers of the requestor, none", "\(market)/offers"),
            post("subscribe demand: malformed JSON", "\(market)/demands", "{\"properties\": {"),
            post("subscribe demand: wrong types", "\(market)/demands", #"{"properties": {}, "constraints": 5}"#),
            post("subscribe demand: constraints missing", "\(market)/demands", #"{"properties": {}}"#),
            post("subscribe demand: not JSON content type", "\(market)/demands", demand(constraints), contentType: "text/plain"),
            post("subscribe demand", "\(market)/demands", demand(constraints), capture: [("demand", "$")]),
            post("subscribe demand with empty constraints (&)", "\(market)/demands", demand("(&)"), capture: [("demand2", "$")]),
            get("demands, two", "\(market)/demands"),
            .provider(.offer),
        ]
    }

    static var negotiation: [WalkItem] {
        let events = "\(market)/demands/{demand}/events"
        return [
            get("demand events: initial proposal", "\(events)?timeout=5&maxEvents=10", capture: [("initial", "$[eventType=ProposalEvent].proposal.proposalId")], until: .nonEmpty),
            get("demand events of (&): initial proposal", "\(market)/demands/{demand2}/events?timeout=5&maxEvents=10", capture: [("initial2", "$[eventType=ProposalEvent].proposal.proposalId")], until: .nonEmpty),
            get("demand events: nothing new within the timeout", "\(events)?timeout=0.3&maxEvents=10"),
            get("demand events: maxEvents=0", "\(events)?timeout=0.1&maxEvents=0"),
            get("demand events: maxEvents=-1", "\(events)?timeout=0.1&maxEvents=-1"),
            get("demand events: maxEvents not a number", "\(events)?maxEvents=many"),
            get("demand events: timeout not a number", "\(events)?timeout=soon"),
            get("demand events: negative timeout", "\(events)?timeout=-1&maxEvents=1"),
            get("demand events of an unknown subscription", "\(market)/demands/{unknownSubscription}/events?timeout=0.1"),
            get("demand events of a malformed id", "\(market)/demands/not-an-id/events?timeout=0.1"),
            get("proposal", "\(market)/demands/{demand}/proposals/{initial}"),
            get("unknown proposal", "\(market)/demands/{demand}/proposals/{unknownProposal}"),
            get("malformed proposal id", "\(market)/demands/{demand}/proposals/not-a-proposal"),
            get("proposal of an unknown demand", "\(market)/demands/{unknownSubscription}/proposals/{initial}"),
            post("counter: malformed JSON", "\(market)/demands/{demand}/proposals/{initial}", "{"),
            post("counter an unknown proposal", "\(market)/demands/{demand}/proposals/{unknownProposal}", demand(constraints)),
            post("counter a malformed proposal id", "\(market)/demands/{demand}/proposals/nope", demand(constraints)),
            post("counter", "\(market)/demands/{demand}/proposals/{initial}", demand(constraints), capture: [("counter", "$")]),
            get("counter-proposal as the requestor sees it", "\(market)/demands/{demand}/proposals/{counter}"),
            .provider(.counter("counter")),
            get("demand events: the provider's draft", "\(events)?timeout=5&maxEvents=10", capture: [("draft", "$[proposal.state=Draft].proposal.proposalId")], until: .contains("Draft")),
            get("draft proposal", "\(market)/demands/{demand}/proposals/{draft}"),
            post("counter (&)", "\(market)/demands/{demand2}/proposals/{initial2}", demand("(&)"), capture: [("counter2", "$")]),
            .provider(.counter("counter2")),
            get("demand events of (&): the provider's draft", "\(market)/demands/{demand2}/events?timeout=5&maxEvents=10", capture: [("draft2", "$[proposal.state=Draft].proposal.proposalId")], until: .contains("Draft")),
            post("reject a proposal: malformed JSON", "\(market)/demands/{demand2}/proposals/{initial2}/reject", "{"),
            post("reject the initial proposal of (&)", "\(market)/demands/{demand2}/proposals/{initial2}/reject", #"{"message":"not this one"}"#),
            post("reject an unknown proposal", "\(market)/demands/{demand2}/proposals/{unknownProposal}/reject", #"{"message":"no"}"#),
        ]
    }

    static var agreements: [WalkItem] {
        let agreement = "\(market)/agreements/{agreement}"
        return [
            post("create agreement: malformed JSON", "\(market)/agreements", "{\"proposalId\":"),
            post("create agreement: proposalId missing", "\(market)/agreements", #"{"validTo":"{validTo}"}"#),
            post("create agreement: validTo not a time", "\(market)/agreements", #"{"proposalId":"{draft}","validTo":"tomorrow"}"#),
            post("create agreement from an unknown proposal", "\(market)/agreements", #"{"proposalId":"{unknownProposal}","validTo":"{validTo}"}"#),
            post("create agreement from a malformed proposal id", "\(market)/agreements", #"{"proposalId":"nope","validTo":"{validTo}"}"#),
            post("create agreement from the requestor's own proposal", "\(market)/agreements", #"{"proposalId":"{counter}","validTo":"{validTo}"}"#),
            post("create agreement", "\(market)/agreements", #"{"proposalId":"{draft}","validTo":"{validTo}"}"#, capture: [("agreement", "$")]),
            get("agreement, proposal state", agreement),
            get("unknown agreement", "\(market)/agreements/{unknownHex64}"),
            get("malformed agreement id", "\(market)/agreements/not-an-agreement"),
            post("wait for approval before confirming", "\(agreement)/wait?timeout=0.3"),
            post("confirm agreement", "\(agreement)/confirm"),
            post("confirm agreement again", "\(agreement)/confirm"),
            post("confirm an unknown agreement", "\(market)/agreements/{unknownHex64}/confirm"),
            .provider(.approve("agreement")),
            post("wait for approval", "\(agreement)/wait?timeout=5"),
            post("wait for approval: timeout not a number", "\(agreement)/wait?timeout=later"),
            get("agreement, approved", agreement),
            get("agreement events", "\(market)/agreementEvents?afterTimestamp={start}&timeout=1", check: .statusOnly("on one node every agreement event appears twice and the list holds the provider's view too")),
            get("agreement events: afterTimestamp not a time", "\(market)/agreementEvents?afterTimestamp=yesterday"),
            get("agreements, listed", "\(market)/agreements", check: .statusOnly("on one node both the requestor's and the provider's rows are listed")),
            post("create a second agreement (&)", "\(market)/agreements", #"{"proposalId":"{draft2}","validTo":"{validTo}"}"#, capture: [("agreement2", "$")]),
            post("cancel the second agreement", "\(market)/agreements/{agreement2}/cancel", #"{"message":"changed my mind"}"#, check: .skipped(oneNodeCancel)),
            get("second agreement, cancelled", "\(market)/agreements/{agreement2}", check: .skipped(oneNodeCancel)),
            post("confirm a cancelled agreement", "\(market)/agreements/{agreement2}/confirm", check: .skipped(oneNodeCancel)),
            post("cancel it again", "\(market)/agreements/{agreement2}/cancel", #"{"message":"again"}"#, check: .skipped(oneNodeCancel)),
        ]
    }

    static var allocations: [WalkItem] {
        let allocations = "\(payment)/allocations"
        return [
            post("create allocation: malformed JSON", allocations, "{\"totalAmount\":"),
            post("create allocation: wrong types", allocations, #"{"totalAmount": 10, "makeDeposit": "no"}"#),
            post("create allocation on an unknown platform", allocations, #"{"totalAmount":"10","makeDeposit":false,"paymentPlatform":"no-such-platform","timeout":"{validTo}"}"#),
            post("create allocation", allocations, #"{"totalAmount":"10","makeDeposit":false,"paymentPlatform":"erc20-holesky-tglm","timeout":"{validTo}"}"#, capture: [("allocation", "$.allocationId")]),
            get("allocation", "\(allocations)/{allocation}"),
            get("allocations, listed", allocations),
            get("unknown allocation", "\(allocations)/{unknownUUID}"),
            get("allocation expenditures, none yet", "\(allocations)/{allocation}/expenditures"),
            get("allocation orders, none yet", "\(allocations)/{allocation}/orders"),
            get("expenditures of an unknown allocation", "\(allocations)/{unknownUUID}/expenditures"),
            get("malformed allocation id", "\(allocations)/not-an-allocation"),
            put("amend allocation", "\(allocations)/{allocation}", #"{"totalAmount":"20"}"#),
            put("amend allocation: malformed JSON", "\(allocations)/{allocation}", "{"),
            get("requestor accounts", "\(payment)/requestorAccounts"),
            get("payment status of a platform", "\(payment)/payments?afterTimestamp={start}", check: .full),
        ]
    }

    static var activities: [WalkItem] {
        let act = "\(activity)/activity/{activity}"
        return [
            .provider(.serveActivities),
            post("create activity: malformed JSON", "\(activity)/activity", "{\"agreementId\""),
            post("create activity: agreementId missing", "\(activity)/activity", "{}"),
            post("create activity for an unknown agreement", "\(activity)/activity", #"{"agreementId":"{unknownHex64}"}"#),
            post("create activity", "\(activity)/activity", #"{"agreementId":"{agreement}"}"#, capture: [("activity", "$.activityId")]),
            get("activity state", "\(act)/state"),
            get("activity usage before any report", "\(act)/usage"),
            get("state of an unknown activity", "\(activity)/activity/{unknownHex64}/state"),
            get("usage of an unknown activity", "\(activity)/activity/{unknownHex64}/usage"),
            get("running command", "\(act)/command", check: .skipped(oneNodeExec)),
            post("exec: malformed JSON", "\(act)/exec", "{\"text\":"),
            post("exec: text missing", "\(act)/exec", "{}"),
            post("exec: text not an ExeScript", "\(act)/exec", #"{"text":"not json"}"#),
            post("exec: unknown command", "\(act)/exec", #"{"text":"[{\"launch\":{}}]"}"#),
            post("exec: start without args", "\(act)/exec", #"{"text":"[{\"deploy\":{}},{\"start\":{}}]"}"#, check: .skipped(oneNodeExec)),
            post("exec on an unknown activity", "\(activity)/activity/{unknownHex64}/exec", #"{"text":"[{\"deploy\":{}}]"}"#),
            get("exec results of an unknown batch", "\(act)/exec/{unknownHex64}?timeout=0.2", check: .skipped(oneNodeExec)),
        ]
    }

    static var debitNotes: [WalkItem] {
        let notes = "\(payment)/debitNotes"
        return [
            .provider(.debitNote(activity: "activity", agreement: "agreement")),
            get("debit note events", "\(payment)/debitNoteEvents?afterTimestamp={start}&timeout=5", capture: [("debitNote", "$[eventType=DebitNoteReceivedEvent].debitNoteId")], until: .contains("DebitNoteReceivedEvent")),
            get("debit note events: afterTimestamp not a time", "\(payment)/debitNoteEvents?afterTimestamp=never"),
            get("debit note", "\(notes)/{debitNote}", capture: [("debitNoteAmount", "$.totalAmountDue")]),
            get("debit notes, listed", notes),
            get("unknown debit note", "\(notes)/{unknownUUID}"),
            post("accept debit note: malformed JSON", "\(notes)/{debitNote}/accept", "{"),
            post("accept debit note: allocationId missing", "\(notes)/{debitNote}/accept", #"{"totalAmountAccepted":"{debitNoteAmount}"}"#),
            post("accept debit note against an unknown allocation", "\(notes)/{debitNote}/accept", #"{"totalAmountAccepted":"{debitNoteAmount}","allocationId":"{unknownUUID}"}"#),
            post("accept debit note", "\(notes)/{debitNote}/accept", #"{"totalAmountAccepted":"{debitNoteAmount}","allocationId":"{allocation}"}"#),
            post("accept debit note again", "\(notes)/{debitNote}/accept", #"{"totalAmountAccepted":"{debitNoteAmount}","allocationId":"{allocation}"}"#),
            post("reject debit note", "\(notes)/{debitNote}/reject", #"{"rejectionReason":"UNSOLICITED_SERVICE","totalAmountAccepted":"0"}"#),
            post("accept an unknown debit note", "\(notes)/{unknownUUID}/accept", #"{"totalAmountAccepted":"1","allocationId":"{allocation}"}"#),
            get("debit note, accepted", "\(notes)/{debitNote}"),
        ]
    }

    static var termination: [WalkItem] {
        [
            delete("destroy activity", "\(activity)/activity/{activity}"),
            get("activity state after destroy", "\(activity)/activity/{activity}/state"),
            delete("destroy activity again", "\(activity)/activity/{activity}"),
            delete("destroy an unknown activity", "\(activity)/activity/{unknownHex64}"),
            post("terminate agreement: malformed JSON", "\(market)/agreements/{agreement}/terminate", "{"),
            post("terminate agreement", "\(market)/agreements/{agreement}/terminate", #"{"message":"work done"}"#),
            post("terminate agreement again", "\(market)/agreements/{agreement}/terminate", #"{"message":"again"}"#),
            post("terminate an unknown agreement", "\(market)/agreements/{unknownHex64}/terminate", #"{"message":"x"}"#),
            get("agreement, terminated", "\(market)/agreements/{agreement}"),
            post("create activity on a terminated agreement", "\(activity)/activity", #"{"agreementId":"{agreement}"}"#),
        ]
    }

    static var invoices: [WalkItem] {
        let invoices = "\(payment)/invoices"
        return [
            .provider(.invoice(agreement: "agreement", activity: "activity")),
            get("invoice events", "\(payment)/invoiceEvents?afterTimestamp={start}&timeout=5", capture: [("invoice", "$[eventType=InvoiceReceivedEvent].invoiceId")], until: .contains("InvoiceReceivedEvent")),
            get("invoice", "\(invoices)/{invoice}", capture: [("invoiceAmount", "$.amount")]),
            get("invoices, listed", invoices),
            get("unknown invoice", "\(invoices)/{unknownUUID}"),
            post("accept invoice: malformed JSON", "\(invoices)/{invoice}/accept", "{"),
            post("accept invoice", "\(invoices)/{invoice}/accept", #"{"totalAmountAccepted":"{invoiceAmount}","allocationId":"{allocation}"}"#),
            post("accept invoice again", "\(invoices)/{invoice}/accept", #"{"totalAmountAccepted":"{invoiceAmount}","allocationId":"{allocation}"}"#),
            post("reject invoice: unknown reason", "\(invoices)/{invoice}/reject", #"{"rejectionReason":"LATE","totalAmountAccepted":"0"}"#),
            post("reject invoice", "\(invoices)/{invoice}/reject", #"{"rejectionReason":"UNSOLICITED_SERVICE","totalAmountAccepted":"0"}"#),
            get("invoice, accepted", "\(invoices)/{invoice}"),
            get("allocation expenditures after the invoice", "\(payment)/allocations/{allocation}/expenditures"),
        ]
    }

    static var cleanUp: [WalkItem] {
        [
            delete("release allocation", "\(payment)/allocations/{allocation}"),
            delete("release allocation again", "\(payment)/allocations/{allocation}"),
            delete("release an unknown allocation", "\(payment)/allocations/{unknownUUID}"),
            delete("unsubscribe demand", "\(market)/demands/{demand}"),
            delete("unsubscribe demand again", "\(market)/demands/{demand}"),
            get("events of an unsubscribed demand", "\(market)/demands/{demand}/events?timeout=0.1"),
            delete("unsubscribe demand (&)", "\(market)/demands/{demand2}"),
            delete("unsubscribe a malformed demand id", "\(market)/demands/not-a-demand"),
            delete("unsubscribe an unknown demand", "\(market)/demands/{unknownSubscription}"),
        ]
    }

    static func net(_ prefix: String, _ v: String) -> [WalkItem] {
        let net = "\(prefix)/net/{net\(v)}"
        return [
            get("\(v): networks, none", "\(prefix)/net"),
            post("\(v): create network: malformed JSON", "\(prefix)/net", "{\"ip\":"),
            post("\(v): create network: ip missing", "\(prefix)/net", #"{"mask":"255.255.255.0"}"#),
            post("\(v): create network: not an address", "\(prefix)/net", #"{"ip":"not-an-ip"}"#),
            post("\(v): create network with a mask", "\(prefix)/net", #"{"ip":"192.168.8.0","mask":"255.255.255.0"}"#, capture: [("net\(v)", "$.id")]),
            post("\(v): create network as CIDR", "\(prefix)/net", #"{"ip":"10.20.0.1/16"}"#, capture: [("cidr\(v)", "$.id")]),
            post("\(v): create network with a gateway", "\(prefix)/net", #"{"ip":"172.16.0.0","mask":"255.255.0.0","gateway":"172.16.0.1"}"#, capture: [("gw\(v)", "$.id")]),
            get("\(v): network", net),
            get("\(v): networks, listed", "\(prefix)/net"),
            get("\(v): unknown network", "\(prefix)/net/{unknownHex32}"),
            get("\(v): addresses, none", "\(net)/addresses"),
            post("\(v): assign the requestor's address", "\(net)/addresses", #"{"ip":"192.168.8.1"}"#),
            post("\(v): assign an address outside the network", "\(net)/addresses", #"{"ip":"10.0.0.1"}"#),
            get("\(v): addresses", "\(net)/addresses"),
            post("\(v): add node", "\(net)/nodes", #"{"id":"{unknownNode}","ip":"192.168.8.2"}"#),
            post("\(v): add the same node again", "\(net)/nodes", #"{"id":"{unknownNode}","ip":"192.168.8.2"}"#),
            post("\(v): add node: malformed JSON", "\(net)/nodes", "{"),
            post("\(v): add node outside the network", "\(net)/nodes", #"{"id":"0x0000000000000000000000000000000000000002","ip":"10.9.9.9"}"#),
            get("\(v): nodes", "\(net)/nodes"),
            delete("\(v): remove node", "\(net)/nodes/{unknownNode}"),
            delete("\(v): remove node again", "\(net)/nodes/{unknownNode}"),
            get("\(v): connections", "\(net)/tcp"),
            delete("\(v): remove network", net),
            delete("\(v): remove network again", net),
            get("\(v): removed network", net),
            delete("\(v): remove the CIDR network", "\(prefix)/net/{cidr\(v)}"),
            delete("\(v): remove the gateway network", "\(prefix)/net/{gw\(v)}"),
        ]
    }

    static var netV1: [WalkItem] { net(net1, "v1") }
    static var netV2: [WalkItem] { net(net2, "v2") }
}
