"""A service with a run loop, stopped after a while, with the unmodified yapapi library.
Run long enough (SECONDS, default 8) against a scenario with short debit-note intervals, it
also receives and accepts debit notes."""
import asyncio
import os
import sys
from datetime import datetime, timedelta, timezone

from yapapi import Golem
from yapapi.payload import vm
from yapapi.services import Service

IMAGE = "d646d7b93083d817846c2ae5c62c72ca0507782385a2e29291a3d376"
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 8
seen = []


class DateService(Service):
    @staticmethod
    async def get_payload():
        return await vm.repo(image_hash=IMAGE, repository_url=os.environ["GOLEM_REGISTRY_URL"])

    async def start(self):
        async for script in super().start():
            yield script
        script = self._ctx.new_script()
        script.run("/bin/sh", "-c", "while true; do date > /golem/work/date.txt; sleep 1; done &")
        yield script

    async def run(self):
        while True:
            await asyncio.sleep(1)
            script = self._ctx.new_script()
            result = script.run("/bin/sh", "-c", "cat /golem/work/date.txt")
            yield script
            seen.append((await result).stdout.strip())


async def main():
    async with Golem(budget=1.0, subnet_tag="public") as golem:
        cluster = await golem.run_service(DateService, num_instances=1,
                                          expiration=datetime.now(timezone.utc) + timedelta(minutes=15))
        await asyncio.sleep(SECONDS)
        states = [str(i.state) for i in cluster.instances]
        cluster.stop()
        await asyncio.sleep(1)
    if not seen:
        print("the service never answered; states:", states)
        sys.exit(1)
    print(f"service answered {len(seen)} times, states while running: {states}")


if __name__ == "__main__":
    asyncio.run(main())
