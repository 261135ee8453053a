"""An HTTP service through the VPN's TCP tunnel on unmodified yapapi (after yapapi's http-proxy
example): two nginx instances in a network, each with an index.html its start script writes,
served on a local port by yapapi's LocalHttpProxy through the node's WebSocket tunnel. Local
HTTP requests must get each instance's own page, the canned /status route, and a 404 for a
missing file."""
import asyncio
import sys
from datetime import datetime, timedelta, timezone

import aiohttp
from yapapi import Golem
from yapapi.contrib.service.http_proxy import HttpProxyService, LocalHttpProxy
from yapapi.payload import vm
from yapapi.services import ServiceState

IMAGE = "16ad039c00f60a48c76d0644c96ccba63b13296d140477c736512127"
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8089


class HttpService(HttpProxyService):
    @staticmethod
    async def get_payload():
        return await vm.repo(image_hash=IMAGE, capabilities=[vm.VM_CAPS_VPN])

    async def start(self):
        async for script in super().start():
            yield script
        script = self._ctx.new_script()
        script.run("/docker-entrypoint.sh")
        script.run("/bin/chmod", "a+x", "/")
        msg = f"Hello from inside Golem!\n... running on {self.provider_name}"
        script.run("/bin/sh", "-c", f"echo {msg!r} > /usr/share/nginx/html/index.html")
        script.run("/usr/sbin/nginx")
        yield script


async def main():
    async with Golem(budget=1.0, subnet_tag="public") as golem:
        network = await golem.create_network("192.168.0.1/24")
        async with network:
            cluster = await golem.run_service(
                HttpService, network=network, num_instances=2, expiration=datetime.now(timezone.utc) + timedelta(minutes=15)
            )
            for _ in range(120):
                if sum(1 for i in cluster.instances if i.state == ServiceState.running) == 2:
                    break
                await asyncio.sleep(0.5)
            proxy = LocalHttpProxy(cluster, PORT)
            await proxy.run()
            pages, status, missing = [], None, None
            async with aiohttp.ClientSession() as session:
                for _ in range(4):
                    async with session.get(f"http://127.0.0.1:{PORT}/") as r:
                        pages.append((r.status, (await r.text()).strip()))
                async with session.get(f"http://127.0.0.1:{PORT}/status") as r:
                    status = (r.status, await r.json())
                async with session.get(f"http://127.0.0.1:{PORT}/missing.html") as r:
                    missing = r.status
            await proxy.stop()
            cluster.stop()
            for _ in range(60):
                if all(i.state == ServiceState.terminated for i in cluster.instances):
                    break
                await asyncio.sleep(0.5)
    names = {p.split("running on ")[-1] for s, p in pages if s == 200}
    problems = []
    if any(s != 200 or not p.startswith("Hello from inside Golem!") for s, p in pages):
        problems.append(f"pages: {pages}")
    if names != {"web-1", "web-2"}:
        problems.append(f"instances answering: {names}")
    if status != (200, {"status": "ok"}):
        problems.append(f"/status: {status}")
    if missing != 404:
        problems.append(f"/missing.html: {missing}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"{len(pages)} pages through the tunnel from {sorted(names)}; /status ok; a missing file 404")


if __name__ == "__main__":
    asyncio.run(main())
