"""dapp-runner 0.3.1, unmodified, against the simulator: `dapp_runner.py [NAME]` starts the
descriptor dapp/NAME.yaml (http-proxy by default), waits for the local proxies it reports in its
data file, checks what they serve, then lets dapp-runner stop at its maximum running time and
checks it exits cleanly.
  http-proxy: the page nginx serves through the HTTP proxy, and the echo port through the TCP proxy.
  webapp: through the HTTP proxy to the http node's port 5000, GET the page, POST a form's
          `message`, GET again and find the message (the db node starts first: depends_on).
Runs on the interpreter of a virtual environment with dapp-runner installed."""
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))


def check_http_proxy(addresses):
    http_address, tcp_address = addresses["local_proxy_address"], addresses["local_tcp_proxy_address"]
    problems = []
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
    return problems, f"served the page through {http_address} and echoed through {tcp_address}"


def check_webapp(addresses):
    http_address = addresses["local_proxy_address"]
    host, port = http_address.split("://")[-1].rsplit(":", 1)

    def request(method, body=None):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        conn.request(method, "/", body=body, headers=headers)
        r = conn.getresponse()
        answer = (r.status, r.getheader("Location"), r.read().decode())
        conn.close()
        return answer

    message = "hello from dapp-runner"
    before = request("GET")
    posted = request("POST", urllib.parse.urlencode({"message": message}))
    after = request("GET")
    problems = []
    if before[0] != 200 or message in before[2]:
        problems.append(f"GET / before the post: {before}")
    if posted[:2] != (302, "/"):
        problems.append(f"POST / answered {posted}")
    if after[0] != 200 or message not in after[2]:
        problems.append(f"GET / after the post: {after}")
    return problems, f"kept a posted message, shown on the page through {http_address}"


# descriptor: (the data keys of its `http` node to wait for, the check given them)
DESCRIPTORS = {
    "http-proxy": (("local_proxy_address", "local_tcp_proxy_address"), check_http_proxy),
    "webapp": (("local_proxy_address",), check_webapp),
}


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "http-proxy"
    keys, check = DESCRIPTORS[name]
    work = tempfile.mkdtemp()
    config = os.path.join(work, "config.yaml")
    # The checks end within a second of the proxies coming up; 12 s of running time leaves them
    # a wide margin and keeps both descriptors' runs (INTEROP_ONLY=dapp) well under a minute.
    with open(config, "w") as f:
        f.write(
            "yagna:\n"
            f"  api_url: \"{os.environ['YAGNA_API_URL']}\"\n"
            f"  app_key: \"{os.environ['YAGNA_APPKEY']}\"\n"
            "  subnet_tag: \"public\"\n"
            "payment:\n  budget: 1.0\n  driver: \"erc20\"\n  network: \"holesky\"\n"
            "limits:\n  startup_timeout: 120\n  max_running_time: 12\n"
        )
    data = os.path.join(work, "data.json")
    runner = os.path.join(os.path.dirname(sys.executable), "dapp-runner")
    proc = subprocess.Popen(
        [runner, "start", "--config", config, "--data", data, "--log", os.path.join(work, "log.txt"),
         "--state", os.path.join(work, "state.json"), "--silent", os.path.join(here, "dapp", f"{name}.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    addresses = {}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(addresses) < len(keys) and proc.poll() is None:
        time.sleep(0.3)
        if os.path.exists(data):
            for line in open(data):
                try:
                    message = json.loads(line).get("http", {})
                except ValueError:
                    continue
                addresses.update({k: message[k] for k in keys if k in message})
    problems = []
    summary = ""
    if len(addresses) < len(keys):
        problems.append(f"the proxies never came up ({addresses})")
    else:
        found, summary = check(addresses)
        problems += found
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        problems.append("dapp-runner did not stop at its maximum running time")
    # dapp-runner prints an exception's traceback and still exits 0
    if proc.returncode != 0 or b"Traceback" in out:
        traceback = " after a traceback" if b"Traceback" in out else ""
        problems.append(f"dapp-runner exited {proc.returncode}{traceback}: {out.decode()[-2000:]}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"dapp-runner ({name}) {summary}, then stopped cleanly")


if __name__ == "__main__":
    main()
