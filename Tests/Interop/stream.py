"""hello with stream_output=True: results come over SSE (text/event-stream)."""
import asyncio
import os
import sys

from yapapi import Golem, Task, WorkContext
from yapapi.events import CommandStdOut
from yapapi.payload import vm

IMAGE = "d646d7b93083d817846c2ae5c62c72ca0507782385a2e29291a3d376"
lines = []


def on_event(event):
    if isinstance(event, CommandStdOut):
        lines.append(event.output)


async def worker(ctx: WorkContext, tasks):
    async for task in tasks:
        script = ctx.new_script()
        script.run("/bin/sh", "-c", "echo streamed-hello")
        yield script
        task.accept_result()


async def main():
    package = await vm.repo(image_hash=IMAGE, repository_url=os.environ["GOLEM_REGISTRY_URL"])
    async with Golem(budget=1.0, subnet_tag="public", stream_output=True, event_consumer=on_event) as golem:
        async for _ in golem.execute_tasks(worker, [Task(data=None)], payload=package):
            pass
    if not any("streamed-hello" in line for line in lines):
        print("no streamed output arrived:", lines)
        sys.exit(1)
    print("streamed output arrived:", "".join(lines).strip())


if __name__ == "__main__":
    asyncio.run(main())
