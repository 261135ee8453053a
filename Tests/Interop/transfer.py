"""Upload bytes, transform them on the provider, download the result — through the gftp
stand-in — with the unmodified yapapi library; the downloaded content is checked."""
import asyncio
import os
import sys
import tempfile

from yapapi import Golem, Task, WorkContext
from yapapi.payload import vm

IMAGE = "d646d7b93083d817846c2ae5c62c72ca0507782385a2e29291a3d376"
DATA = b"golem-sim interop transfer\n"
out_dir = tempfile.mkdtemp()


async def worker(ctx: WorkContext, tasks):
    async for task in tasks:
        script = ctx.new_script()
        script.upload_bytes(DATA, "/golem/work/in.txt")
        script.run("/bin/sh", "-c", "cat /golem/work/in.txt > /golem/work/out.txt; echo checked >> /golem/work/out.txt")
        script.download_file("/golem/work/out.txt", os.path.join(out_dir, "out.txt"))
        yield script
        task.accept_result()


async def main():
    package = await vm.repo(image_hash=IMAGE, repository_url=os.environ["GOLEM_REGISTRY_URL"])
    async with Golem(budget=1.0, subnet_tag="public") as golem:
        async for _ in golem.execute_tasks(worker, [Task(data=None)], payload=package):
            pass
    with open(os.path.join(out_dir, "out.txt"), "rb") as f:
        content = f.read()
    if content != DATA + b"checked\n":
        print("downloaded content differs:", content)
        sys.exit(1)
    print(f"downloaded {len(content)} bytes as expected")


if __name__ == "__main__":
    asyncio.run(main())
