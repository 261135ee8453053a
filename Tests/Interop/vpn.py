"""Two service instances in a network (VPN) with the unmodified yapapi library: the network is
created through the net API, each instance gets an address and deploys with it, and the
network is removed at the end. Each instance reports its address (`hostname -I`)."""
import asyncio
import os
import sys
from datetime import datetime, timedelta, timezone

from yapapi import Golem
from yapapi.payload import vm
from yapapi.services import Service

IMAGE = "d646d7b93083d817846c2ae5c62c72ca0507782385a2e29291a3d376"
addresses = {}


class NetService(Service):
    @staticmethod
    async def get_payload():
        return await vm.repo(image_hash=IMAGE, repository_url=os.environ["GOLEM_REGISTRY_URL"])

    async def run(self):
        script = self._ctx.new_script()
        result = script.run("/bin/sh", "-c", "hostname -I")
        yield script
        addresses[self._ctx.provider_name] = ((await result).stdout or "").strip()
        while True:
            await asyncio.sleep(1)
            yield self._ctx.new_script()


async def main():
    async with Golem(budget=1.0, subnet_tag="public") as golem:
        network = await golem.create_network("192.168.0.1/24")
        cluster = await golem.run_service(NetService, num_instances=2, network=network,
                                          expiration=datetime.now(timezone.utc) + timedelta(minutes=15))
        for _ in range(100):
            if len(addresses) == 2:
                break
            await asyncio.sleep(0.2)
        ips = sorted(i.network_node.ip for i in cluster.instances if i.network_node)
        cluster.stop()
        await network.remove()
        await asyncio.sleep(1)
    reported = sorted(addresses.values())
    if len(reported) != 2 or reported != ips:
        print(f"addresses differ: yapapi gave {ips}, the instances reported {reported}")
        sys.exit(1)
    print(f"two instances in the network at {', '.join(ips)}")


if __name__ == "__main__":
    asyncio.run(main())
