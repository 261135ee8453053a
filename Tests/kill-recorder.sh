#!/usr/bin/env bash
# A recorder killed with `kill -9` mid-session leaves a file that opens with every exchange it
# had committed. Usage: Tests/kill-recorder.sh (after `swift build`).
set -uo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)
dir=$(mktemp -d)
port_of() { for _ in $(seq 1 100); do p=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$1" | grep -o '[0-9]*$' || true); [ -n "$p" ] && { echo "$p"; return; }; sleep 0.1; done; }
"$bin/golem-sim" serve --scenario scenarios/hello-task.yaml --port 0 --speed 10 >"$dir/serve.log" 2>&1 &
serve=$!
port=$(port_of "$dir/serve.log")
"$bin/golem-sim" record --upstream "http://127.0.0.1:$port" --out "$dir/killed.sqlite" --port 0 >"$dir/record.log" 2>&1 &
rec=$!
rport=$(port_of "$dir/record.log")
YAGNA_API_URL="http://127.0.0.1:$rport" YAGNA_APPKEY=golem-sim-dev-key GOLEM_REGISTRY_URL="http://127.0.0.1:$rport" "$bin/hello-task" >"$dir/app.log" 2>&1
kill -9 $rec; wait $rec 2>/dev/null
kill -INT $serve; wait $serve 2>/dev/null
count=$("$bin/golem-sim" inspect "$dir/killed.sqlite" --json | grep -o '"exchanges":[0-9]*' | grep -o '[0-9]*$')
if [ -n "$count" ] && [ "$count" -ge 20 ] && "$bin/golem-sim" inspect "$dir/killed.sqlite" | grep -q "did not end cleanly"; then
  echo "kill -9: the killed recorder's file opens with $count exchanges"
  rm -rf "$dir"
else
  echo "kill -9: FAILED (count '$count')"; cat "$dir"/*.log; exit 1
fi
