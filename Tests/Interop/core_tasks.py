"""Several tasks with the unmodified golem-core 0.7.8 library's managers API, against golem-sim serve.

Composed as golem-core's own manager examples are: DefaultPaymentManager (allocation, invoices and
debit notes accepted), RefreshingDemandManager, DefaultProposalManager with BlacklistProviderIdPlugin
and NegotiatingPlugin + PaymentPlatformNegotiator, DefaultAgreementManager, SingleUseActivityManager
(deploy and start on each new activity) and ConcurrentWorkManager with the `retry` work plugin.

No ProposalBuffer / ProposalScoringBuffer (so no MapScore scoring): in golem-core 0.7.8 their stop
can hang for good. A fill worker that is negotiating when the buffer stops can lose its cancellation
(NegotiatingPlugin waits for the provider's answer with asyncio.wait_for, which on Python 3.11
returns the answer instead of raising when the answer and the cancel come together); the worker
then waits on its semaphore, and BackgroundFillBuffer.stop waits for it forever. Here that happened
when a provider offered again (its last agreement ended) as the managers stopped: 5 runs in ~185.

Each task is one batch: a `run` whose stdout names the task and which writes a file, then a
download of that file through gftp (golem-core's DownloadFile; the simulator's gftp stand-in).
With scenarios/tasks-one-bad-provider.yaml one provider fails every `run`: its tasks fail, the
retry plugin runs them again on a new activity, and the failing provider is blacklisted so that
the retries go elsewhere. Every task must succeed; leaving the managers waits for every
agreement's invoice, accepts it and releases the allocation.

Usage: core_tasks.py [COUNT] [-v]   (-v: golem-core's own logging)"""
import asyncio
import logging.config
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from golem.managers import (
    BlacklistProviderIdPlugin,
    ConcurrentWorkManager,
    DefaultAgreementManager,
    DefaultProposalManager,
    NegotiatingPlugin,
    PaymentPlatformNegotiator,
    RefreshingDemandManager,
    SingleUseActivityManager,
    WorkContext,
    retry,
)
from golem.node import GolemNode
from golem.payload import RepositoryVmPayload
from golem.resources import BatchError, NewAgreement, NewInvoice
from golem.utils.logging import DEFAULT_LOGGING
from core_support import PaymentManager, run

IMAGE = "d646d7b93083d817846c2ae5c62c72ca0507782385a2e29291a3d376"
ARGS = [a for a in sys.argv[1:] if a != "-v"]
COUNT = int(ARGS[0]) if ARGS else 6


def task(number, downloads: Path, failed_providers: set):
    """The work of task `number`: its output, checked, and the downloaded file's content."""

    async def work(context: WorkContext):
        name = f"task{number}.txt"
        batch = await context.create_batch()
        # 2 s of the node's time, so that the tasks overlap on the providers.
        batch.run(f"sleep 2; echo task {number} > /golem/output/{name}; cat /golem/output/{name}")
        batch.download_file(f"/golem/output/{name}", str(downloads / name))
        try:
            results = await batch()
        except BatchError:
            # golem-core 0.7.8's Batch keeps a future per command and never reads those of a
            # failed batch (asyncio would report "Future exception was never retrieved" at exit).
            for future in batch._script.futures:
                if future.done():
                    future.exception()
            # This provider fails our commands: no new agreements with it (the retry plugin
            # runs this task again on a new activity, which then comes from another provider).
            failed_providers.add(await context.get_provider_id())
            raise
        output = (results[0].stdout or "").strip()
        if output != f"task {number}":
            raise RuntimeError(f"task {number}: unexpected output {output!r}")
        # The batch ends when the provider has sent the file; the gftp receiver wrote it.
        downloaded = (downloads / name).read_text().strip()
        if downloaded != output:
            raise RuntimeError(f"task {number}: downloaded {downloaded!r}, expected {output!r}")
        return number, await context.get_provider_name()

    return work


async def main():
    if "-v" in sys.argv:
        logging.config.dictConfig(DEFAULT_LOGGING)
    failed_providers: set = set()
    agreements, invoices = set(), {}

    async def note_agreement(event):
        agreements.add(event.resource.id)

    async def note_invoice(event):
        invoices[event.resource.id] = event.resource

    golem = GolemNode()
    payment_manager = PaymentManager(golem, budget=1.0, shutdown_timeout=timedelta(seconds=60))
    demand_manager = RefreshingDemandManager(
        golem, payment_manager.get_allocation, [RepositoryVmPayload(IMAGE)])
    proposal_manager = DefaultProposalManager(
        golem,
        demand_manager.get_initial_proposal,
        plugins=[
            BlacklistProviderIdPlugin(failed_providers),  # holds the set, which grows
            NegotiatingPlugin(proposal_negotiators=[PaymentPlatformNegotiator()]),
        ],
    )
    agreement_manager = DefaultAgreementManager(golem, proposal_manager.get_draft_proposal)
    # A new activity (deployed and started) per attempt: the retry of a failed task must not get
    # the failing provider's activity back, as PoolActivityManager would hand it out.
    activity_manager = SingleUseActivityManager(golem, agreement_manager.get_agreement)
    work_manager = ConcurrentWorkManager(
        golem, activity_manager.get_activity, size=3, plugins=[retry(tries=3)])

    with tempfile.TemporaryDirectory() as downloads:
        async with golem:
            await golem.event_bus.on(NewAgreement, note_agreement)
            await golem.event_bus.on(NewInvoice, note_invoice)
            # Leaving the managers (in reverse) terminates what agreements are left, unsubscribes
            # the demand, then waits for every agreement's invoice (accepted as it comes) and
            # releases the allocation.
            async with payment_manager, demand_manager, proposal_manager, agreement_manager:
                work = [task(n, Path(downloads), failed_providers) for n in range(COUNT)]
                try:
                    results = await asyncio.wait_for(work_manager.do_work_list(work), 60)
                except asyncio.TimeoutError:
                    sys.exit(f"failed: the {COUNT} tasks did not finish in 60 s "
                             f"(blacklisted providers: {sorted(failed_providers)})")
            unpaid = [i.id for i in invoices.values() if (await i.get_data(force=True)).status != "ACCEPTED"]

    done = {}
    retried = 0
    for result in results:
        retried += result.extras.get("retry", {}).get("tries", 0)
        if result.exception is not None:
            print(f"a task failed after retries: {type(result.exception).__name__}: {result.exception}")
        else:
            number, provider = result.result
            done[number] = provider
    missing = sorted(set(range(COUNT)) - set(done))
    if missing:
        sys.exit(f"failed: tasks {missing} did not complete")
    if len(invoices) < len(agreements) or unpaid:
        sys.exit(f"failed: {len(agreements)} agreements, {len(invoices)} invoices, not accepted: {unpaid}")
    per_provider = {}
    for provider in done.values():
        per_provider[provider] = per_provider.get(provider, 0) + 1
    print(f"{retried} failed attempt(s) retried; blacklisted {len(failed_providers)} provider(s); "
          f"tasks per provider: {dict(sorted(per_provider.items()))}; {len(invoices)} invoices accepted")
    print(f"all {COUNT} tasks done")


if __name__ == "__main__":
    run(main)
