"""dapp-runner 0.3.1, unmodified, against the simulator: starts the http-proxy descriptor
(dapp/http-proxy.yaml), waits for the local HTTP and TCP proxies it reports in its data file,
fetches the page nginx serves through the tunnel and talks to the echo port through the TCP
proxy, then lets dapp-runner stop at its maximum running time and checks it exits cleanly.
Runs on the interpreter of a virtual environment with dapp-runner installed."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))


def main():
    work = tempfile.mkdtemp()
    config = os.path.join(work, "config.yaml")
    with open(config, "w") as f:
        f.write(
            "yagna:\n"
            f"  api_url: \"{os.environ['YAGNA_API_URL']}\"\n"
            f"  app_key: \"{os.environ['YAGNA_APPKEY']}\"\n"
            "  subnet_tag: \"public\"\n"
            "payment:\n  budget: 1.0\n  driver: \"erc20\"\n  network: \"holesky\"\n"
            "limits:\n  startup_timeout: 120\n  max_running_time: 25\n"
        )
    data = os.path.join(work, "data.json")
    runner = os.path.join(os.path.dirname(sys.executable), "dapp-runner")
    proc = subprocess.Popen(
        [runner, "start", "--config", config, "--data", data, "--log", os.path.join(work, "log.txt"),
         "--state", os.path.join(work, "state.json"), "--silent", os.path.join(here, "dapp", "http-proxy.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    http_address = tcp_address = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (http_address and tcp_address) and proc.poll() is None:
        time.sleep(0.3)
        if os.path.exists(data):
            for line in open(data):
                try:
                    message = json.loads(line).get("http", {})
                except ValueError:
                    continue
                http_address = message.get("local_proxy_address", http_address)
                tcp_address = message.get("local_tcp_proxy_address", tcp_address)
    problems = []
    page = echoed = None
    if not (http_address and tcp_address):
        problems.append(f"the proxies never came up (http {http_address}, tcp {tcp_address})")
    else:
        with urllib.request.urlopen(http_address + "/", timeout=30) as r:
            page = (r.status, r.read().decode().strip())
        host, port = tcp_address.split("://")[-1].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=30) as s:
            s.sendall(b"ping through the tunnel")
            echoed = b""
            while len(echoed) < len(b"ping through the tunnel"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                echoed += chunk
        if page != (200, "Hello from a dApp on golem-sim"):
            problems.append(f"page: {page}")
        if echoed != b"ping through the tunnel":
            problems.append(f"echo: {echoed!r}")
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        problems.append("dapp-runner did not stop at its maximum running time")
    if proc.returncode != 0:
        problems.append(f"dapp-runner exited {proc.returncode}: {out.decode()[-2000:]}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"dapp-runner served the page through {http_address} and echoed through {tcp_address}, then stopped cleanly")


if __name__ == "__main__":
    main()
