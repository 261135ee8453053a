"""Checks a session the simulated node journalled (`golem-sim serve --journal FILE`), as
`golem-sim inspect FILE --json` reports it: every activity destroyed, every approved agreement
ended, every invoice accepted, every debit note accepted, the allocation released.

Usage: check_journal.py INSPECT_JSON [--no-terminate] [--invoices-withheld] [--min-debit-notes N] [--min-invoices N] [--market-only] [--debit-notes-refused NAME] [--journal FILE]
  --invoices-withheld the providers withhold their invoices (a fault): none may come
  --allow-unused-agreement  tolerate an approved agreement without activities that was never
                      terminated (yapapi 0.13.1 leaves one behind when its approval arrives while
                      the job is shutting down)
  --debit-notes-refused NAME  the provider NAME (a name prefix) sends debit notes faster than
                      agreed (a fault): at least one of its notes must go unaccepted, and its
                      agreement must end; its other notes may go unaccepted too
  --journal FILE      the recording itself: every network created through the net API must
                      have been removed
  --no-terminate      the provider has no multi-activity: no terminate call may come, and the
                      invoice must follow the activity's destruction
  --invoice-may-race-destroy  with --no-terminate, on a real node: an invoice may be seen before
                      the DELETE of its activity is answered (counted, not ordered)
Prints one line of totals; exits 1 naming every broken rule."""
import json
import sqlite3
import sys


def main():
    args = sys.argv[1:]
    data = json.load(open(args[0]))
    no_terminate = "--no-terminate" in args

    def option(name, default):
        return int(args[args.index(name) + 1]) if name in args else default

    min_debit_notes = option("--min-debit-notes", 0)
    min_invoices = option("--min-invoices", 1)
    refused = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--debit-notes-refused"]
    problems = []
    totals = {"agreements": 0, "activities": 0, "invoices accepted": 0, "debit notes accepted": 0}
    for provider in data["providers"]:
        seen = {}
        for event in provider["events"]:
            seen.setdefault(event["kind"], set()).add(event["resource"])
        name = provider["name"]
        approved = seen.get("agreementApproved", set())
        # Agreements negotiated without a chosen payment platform are never invoiced (golem-core's
        # low-level API leaves it to the app): they need no invoice.
        unbillable = {e["resource"] for e in provider["events"] if e["kind"] == "agreementCreated" and e.get("details", {}).get("billable") is False}
        totals["agreements"] += len(approved)
        totals["activities"] += len(seen.get("activityCreated", set()))
        for activity in seen.get("activityCreated", set()) - seen.get("activityDestroyed", set()):
            problems.append(f"{name}: {activity} was never destroyed")
        if not no_terminate:
            for agreement in approved - seen.get("agreementTerminated", set()):
                if "--allow-unused-agreement" in args and not seen.get("activityCreated"):
                    continue
                problems.append(f"{name}: {agreement} was approved but never terminated")
        else:
            # Without multi-activity there is no terminate call, and the invoice follows the
            # activity's destruction.
            for agreement in seen.get("agreementTerminated", set()):
                problems.append(f"{name}: {agreement} was terminated, though the provider has no multi-activity")
            # Each invoice follows a destruction of its own (one agreement, one activity each).
            # On a real node the provider bills the moment its exe-unit is destroyed, which can be
            # before the daemon has answered the requestor's DELETE (--invoice-may-race-destroy):
            # then no more invoices than destructions, whatever the order.
            if "--invoice-may-race-destroy" in args:
                kinds = [e["kind"] for e in provider["events"]]
                if kinds.count("invoice") > kinds.count("activityDestroyed"):
                    problems.append(f"{name}: more invoices than destroyed activities")
            else:
                pending = 0
                for e in sorted(provider["events"], key=lambda e: e["offsetSeconds"]):
                    if e["kind"] == "activityDestroyed":
                        pending += 1
                    elif e["kind"] == "invoice":
                        if pending == 0:
                            problems.append(f"{name}: an invoice came before its activity was destroyed")
                            break
                        pending -= 1
        invoices = seen.get("invoice", set())
        for invoice in invoices - seen.get("invoiceAccepted", set()):
            problems.append(f"{name}: invoice {invoice} was never accepted")
        if "--invoices-withheld" in args:
            if invoices:
                problems.append(f"{name}: {len(invoices)} invoice(s), though its invoices are withheld")
        elif approved - unbillable and not invoices and not ("--allow-unused-agreement" in args and not seen.get("activityCreated")):
            problems.append(f"{name}: {len(approved - unbillable)} agreement(s) but no invoice")
        if approved & unbillable:
            totals["unbillable agreements"] = totals.get("unbillable agreements", 0) + len(approved & unbillable)
        totals["invoices accepted"] += len(invoices & seen.get("invoiceAccepted", set()))
        notes = seen.get("debitNote", set())
        unaccepted = notes - seen.get("debitNoteAccepted", set())
        if any(name.startswith(p) for p in refused):
            if not unaccepted:
                problems.append(f"{name}: sends debit notes too fast, yet every note was accepted")
            if approved and not seen.get("agreementTerminated"):
                problems.append(f"{name}: its too-fast debit notes did not end its agreement")
            unaccepted = set()
        for note in unaccepted:
            problems.append(f"{name}: debit note {note} was never accepted")
        totals["debit notes accepted"] += len(notes & seen.get("debitNoteAccepted", set()))
    kinds = {e["kind"] for e in data["requestor"]}
    if "--market-only" in args:
        # A market-only client (offer listing): no agreements, no money.
        if totals["agreements"] or "allocation" in kinds:
            problems.append(f"a market-only session made {totals['agreements']} agreement(s) / an allocation")
        min_invoices = 0
    elif "allocation" not in kinds:
        problems.append("no allocation was created")
    if "--market-only" not in args and "allocationReleased" not in kinds:
        problems.append("the allocation was never released")
    # By default one invoice is expected — unless every agreement made was unbillable.
    if "--min-invoices" not in args and 0 < totals["agreements"] == totals.get("unbillable agreements", 0):
        min_invoices = 0
    if totals["invoices accepted"] < min_invoices:
        problems.append(f"{totals['invoices accepted']} invoice(s) accepted, fewer than {min_invoices}")
    if totals["debit notes accepted"] < min_debit_notes:
        problems.append(f"{totals['debit notes accepted']} debit note(s) accepted, fewer than {min_debit_notes}")
    if "--journal" in args:
        db = sqlite3.connect(args[args.index("--journal") + 1])
        created = set()
        for (body,) in db.execute("SELECT response_body FROM exchange WHERE operation = 'net.createNetwork' AND status BETWEEN 200 AND 299"):
            created.add(json.loads(bytes(body))["id"])
        removed = {path.rsplit("/", 1)[-1] for (path,) in db.execute(
            "SELECT path FROM exchange WHERE operation = 'net.removeNetwork' AND status BETWEEN 200 AND 299")}
        nodes = db.execute("SELECT count(*) FROM exchange WHERE operation = 'net.addNode' AND status BETWEEN 200 AND 299").fetchone()[0]
        for network in sorted(created - removed):
            problems.append(f"network {network} was never removed")
        if created:
            totals["networks removed"] = len(created & removed)
            totals["network nodes"] = nodes
    summary = ", ".join(f"{v} {k}" for k, v in totals.items()) + ", allocation released" * ("allocationReleased" in kinds)
    if problems:
        print("journal: " + summary)
        for p in problems:
            print("journal: " + p)
        sys.exit(1)
    print("journal: " + summary)


if __name__ == "__main__":
    main()
