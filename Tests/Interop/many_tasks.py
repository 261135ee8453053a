"""Several tasks over several providers with the unmodified yapapi library; with the
tasks-one-bad-provider scenario one provider fails every command and yapapi must re-run
those tasks elsewhere."""
import asyncio
import os
import sys

from yapapi import Golem, Task, WorkContext
from yapapi.payload import vm

IMAGE = "d646d7b93083d817846c2ae5c62c72ca0507782385a2e29291a3d376"
COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 6


async def worker(ctx: WorkContext, tasks):
    async for task in tasks:
        script = ctx.new_script()
        # Each task takes 2 s of the node's time, so that the job outlasts negotiation with
        # every provider (results come back the moment a batch finishes).
        future_result = script.run("/bin/sh", "-c", f"sleep 2; echo task {task.data}")
        yield script
        task.accept_result(result=(await future_result).stdout.strip())


async def main():
    package = await vm.repo(image_hash=IMAGE, repository_url=os.environ["GOLEM_REGISTRY_URL"])
    done = set()
    async with Golem(budget=1.0, subnet_tag="public") as golem:
        tasks = [Task(data=i) for i in range(COUNT)]
        async for completed in golem.execute_tasks(worker, tasks, payload=package, max_workers=3):
            assert completed.result == f"task {completed.data}", completed.result
            done.add(completed.data)
    missing = set(range(COUNT)) - done
    if missing:
        print("missing tasks:", sorted(missing))
        sys.exit(1)
    print(f"all {COUNT} tasks done")


if __name__ == "__main__":
    asyncio.run(main())
