"""One command with the unmodified golem-core 0.7.8 library (its low-level API), against golem-sim serve.

Written as golem-core's own examples are: the payload names an image hash and no repository, so
the registry lookup reaches the node through scripts/python/sitecustomize.py (PYTHONPATH).
Allocation, demand, negotiation, agreement, activity, one batch (deploy, start, run), then the
activity destroyed, the agreement terminated, its invoice accepted and the allocation released."""
import asyncio
import sys
from datetime import datetime, timedelta, timezone

from golem.node import GolemNode
from golem.payload import RepositoryVmPayload, defaults
from golem.resources import Allocation, Deploy, NewDebitNote, NewInvoice, NoMatchingAccount, Run, Start
from ya_payment import models

IMAGE = "d646d7b93083d817846c2ae5c62c72ca0507782385a2e29291a3d376"
PLATFORM = f"{defaults.DEFAULT_PAYMENT_DRIVER}-{defaults.DEFAULT_PAYMENT_NETWORK}-tglm"


async def allocate(golem, amount):
    """golem.create_allocation needs the sender account listed (as after `yagna payment fund`); a
    fresh yagna 0.17.6, like golem-sim, lists it only once an allocation was made on its platform.
    So the first allocation may name just the platform, as yapapi's does."""
    try:
        return await golem.create_allocation(amount)
    except NoMatchingAccount:
        platform = f"{defaults.DEFAULT_PAYMENT_DRIVER}-{defaults.DEFAULT_PAYMENT_NETWORK}-tglm"
        now = datetime.now(timezone.utc)
        allocation = await Allocation.create(golem, models.Allocation(
            allocation_id="", payment_platform=platform, total_amount=str(amount), spent_amount="",
            remaining_amount="", timestamp=now, timeout=now + timedelta(hours=1), make_deposit=False))
        golem.add_autoclose_resource(allocation)  # released when the node closes
        return allocation


class Raw:
    """Properties or constraints as the API takes them (what golem.payload's classes serialize to)."""

    def __init__(self, value):
        self.value = value

    def serialize(self):
        return self.value


async def negotiate(demand):
    """The first provider that approves: respond to its offer, sign its counter-proposal.
    The response names the payment platform, as golem-core's PaymentPlatformNegotiator plugin
    would: without it a real daemon refuses the provider's invoice."""
    demand_data = await demand.get_data()
    properties = dict(demand_data.properties)
    properties["golem.com.payment.chosen-platform"] = PLATFORM
    async for proposal in demand.initial_proposals():
        our_response = await proposal.respond(Raw(properties), Raw(demand_data.constraints))
        async for their_response in our_response.responses():
            agreement = await their_response.create_agreement()
            await agreement.confirm()
            if await agreement.wait_for_approval():
                return agreement
            break  # not approved: the next provider
    raise RuntimeError("no provider approved an agreement")


async def main():
    async with GolemNode() as golem:  # leaving it releases the allocation, unsubscribes the demand
        allocation = await allocate(golem, 1.0)
        accepted = asyncio.Event()

        # Every debit note and invoice of this session is accepted in full from the allocation.
        # (golem.pipeline.DefaultPaymentHandler would do this, but its start() raises NameError in 0.7.8.)
        async def accept(event):
            document = event.resource
            if (await document.get_data(force=True)).status == "RECEIVED":
                await document.accept_full(allocation)
                if isinstance(event, NewInvoice):
                    accepted.set()

        await golem.event_bus.on(NewInvoice, accept)
        await golem.event_bus.on(NewDebitNote, accept)

        demand = await golem.create_demand(RepositoryVmPayload(IMAGE), allocations=[allocation])
        agreement = await asyncio.wait_for(negotiate(demand), 120)
        await demand.unsubscribe()

        activity = await agreement.create_activity()
        batch = await activity.execute_commands(Deploy(), Start(), Run("echo hello from golem-core"))
        results = await batch.wait(timeout=120)  # raises BatchError if a command failed
        output = results[-1].stdout

        await activity.destroy()
        await agreement.terminate("Work finished")
        await asyncio.wait_for(accepted.wait(), 60)  # the invoice follows the termination
    print("output:", (output or "").strip())


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as e:
        print(f"failed: {type(e).__name__}: {e}", file=sys.stderr)
        raise
