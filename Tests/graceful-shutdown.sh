#!/usr/bin/env bash
# Ctrl-C, for real: a real SIGINT to a real example process talking HTTP to `golem-sim serve`.
# After one signal the node's journal must show every agreement ended, every activity destroyed,
# every invoice for the work done accepted and the allocation released, and the process must
# exit 130 within a bounded time; after two signals it must exit at once, saying what it left open.
#
#   Tests/graceful-shutdown.sh
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${GOLEM_SIM_BIN:-$(swift build --show-bin-path)}
export GOLEM_SIM_BIN=$bin
failures=0
check() { # NAME SCENARIO READY COUNT LIMIT JOURNAL_CHECKS EXPECT -- COMMAND…
  local name=$1 scenario=$2 ready=$3 count=$4 limit=$5 checks=$6 expect=$7; shift 8
  local out; out=$(mktemp)
  scripts/with-golem-sim.sh --scenario "scenarios/$scenario.yaml" --checks "$checks" -- \
    bash Tests/interrupt-app.sh "$ready" "$count" "$limit" -- "$@" >"$out" 2>&1
  local status=$?
  if [ "$expect" = clean ] && [ $status -eq 0 ] && grep -q "interrupted: exit 130" "$out"; then
    echo "graceful-shutdown: $name: ok ($(grep 'interrupted: exit' "$out"); $(grep '^journal:' "$out" | head -1))"
  elif [ "$expect" = forced ] && grep -q "interrupted: exit 130" "$out" && grep -q "second signal: exiting at once; left open:" "$out"; then
    echo "graceful-shutdown: $name: ok ($(grep 'interrupted: exit' "$out"); $(grep -o 'left open:.*' "$out" | head -1 | cut -c1-120))"
  else
    echo "graceful-shutdown: $name: FAILED (status $status)"; tail -30 "$out"; failures=$((failures+1))
  fi
  rm -f "$out"
}
check many-tasks tasks-one-bad-provider "done on good" 1 60 "" clean -- "$bin/many-tasks" --tasks 300
check simple-service simple-service "stats: " 1 60 "" clean -- "$bin/simple-service" --instances 2 --running-time 600
check many-tasks-twice tasks-one-bad-provider "done on good" 2 5 "" forced -- "$bin/many-tasks" --tasks 300
# Ctrl-C at a terminal signals the whole foreground process group: scripts/with-golem-sim.sh,
# the app and (before it ran the node in a session of its own) the node under the app. The app
# must shut down through a node that is still there, and the wrapper must still check the journal.
out=$(mktemp)
(
  set -m
  scripts/with-golem-sim.sh --scenario scenarios/simple-service.yaml -- "$bin/simple-service" --running-time 600 >"$out" 2>&1 &
  group=$!
  for _ in $(seq 1 300); do grep -q "stats: " "$out" && break; sleep 0.1; done
  kill -INT -- "-$group"
  wait "$group"
)
status=$?
if [ $status -eq 130 ] && grep -q "^journal: .*allocation released" "$out" && ! grep -q "^journal: .*never" "$out"; then
  echo "graceful-shutdown: process-group Ctrl-C through with-golem-sim.sh: ok ($(grep '^journal:' "$out" | head -1))"
else
  echo "graceful-shutdown: process-group Ctrl-C through with-golem-sim.sh: FAILED (status $status)"; tail -20 "$out"; failures=$((failures+1))
fi
rm -f "$out"
echo "graceful-shutdown: $((4 - failures)) passed, $failures failed"
[ $failures -eq 0 ]
