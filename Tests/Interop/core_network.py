"""Two activities in a network (VPN) with the unmodified golem-core 0.7.8 library's managers API,
against golem-sim serve.

Composed as golem-core's ssh example is: SingleNetworkManager creates the network 192.168.0.1/24
through the net API (with an address for the requestor) and gives each provider an address as its
agreement is made; DefaultPaymentManager, RefreshingDemandManager (a vm payload with the `vpn`
capability), DefaultProposalManager with NegotiatingPlugin + PaymentPlatformNegotiator +
MidAgreementPaymentsNegotiator (debit notes every 20 s, as the file-service providers offer),
DefaultAgreementManager, SingleUseActivityManager whose activity start deploys into the network,
and ConcurrentWorkManager running the two activities side by side.

Once both activities have joined, the network's nodes are refreshed (Network.refresh_nodes, as
golem-core's service example does); each activity then reports its address (`hostname -I`), which
must be the one the network manager gave it, and stays up past the debit-note interval. The work
manager destroys the activities, DefaultAgreementManager terminates their agreements, and leaving
the managers waits for the invoices (DefaultPaymentManager accepts them and the debit notes as
they come) and releases the allocation; leaving the node removes the network.

Usage: core_network.py [-v]   (-v: golem-core's own logging)"""
import asyncio
import logging.config
import sys
from datetime import timedelta

from golem.managers import (
    ConcurrentWorkManager,
    DefaultAgreementManager,
    DefaultProposalManager,
    MidAgreementPaymentsNegotiator,
    NegotiatingPlugin,
    PaymentPlatformNegotiator,
    RefreshingDemandManager,
    SingleNetworkManager,
    SingleUseActivityManager,
    WorkContext,
)
from golem.node import GolemNode
from golem.payload import RepositoryVmPayload
from golem.resources import (
    ActivityClosed, NetworkClosed, NewDebitNote, NewInvoice, NewNetwork)
from golem.utils.logging import DEFAULT_LOGGING
from core_support import PaymentManager, run

IMAGE = "d646d7b93083d817846c2ae5c62c72ca0507782385a2e29291a3d376"
INSTANCES = 2


async def main():
    if "-v" in sys.argv:
        logging.config.dictConfig(DEFAULT_LOGGING)
    golem = GolemNode()
    # SingleNetworkManager keeps its network to itself; golem-core announces every new network.
    networks, closed, invoices, debit_notes, destroyed = [], [], [], [], []

    async def note_network(event):
        networks.append(event.resource)

    async def note_closed(event):
        closed.append(event.resource.id)

    async def note_invoice(event):
        invoices.append(event.resource)

    async def note_debit_note(event):
        debit_notes.append(event.resource)

    async def note_destroyed(event):
        destroyed.append(event.resource.id)

    network_manager = SingleNetworkManager(golem, "192.168.0.1/24")
    payment_manager = PaymentManager(golem, budget=1.0, shutdown_timeout=timedelta(seconds=60))
    demand_manager = RefreshingDemandManager(
        golem, payment_manager.get_allocation, [RepositoryVmPayload(IMAGE, capabilities=["vpn"])])
    proposal_manager = DefaultProposalManager(
        golem,
        demand_manager.get_initial_proposal,
        plugins=[NegotiatingPlugin(proposal_negotiators=[
            PaymentPlatformNegotiator(),
            MidAgreementPaymentsNegotiator(
                min_debit_note_interval=timedelta(seconds=20),
                optimal_debit_note_interval=timedelta(seconds=20),
                optimal_payment_timeout=timedelta(minutes=2),
            ),
        ])],
    )
    agreement_manager = DefaultAgreementManager(golem, proposal_manager.get_draft_proposal)

    joined = {}  # provider id -> the address the network manager gave it
    all_joined = asyncio.Event()

    async def join_network(context: WorkContext):
        """A new activity deploys into the network at its provider's address, and starts."""
        provider_id = await context.get_provider_id()
        deploy_args = await network_manager.get_deploy_args(provider_id)
        batch = await context.create_batch()
        batch.deploy({"net": [deploy_args]})
        batch.start()
        await batch()
        joined[provider_id] = deploy_args["nodeIp"]
        if len(joined) == INSTANCES:
            # Every node is in: tell the network about all of them (a node that deployed first
            # was given only the nodes known then).
            await networks[0].refresh_nodes()
            all_joined.set()

    activity_manager = SingleUseActivityManager(
        golem, agreement_manager.get_agreement, on_activity_start=join_network)
    work_manager = ConcurrentWorkManager(golem, activity_manager.get_activity, size=INSTANCES)

    async def report_address(context: WorkContext):
        await asyncio.wait_for(all_joined.wait(), 30)
        batch = await context.run("hostname -I")
        results = await batch.wait(timeout=30)
        # Past the 20 s debit-note interval (of the node's time): a debit note for each activity.
        await (await context.run("sleep 25")).wait(timeout=30)
        provider_id = await context.get_provider_id()
        return await context.get_provider_name(), joined[provider_id], (results[-1].stdout or "").strip()

    async with golem:
        # Registered before the managers start, and not only to count: golem-core 0.7.8's event
        # bus walks its dict of event types while it awaits each callback, so the first callback
        # for a new type, registered meanwhile, stops the bus ("dictionary changed size during
        # iteration"). DefaultAgreementManager registers one for ActivityClosed with its first
        # agreement, while SingleNetworkManager's NewAgreement callback awaits the net API.
        await golem.event_bus.on(ActivityClosed, note_destroyed)
        await golem.event_bus.on(NewNetwork, note_network)
        await golem.event_bus.on(NetworkClosed, note_closed)
        await golem.event_bus.on(NewInvoice, note_invoice)
        await golem.event_bus.on(NewDebitNote, note_debit_note)
        # Leaving the managers (in reverse) unsubscribes the demand, waits for every agreement's
        # invoice (accepted as it comes) and releases the allocation.
        async with network_manager, payment_manager, demand_manager, proposal_manager, agreement_manager:
            try:
                results = await asyncio.wait_for(
                    work_manager.do_work_list([report_address] * INSTANCES), 60)
            except asyncio.TimeoutError:
                sys.exit(f"failed: the activities did not all report in 60 s (joined: {joined})")
        unpaid = [d.id for d in invoices + debit_notes if (await d.get_data(force=True)).status != "ACCEPTED"]
    # Leaving the node removed the network (it is an autoclose resource of the node).

    failures = [r.exception for r in results if r.exception is not None]
    if failures:
        sys.exit(f"failed: {'; '.join(f'{type(e).__name__}: {e}' for e in failures)}")
    reports = sorted(r.result for r in results)
    print("\n".join(f"{name}: given {ip}, reports {reported!r}" for name, ip, reported in reports))
    if len({name for name, _, _ in reports}) != INSTANCES:
        sys.exit(f"failed: the activities did not run on {INSTANCES} providers: {reports}")
    wrong = [(name, ip, reported) for name, ip, reported in reports if reported.split() != [ip]]
    if wrong:
        sys.exit(f"failed: addresses differ from those given: {wrong}")
    if len(set(destroyed)) < INSTANCES:
        sys.exit(f"failed: {len(set(destroyed))} activities destroyed, expected {INSTANCES}")
    if len(networks) != 1 or closed != [networks[0].id]:
        sys.exit(f"failed: networks created {[n.id for n in networks]}, removed {closed}")
    if len(invoices) < INSTANCES or unpaid:
        sys.exit(f"failed: {len(invoices)} invoice(s), not accepted: {unpaid}")
    print(f"{len(debit_notes)} debit note(s) and {len(invoices)} invoices accepted, network removed")
    print(f"two activities in the network at {', '.join(ip for _, ip, _ in reports)}")


if __name__ == "__main__":
    run(main)
