"""A market strategy re-using providers on unmodified yapapi (after yapapi's market-strategy
example): the strategy scores an unknown provider 100 and a known one 100 minus its average
reported time; each worker runs one timed task and ends, so every task needs a new agreement
from offers the providers make again. The quick provider must be found, then preferred."""
import asyncio
import sys
from collections import defaultdict
from datetime import timedelta

from yapapi import Golem, Task, WorkContext
from yapapi.payload import vm
from yapapi.strategy import MarketStrategy, SCORE_TRUSTED

IMAGE = "5c385688be6ed4e339a43d8a68bfb674d60951b4970448ba20d1934d"
TASKS = 8
times = defaultdict(list)
order = []


class FastestProviderStrategy(MarketStrategy):
    async def score_offer(self, offer):
        known = times.get(offer.issuer)
        if not known:
            return SCORE_TRUSTED
        return SCORE_TRUSTED - sum(known) / len(known)


async def worker(ctx: WorkContext, tasks):
    async for task in tasks:
        script = ctx.new_script()
        future = script.run("/usr/bin/time", "-p", "/usr/local/bin/python", "-c", "for i in range(10000000): i * 7")
        yield script
        seconds = float((await future).stderr.split()[1])
        times[ctx.provider_id].append(seconds)
        order.append(ctx.provider_name)
        task.accept_result(result=seconds)
        await tasks.aclose()


async def main():
    package = await vm.repo(image_hash=IMAGE)
    async with Golem(budget=10.0, subnet_tag="public", strategy=FastestProviderStrategy()) as golem:
        async for _ in golem.execute_tasks(worker, [Task(data=i) for i in range(TASKS)], payload=package, max_workers=1,
                                           timeout=timedelta(minutes=10)):
            pass
    problems = []
    if len(order) != TASKS:
        problems.append(f"{len(order)} tasks ran, expected {TASKS}")
    if set(order) != {"quick", "slow"}:
        problems.append(f"providers used: {order}")
    tail = order[len(order) // 2:]
    if tail.count("quick") <= tail.count("slow"):
        problems.append(f"the quick provider was not preferred once known: {order}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"{TASKS} tasks on new agreements: {' '.join(order)}")


if __name__ == "__main__":
    asyncio.run(main())
