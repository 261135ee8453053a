#!/usr/bin/env bash
# Runs an app, waits until its output shows READY, sends it SIGINT COUNT times (0.3 s apart), and
# waits a bounded time for it to exit. Prints "interrupted: exit N after T s" and the app's last
# lines; exits 0 when the app exited with 130 (stopped by a signal) within LIMIT seconds.
#
#   Tests/interrupt-app.sh READY_REGEX COUNT LIMIT -- COMMAND…
set -uo pipefail
ready=$1 count=$2 limit=$3; shift 3
[ "${1:-}" = -- ] && shift
out=$(mktemp)
"$@" >"$out" 2>&1 &
app=$!
for _ in $(seq 1 600); do
  grep -qE "$ready" "$out" && break
  kill -0 $app 2>/dev/null || break
  sleep 0.1
done
if ! grep -qE "$ready" "$out"; then echo "interrupted: the app never showed '$ready'"; tail -20 "$out"; kill -9 $app 2>/dev/null; exit 1; fi
start=$SECONDS
for i in $(seq 1 "$count"); do
  kill -INT $app 2>/dev/null
  [ "$i" -lt "$count" ] && sleep 0.3
done
for _ in $(seq 1 $((limit * 10))); do kill -0 $app 2>/dev/null || break; sleep 0.1; done
if kill -0 $app 2>/dev/null; then
  echo "interrupted: still running $limit s after the signal"; tail -20 "$out"; kill -9 $app; exit 1
fi
wait $app; status=$?
echo "interrupted: exit $status after $((SECONDS - start)) s"
tail -5 "$out"
[ $status -eq 130 ]
