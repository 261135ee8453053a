"""A URL download with progress on unmodified yapapi (after yapapi's transfer-progress example):
results stream over SSE (stdout as CommandStdOut events); the task downloads a model from a URL into the activity with progress
arguments, then checks its size there. Progress events must arrive, grow, and end at the total."""
import asyncio
import sys

from yapapi import Golem, Task, WorkContext
from yapapi.events import CommandProgress, CommandStdOut
from yapapi.payload import vm
from yapapi.script import ProgressArgs

IMAGE = "9a3b5d67b0b27746283cb5f287c13eab1beaa12d92a9f536b747c7ae"
URL = "https://models.example/rubert-tiny2/model.safetensors"
SIZE = 2000000
progress = []
stdout = []


def on_event(event):
    if isinstance(event, CommandProgress):
        progress.append((event.progress, event.unit))
    elif isinstance(event, CommandStdOut):
        stdout.append(event.output)


async def worker(ctx: WorkContext, tasks):
    async for task in tasks:
        script = ctx.new_script()
        script.download_from_url(URL, "/golem/resource/model-small", progress_args=ProgressArgs(updateInterval="50ms"))
        script.run("/bin/sh", "-c", "wc -c < /golem/resource/model-small")
        yield script
        task.accept_result()


async def main():
    package = await vm.repo(image_hash=IMAGE, min_mem_gib=0.5, min_storage_gib=10.0)
    async with Golem(budget=1.0, subnet_tag="public", stream_output=True, event_consumer=on_event) as golem:
        async for task in golem.execute_tasks(worker, [Task(data=None)], payload=package):
            pass
    size = "".join(stdout)
    done = [p[0] for p, _ in progress]
    problems = []
    if (size or "").strip() != str(SIZE):
        problems.append(f"the file in the activity has {size!r} bytes, expected {SIZE}")
    if len(progress) < 2 or done != sorted(done) or tuple(progress[-1][0]) != (SIZE, SIZE):
        problems.append(f"progress events: {progress}")
    if any(unit != "Bytes" for _, unit in progress):
        problems.append(f"units: {set(u for _, u in progress)}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"downloaded {SIZE} bytes from the URL with {len(progress)} progress events")


if __name__ == "__main__":
    asyncio.run(main())
