"""A plotting service on unmodified yapapi (after yapapi's simple-service-poc): start runs the
observation generator's control script; the run loop asks for stats (JSON) and a plot, whose
path comes back as a JSON string and is downloaded in a second batch. Every plot must arrive
with the bytes the scenario's plotter draws (scenarios/apps/frame.png). Usage: plots.py PNG"""
import asyncio
import json
import os
import sys
import tempfile
from datetime import datetime, timedelta, timezone

from yapapi import Golem
from yapapi.payload import vm
from yapapi.services import Service, ServiceState

IMAGE = "8b11df59f84358d47fc6776d0bb7290b0054c15ded2d6f54cf634488"
out_dir = tempfile.mkdtemp()
stats, plots = [], []


class SimpleService(Service):
    @staticmethod
    async def get_payload():
        return await vm.repo(image_hash=IMAGE, min_mem_gib=0.5, min_storage_gib=2.0)

    async def start(self):
        async for script in super().start():
            yield script
        script = self._ctx.new_script()
        script.run("/golem/run/simulate_observations_ctl.py", "--start")
        yield script

    async def run(self):
        for _ in range(2):
            await asyncio.sleep(1)
            script = self._ctx.new_script()
            stats_future = script.run("/golem/run/simple_service.py", "--stats")
            plot_future = script.run("/golem/run/simple_service.py", "--plot", "dist")
            yield script
            stats.append(json.loads((await stats_future).stdout))
            plot = (await plot_future).stdout.strip().strip('"')
            local = os.path.join(out_dir, f"plot-{len(plots)}.png")
            script = self._ctx.new_script()
            script.download_file(plot, local)
            yield script
            plots.append((plot, local))

    async def shutdown(self):
        script = self._ctx.new_script()
        script.run("/golem/run/simulate_observations_ctl.py", "--stop")
        yield script


async def main(expected_path):
    expected = open(expected_path, "rb").read()
    async with Golem(budget=1.0, subnet_tag="public") as golem:
        cluster = await golem.run_service(SimpleService, num_instances=1, expiration=datetime.now(timezone.utc) + timedelta(minutes=15))
        for _ in range(120):
            await asyncio.sleep(0.5)
            if len(plots) >= 2:
                break
        cluster.stop()
        for _ in range(60):
            if all(i.state == ServiceState.terminated for i in cluster.instances):
                break
            await asyncio.sleep(0.5)
    problems = []
    if len(plots) < 2 or len(stats) < 2:
        problems.append(f"{len(stats)} stats and {len(plots)} plots")
    if any(s.get("size") != 42 for s in stats):
        problems.append(f"stats: {stats}")
    for remote, local in plots:
        if not remote.startswith("/golem/out/dist-") or open(local, "rb").read() != expected:
            problems.append(f"plot {remote} did not arrive as drawn")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"{len(plots)} plots downloaded as drawn ({', '.join(os.path.basename(r) for r, _ in plots)}), stats mean {stats[0]['mean']}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
