#!/usr/bin/env bash
# Re-records the shipped recordings: for each one, `golem-sim serve` plays a shipped scenario,
# `golem-sim record` proxies it, and an example app (Swift, or the unmodified yapapi driver for
# yapapi-hello) runs through the proxy. Every session is marked simulated.
# Usage: recordings/record.sh [name…]   (needs `swift build`; yapapi-hello needs the interop venv)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)
venv=${INTEROP_VENV:-$PWD/.build/interop-venv}
speed=${SPEED:-10}

wait_port() { # log file → port
  for _ in $(seq 1 100); do
    p=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$1" | grep -o '[0-9]*$' || true)
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.1
  done
  echo "the server did not start: $(cat "$1")" >&2; exit 1
}

record() { # name scenario speed command…
  local name=$1 scenario=$2 s=$3; shift 3
  local dir; dir=$(mktemp -d)
  GOLEM_SIM_GFTP_DIR=$dir/gftp "$bin/golem-sim" serve --scenario "scenarios/$scenario.yaml" --port 0 --speed "$s" >"$dir/serve.log" 2>&1 &
  local serve=$!
  local port; port=$(wait_port "$dir/serve.log")
  "$bin/golem-sim" record --upstream "http://127.0.0.1:$port" --out "recordings/$name.sqlite" --port 0 --simulated \
    --notes "scenario $scenario, speed $s: $(basename "$1") ${*:2}" >"$dir/record.log" 2>&1 &
  local rec=$!
  local rport; rport=$(wait_port "$dir/record.log")
  PATH="$bin:$PATH" GOLEM_SIM_GFTP_DIR=$dir/gftp YAGNA_API_URL="http://127.0.0.1:$rport" YAGNA_APPKEY=golem-sim-dev-key PYTHONPATH="$PWD/scripts/python" \
    GOLEM_REGISTRY_URL="http://127.0.0.1:$rport" "$@" >"$dir/app.log" 2>&1 || { echo "$name: the app failed"; cat "$dir/app.log"; }
  kill -INT $rec; wait $rec || true
  kill -INT $serve; wait $serve || true
  echo "$name: $(tail -1 "$dir/record.log")"
  rm -rf "$dir"
}

want() { [ $# -eq 0 ] || [[ " $* " == *" $name "* ]]; }
all=("$@")
for name in hello-task tasks-one-bad-provider missing-invoice no-multi-activity simple-service service-provider-dies yapapi-hello service-10min; do
  want "${all[@]}" || continue
  case $name in
    hello-task|missing-invoice|no-multi-activity) record $name $name "$speed" "$bin/hello-task" ;;
    tasks-one-bad-provider) record $name $name "$speed" "$bin/many-tasks" --tasks 9 ;;
    simple-service) record $name $name "$speed" "$bin/simple-service" --instances 1 --running-time 35 ;;
    service-provider-dies) record $name $name "$speed" "$bin/simple-service" --instances 1 --running-time 60 ;;
    yapapi-hello) record $name hello-task "$speed" "$venv/bin/python" Tests/Interop/hello.py ;;
    service-10min) record $name simple-service 1 "$bin/simple-service" --instances 1 --running-time 600 ;;
  esac
done
