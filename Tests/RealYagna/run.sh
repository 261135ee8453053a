#!/usr/bin/env bash
# The real-daemon checks: apps run against a REAL yagna 0.17.6 (PyPI golem-node) whose providers
# are the scenario's, played by `golem-sim provide` (scripts/with-real-yagna.sh), and the same app
# against `golem-sim serve` (scripts/with-golem-sim.sh). Each session is recorded and checked on
# its journal; then `golem-sim diff` compares the two sessions (the oracle): the same operations
# in the same protocol order, or a difference listed below with its reason.
#
#   Tests/RealYagna/run.sh [--keep DIR] [--only NAME…]
#
# --keep DIR  keep both sessions of every check there (DIR/real/NAME.sqlite, DIR/sim/NAME.sqlite)
# Needs python3 and PyPI (yagna, yapapi 0.13.1 and golem-core 0.7.8 are installed on first use).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bin=${GOLEM_SIM_BIN:-$(swift build --show-bin-path)}
venv=${INTEROP_VENV:-$root/.build/interop-venv}
core_venv=${INTEROP_CORE_VENV:-$root/.build/interop-core-venv}
keep=""
only=()
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=$2; shift 2 ;;
    --only) shift; only=("$@"); break ;;
    *) echo "real-yagna checks: unknown option '$1'" >&2; exit 2 ;;
  esac
done
for exe in golem-sim gftp hello-task many-tasks simple-service; do
  [ -x "$bin/$exe" ] || { echo "real-yagna checks: build first (swift build): no $bin/$exe"; exit 2; }
done
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import yapapi" 2>/dev/null; then
  python3 -m venv "$venv" && "$venv/bin/pip" install -q "yapapi==0.13.1" || { echo "real-yagna checks: cannot install yapapi 0.13.1"; exit 1; }
fi
if [ ! -x "$core_venv/bin/python" ] || ! "$core_venv/bin/python" -c "import golem.node" 2>/dev/null; then
  python3 -m venv "$core_venv" && "$core_venv/bin/pip" install -q "golem-core==0.7.8" || { echo "real-yagna checks: cannot install golem-core 0.7.8"; exit 1; }
fi
"$root/scripts/real-yagna.sh" install >/dev/null || { echo "real-yagna checks: cannot install yagna (golem-node 0.17.6) from PyPI"; exit 1; }
out=${keep:-$(mktemp -d)}
mkdir -p "$out/real" "$out/sim" "$out/logs"
export GOLEM_SIM_BIN=$bin
failures=0
ran=0
summary=()

# check NAME SCENARIO "JOURNAL CHECKS" "EXPECTED OUTPUT (regex)" "KNOWN DIFFERENCE (empty: none)" -- COMMAND…
check() {
  local name=$1 scenario=$2 checks=$3 expect=$4 known=$5; shift 6
  if [ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" $name "* ]]; then return; fi
  ran=$((ran+1))
  local real=$out/real/$name.sqlite sim=$out/sim/$name.sqlite log=$out/logs/$name
  local t0=$SECONDS
  timeout 600 scripts/with-real-yagna.sh --scenario "scenarios/$scenario.yaml" --journal "$real" --checks "$checks" -- "$@" >"$log.real" 2>&1
  local real_status=$? real_time=$((SECONDS-t0))
  t0=$SECONDS
  timeout 600 scripts/with-golem-sim.sh --scenario "scenarios/$scenario.yaml" --journal "$sim" --checks "$checks" -- "$@" >"$log.sim" 2>&1
  local sim_status=$? sim_time=$((SECONDS-t0))
  local verdict=ok
  if [ $real_status -ne 0 ] || ! grep -qE "$expect" "$log.real"; then verdict="FAILED on the real daemon (exit $real_status)"; fi
  if [ $sim_status -ne 0 ] || ! grep -qE "$expect" "$log.sim"; then verdict="${verdict/ok/}${verdict:+; }FAILED on golem-sim serve (exit $sim_status)"; verdict=${verdict#; }; fi
  local diff diff_status
  diff=$("$bin/golem-sim" diff "$sim" "$real" 2>&1); diff_status=$?
  if [ "$verdict" = ok ] && [ $diff_status -ne 0 ] && [ -z "$known" ]; then verdict="the sessions differ"; fi
  local note=""
  [ $diff_status -ne 0 ] && [ -n "$known" ] && note=" (known difference: $known)"
  echo "real-yagna: $name ($scenario, $(basename "$1") ${*:2}): $verdict; real ${real_time}s, simulated ${sim_time}s; diff: $(echo "$diff" | head -1)$note"
  if [ "$verdict" != ok ]; then
    failures=$((failures+1))
    echo "--- real daemon:"; tail -25 "$log.real"; echo "--- golem-sim serve:"; tail -15 "$log.sim"; echo "--- diff:"; echo "$diff" | head -30
  fi
}

# Swift apps.
check hello-task hello-task "" "total cost" "" -- "$bin/hello-task"
check tasks-one-bad-provider tasks-one-bad-provider "--min-invoices 2" "failures" \
  "which worker takes which task is a race between the providers' activities" -- "$bin/many-tasks" --tasks 9
check simple-service simple-service "--min-debit-notes 1" "running on" \
  "the service polls its stats on a wall-clock timer (the real exe-unit's latency can fit a different number of polls into 35 s)" \
  -- "$bin/simple-service" --instances 1 --running-time 35
check service-provider-dies service-provider-dies "--min-invoices 2" "running on doomed → steady" \
  "the service polls its stats on a wall-clock timer: how many polls fit before the stop depends on how long the respawn took" \
  -- "$bin/simple-service" --instances 1 --running-time 60
check provider-faults provider-faults "--allow-unused-agreement" "failures" \
  "which worker takes which task, and which faulty providers are met before the job ends, are races" -- "$bin/many-tasks" --tasks 8
check provider-misbehaves provider-misbehaves "--debit-notes-refused chatty" "failures" \
  "which worker takes which task, and whether a provider the market offers again is countered before the job ends, are races" -- "$bin/many-tasks" --tasks 8 --task-timeout 10
check missing-invoice missing-invoice "--invoices-withheld --min-invoices 0" "left unpaid" "" -- "$bin/hello-task"
# Unmodified yapapi 0.13.1 and golem-core 0.7.8. Not here: stream.py, which needs the SSE result
# stream; on one node yagna never forwards StreamExecBatchResults to the exe-unit (a one-node limit).
check yapapi-hello hello-task "" "^output: " "" -- "$venv/bin/python" Tests/Interop/hello.py
check yapapi-many-tasks tasks-one-bad-provider "--min-invoices 1 --allow-unused-agreement" "all 6 tasks done" \
  "which worker takes which task, and whether a third agreement is made before the job ends, are races" \
  -- "$venv/bin/python" Tests/Interop/many_tasks.py 6
check yapapi-transfer hello-task "" "downloaded .* as expected" "" -- "$venv/bin/python" Tests/Interop/transfer.py
check yapapi-no-multi-activity no-multi-activity "--no-terminate --invoice-may-race-destroy" "^output: " "" -- "$venv/bin/python" Tests/Interop/hello.py
check yapapi-service simple-service "--min-debit-notes 1" "service answered" \
  "the service polls on a wall-clock timer: the number of polls in 25 s differs with the real exe-unit's latency" \
  -- "$venv/bin/python" Tests/Interop/service.py 25
check yapapi-vpn file-service "--min-invoices 2" "two instances in the network" "" -- "$venv/bin/python" Tests/Interop/vpn.py
check golem-core-hello hello-task "" "hello from golem-core" "" -- "$core_venv/bin/python" Tests/Interop/core_hello.py
check golem-core-tasks tasks-one-bad-provider "--min-invoices 2" "all 6 tasks done" \
  "which worker takes which task, and how many agreements the retries make, are races" -- "$core_venv/bin/python" Tests/Interop/core_tasks.py
check golem-core-network file-service "--min-invoices 2 --min-debit-notes 2" "two activities in the network" \
  "which provider's activity is made first (and given the first address) is a race: golem-core starts both at once" \
  -- "$core_venv/bin/python" Tests/Interop/core_network.py
# Shaped after yapapi's own examples (scenarios/apps): files the provider's commands leave, custom
# usage counters reported through the exe-unit's SetActivityUsage, the market re-offering providers.
# Not here: downloads.py (the SSE stream, as above) and the tunnel (the real node's VPN needs a
# real exe-unit's network stack).
check yapapi-render apps/render "--min-invoices 2" "rendered 6 frames" \
  "which renderer takes which frame is a race between the two providers' activities" \
  -- "$venv/bin/python" Tests/Interop/render.py "$root/scenarios/apps/frame.png"
check yapapi-cracker apps/cracker "" "password found: yo" \
  "how many workers the attack job starts before its two chunks are done is a race" -- "$venv/bin/python" Tests/Interop/cracker.py
check yapapi-counters apps/counters "" "usage readings on fair-counter" \
  "the service reads usage on a wall-clock timer" -- "$venv/bin/python" Tests/Interop/counters.py
check yapapi-plots apps/plots "" "plots downloaded as drawn" \
  "the service polls on a wall-clock timer" -- "$venv/bin/python" Tests/Interop/plots.py "$root/scenarios/apps/frame.png"
check yapapi-market apps/market "--min-invoices 8 --no-terminate --invoice-may-race-destroy" "8 tasks on new agreements" \
  "which provider wins the first, unscored negotiations is a race" -- "$venv/bin/python" Tests/Interop/market.py

echo "real-yagna: $((ran-failures)) passed, $failures failed (sessions in $out)"
[ -n "$keep" ] || rm -rf "$out"
[ $failures -eq 0 ]
