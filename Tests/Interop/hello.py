"""One task running `date` with the unmodified yapapi library, against golem-sim serve.

Written as yapapi's own examples are: `vm.repo` names no repository. The registry lookup reaches
the node through scripts/python/sitecustomize.py (PYTHONPATH), as with-golem-sim.sh sets it up."""
import asyncio

from yapapi import Golem, Task, WorkContext
from yapapi.payload import vm

IMAGE = "d646d7b93083d817846c2ae5c62c72ca0507782385a2e29291a3d376"


async def worker(ctx: WorkContext, tasks):
    async for task in tasks:
        script = ctx.new_script()
        future_result = script.run("/bin/sh", "-c", "date")
        yield script
        task.accept_result(result=await future_result)


async def main():
    package = await vm.repo(image_hash=IMAGE)
    async with Golem(budget=1.0, subnet_tag="public") as golem:
        async for completed in golem.execute_tasks(worker, [Task(data=None)], payload=package):
            print("output:", completed.result.stdout.strip())


if __name__ == "__main__":
    asyncio.run(main())
