"""A Blender-shaped render on unmodified yapapi (after yapapi's blender example): every frame's
task uploads params.json, runs the renderer's entry point and downloads
/golem/output/out{frame:04d}.png. Each downloaded frame must hold the bytes the scenario's
renderer leaves (scenarios/apps/frame.png). Usage: render.py EXPECTED_FRAME_FILE"""
import asyncio
import os
import sys
import tempfile
from datetime import timedelta

from yapapi import Golem, Task, WorkContext
from yapapi.payload import vm

IMAGE = "9a3b5d67b0b27746283cb5f287c13eab1beaa12d92a9f536b747c7ae"
FRAMES = [0, 10, 20, 30, 40, 50]


async def main(expected_path):
    expected = open(expected_path, "rb").read()
    out_dir = tempfile.mkdtemp()
    scene = os.path.join(out_dir, "scene.blend")
    with open(scene, "wb") as f:
        f.write(b"BLENDER-v300 a scene for the simulator")
    package = await vm.repo(image_hash=IMAGE, min_mem_gib=0.5, min_storage_gib=2.0)

    async def worker(ctx: WorkContext, tasks):
        script = ctx.new_script(timeout=timedelta(minutes=10))
        script.upload_file(scene, "/golem/resource/scene.blend")
        async for task in tasks:
            frame = task.data
            script.upload_json(
                {
                    "scene_file": "/golem/resource/scene.blend",
                    "resolution": (400, 300),
                    "use_compositing": False,
                    "crops": [{"outfilebasename": "out", "borders_x": [0.0, 1.0], "borders_y": [0.0, 1.0]}],
                    "samples": 100,
                    "frames": [frame],
                    "output_format": "PNG",
                    "RESOURCES_DIR": "/golem/resources",
                    "WORK_DIR": "/golem/work",
                    "OUTPUT_DIR": "/golem/output",
                },
                "/golem/work/params.json",
            )
            rendered = script.run("/golem/entrypoints/run-blender.sh")
            output = os.path.join(out_dir, f"output_{frame}.png")
            script.download_file(f"/golem/output/out{frame:04d}.png", output)
            yield script
            said = (await rendered).stdout or ""
            task.accept_result(result=(output, said.strip()))
            script = ctx.new_script(timeout=timedelta(minutes=1))

    done = {}
    async with Golem(budget=10.0, subnet_tag="public") as golem:
        async for task in golem.execute_tasks(
            worker, [Task(data=f) for f in FRAMES], payload=package, max_workers=2, timeout=timedelta(minutes=15)
        ):
            done[task.data] = task.result
    problems = []
    for frame in FRAMES:
        if frame not in done:
            problems.append(f"frame {frame} never finished")
            continue
        path, said = done[frame]
        data = open(path, "rb").read() if os.path.exists(path) else None
        if data != expected:
            problems.append(f"frame {frame}: downloaded {None if data is None else len(data)} bytes, not the renderer's {len(expected)}")
        if said != f"rendered frame {frame} of /golem/resource/scene.blend":
            problems.append(f"frame {frame}: the renderer said {said!r}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"rendered {len(FRAMES)} frames, each downloaded byte for byte ({len(expected)} bytes)")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
