"""The requestor-cpu benchmark's baseline: the same job as the Swift requestor's (COUNT
one-command tasks, `sh -c "echo N"`, one worker per provider) on unmodified yapapi 0.13.1,
against the `golem-sim serve` named by YAGNA_API_URL. `golem-sim bench` runs it and reads
this process's CPU time; it prints how many tasks were accepted.

    python3 yapapi_tasks.py COUNT WORKERS
"""
import asyncio
import os
import sys
from datetime import timedelta

from yapapi import Golem, Task, WorkContext
from yapapi.log import enable_default_logger  # noqa: F401  (not enabled: logging costs CPU)
from yapapi.payload import vm

IMAGE = "d646d7b93083d817846c2ae5c62c72ca0507782385a2e29291a3d376"


async def worker(ctx: WorkContext, tasks):
    async for task in tasks:
        script = ctx.new_script()
        future_result = script.run("/bin/sh", "-c", f"echo {task.data}")
        yield script
        task.accept_result(result=(await future_result).stdout)


async def main(count: int, workers: int) -> int:
    package = await vm.repo(image_hash=IMAGE, repository_url=os.environ["GOLEM_REGISTRY_URL"])
    accepted = 0
    async with Golem(budget=100.0, subnet_tag="public") as golem:
        tasks = [Task(data=i) for i in range(count)]
        async for _ in golem.execute_tasks(worker, tasks, payload=package, max_workers=workers, timeout=timedelta(hours=1)):
            accepted += 1
    return accepted


if __name__ == "__main__":
    done = asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
    print(f"accepted {done}")
    sys.exit(0 if done == int(sys.argv[1]) else 1)
