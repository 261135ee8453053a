"""A yacat-shaped password search on unmodified yapapi (after yapapi's yacat example): one task
computes the mask's keyspace with `hashcat --keyspace`; then each chunk's task touches its
potfile, runs hashcat on its slice `|| true` and downloads the potfile; the first line of a
non-empty potfile is `hash:password`. The scenario's provider finds the password in the chunk
that starts at 48."""
import asyncio
import os
import sys
import tempfile
from datetime import timedelta

from yapapi import Golem, Task, WorkContext
from yapapi.payload import vm

IMAGE = "055911c811e56da4d75ffc928361a78ed13077933ffa8320fb1ec2db"
HASH = "$P$5ZDzPE45CigTC6EY4cXbyJSLj/pGee0"
MASK = "?a?a"
CHUNK = 48


async def keyspace_worker(ctx: WorkContext, tasks):
    async for task in tasks:
        script = ctx.new_script()
        future = script.run("/bin/bash", "-c", f"hashcat --keyspace -a 3 -m 400 {MASK}")
        yield script
        task.accept_result(result=int((await future).stdout))


async def main():
    out_dir = tempfile.mkdtemp()
    package = await vm.repo(image_hash=IMAGE, min_mem_gib=0.5, min_storage_gib=2.0)

    async def attack_worker(ctx: WorkContext, tasks):
        async for task in tasks:
            skip = task.data
            potfile = f"/golem/output/yacat_{skip}.potfile"
            script = ctx.new_script(timeout=timedelta(minutes=5))
            script.run(
                "/bin/sh",
                "-c",
                f"touch {potfile}; hashcat -a 3 -m 400 --self-test-disable --potfile-disable "
                f"--skip={skip} --limit={skip + CHUNK} -o {potfile} '{HASH}' '{MASK}' || true",
            )
            local = os.path.join(out_dir, f"yacat_{skip}.potfile")
            script.download_file(potfile, local)
            yield script
            try:
                with open(local) as f:
                    task.accept_result(result=f.readline())
            finally:
                os.remove(local)

    async with Golem(budget=10.0, subnet_tag="public") as golem:
        keyspace = None
        async for task in golem.execute_tasks(keyspace_worker, [Task(data="keyspace")], payload=package, timeout=timedelta(minutes=5)):
            keyspace = task.result
        if keyspace != 95:
            print(f"keyspace {keyspace!r}, expected 95")
            sys.exit(1)
        found = []
        chunks = list(range(0, keyspace, CHUNK))
        async for task in golem.execute_tasks(
            attack_worker, [Task(data=s) for s in chunks], payload=package, max_workers=2, timeout=timedelta(minutes=10)
        ):
            if task.result:
                found.append((task.data, task.result.split(":")[-1].strip()))
    if found != [(48, "yo")]:
        print(f"expected the password 'yo' in the chunk at 48, found {found}")
        sys.exit(1)
    print(f"keyspace {keyspace} in {len(chunks)} chunks; password found: yo")


if __name__ == "__main__":
    asyncio.run(main())
