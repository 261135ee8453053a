"""A two-service web app through the VPN tunnel on unmodified yapapi (after yapapi's webapp
example): a database service and an HTTP service in one network, the HTTP one given the DB's
address; yapapi's LocalHttpProxy serves the app's port 5000 locally. A message POSTed as a form
must show on the page afterwards, as the example's goth test checks. With `--upload` (on
scenarios/apps/webapp-fileupload.yaml, yapapi's webapp_fileupload): a file uploaded as
multipart/form-data must be listed on the page and served back byte for byte at /images/NAME."""
import asyncio
import sys
from datetime import datetime, timedelta, timezone

import aiohttp
from yapapi import Golem
from yapapi.contrib.service.http_proxy import HttpProxyService, LocalHttpProxy
from yapapi.payload import vm
from yapapi.services import Service, ServiceState

DB_IMAGE = "85021afecf51687ecae8bdc21e10f3b11b82d2e3b169ba44e177340c"
HTTP_IMAGE = "c37c1364f637c199fe710ca62241ff486db92c875b786814c6030aa1"
UPLOAD = "--upload" in sys.argv[1:]
_ports = [a for a in sys.argv[1:] if a != "--upload"]
PORT = int(_ports[0]) if _ports else 8091
# Bytes that include a blank line and the boundary's dashes.
UPLOAD_BYTES = b"\x89PNG\r\n\r\n--not-the-boundary\r\n" + bytes(range(256)) * 40
UPLOAD_NAME = "tiny_frame.png"


class DbService(Service):
    @staticmethod
    async def get_payload():
        return await vm.repo(image_hash=DB_IMAGE, capabilities=[vm.VM_CAPS_VPN])

    async def start(self):
        async for script in super().start():
            yield script
        script = self._ctx.new_script()
        script.run("/bin/run_rqlite.sh")
        yield script


class HttpService(HttpProxyService):
    def __init__(self, db_address: str, db_port: int = 4001):
        super().__init__(remote_port=5000)
        self._db_address = db_address
        self._db_port = db_port

    @staticmethod
    async def get_payload():
        return await vm.repo(image_hash=HTTP_IMAGE, capabilities=[vm.VM_CAPS_VPN])

    async def start(self):
        async for script in super().start():
            yield script
        script = self._ctx.new_script()
        app = f"cd /webapp && python app.py --db-address {self._db_address} --db-port {self._db_port}"
        script.run("/bin/bash", "-c", f"{app} initdb")
        script.run("/bin/bash", "-c", f"{app} run > /webapp/out 2> /webapp/err &")
        yield script


async def wait_running(cluster, n):
    for _ in range(120):
        if sum(1 for i in cluster.instances if i.state == ServiceState.running) >= n:
            return True
        await asyncio.sleep(0.5)
    return False


async def main():
    expiration = datetime.now(timezone.utc) + timedelta(minutes=15)
    async with Golem(budget=1.0, subnet_tag="public") as golem:
        network = await golem.create_network("192.168.0.1/24")
        async with network:
            db = await golem.run_service(DbService, network=network, expiration=expiration)
            await wait_running(db, 1)
            db_ip = db.instances[0].network_node.ip
            web = await golem.run_service(HttpService, network=network, expiration=expiration, instance_params=[{"db_address": db_ip}])
            await wait_running(web, 1)
            proxy = LocalHttpProxy(web, PORT)
            await proxy.run()
            served = None
            async with aiohttp.ClientSession() as session:
                if UPLOAD:
                    form = aiohttp.FormData()
                    form.add_field("file", UPLOAD_BYTES, filename=UPLOAD_NAME, content_type="image/png")
                else:
                    form = {"message": "hello from golem-sim"}
                async with session.post(f"http://127.0.0.1:{PORT}/", data=form, allow_redirects=False) as r:
                    posted = r.status
                async with session.get(f"http://127.0.0.1:{PORT}/") as r:
                    page = (r.status, await r.text())
                if UPLOAD:
                    async with session.get(f"http://127.0.0.1:{PORT}/images/tiny_frame.png") as r:
                        served = (r.status, r.headers.get("Content-Type"), await r.read())
            await proxy.stop()
            web.stop()
            db.stop()
            for _ in range(60):
                if all(i.state == ServiceState.terminated for i in web.instances + db.instances):
                    break
                await asyncio.sleep(0.5)
    problems = []
    if posted != 302:
        problems.append(f"POST / answered {posted}")
    expected = 'src="/images/tiny_frame.png"' if UPLOAD else "hello from golem-sim"
    if page[0] != 200 or expected not in page[1]:
        problems.append(f"GET / after the post: {page}")
    if UPLOAD and served != (200, "image/png", UPLOAD_BYTES):
        problems.append(f"GET /images/tiny_frame.png: {served and (served[0], served[1], len(served[2]))}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    if UPLOAD:
        print(f"the uploaded file ({len(UPLOAD_BYTES)} bytes) is listed and served back through the tunnel (DB at {db_ip})")
    else:
        print(f"the posted message shows on the page served through the tunnel (DB at {db_ip})")


if __name__ == "__main__":
    asyncio.run(main())
