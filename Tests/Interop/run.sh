#!/usr/bin/env bash
# Interop: apps on the unmodified yapapi 0.13.1 library (and one on golem-core 0.7.8) run against
# `golem-sim serve`. Creates a virtual environment per library, installs it from PyPI, starts the
# node on a free port per driver, runs the driver with the simulator's gftp first on PATH, and
# checks its exit status.
# Usage: Tests/Interop/run.sh [--required]   (without --required, no Python/PyPI means skip)
#        INTEROP_ONLY=REGEX runs only the drivers whose file name matches.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
required=${1:-}
bin=${GOLEM_SIM_BIN:-$(swift build --show-bin-path)}
venv=${INTEROP_VENV:-$root/.build/interop-venv}
core_venv=${INTEROP_CORE_VENV:-$root/.build/interop-core-venv}
dapp_venv=${INTEROP_DAPP_VENV:-$root/.build/interop-dapp-venv}

skip() { echo "interop: skipped: $1"; [ "$required" = "--required" ] && exit 1; exit 0; }
command -v python3 >/dev/null || skip "python3 is not installed"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import yapapi" 2>/dev/null; then
  python3 -m venv "$venv" || skip "cannot create a virtual environment"
  "$venv/bin/pip" install -q "yapapi==0.13.1" || skip "cannot install yapapi 0.13.1 from PyPI"
fi
# golem-core gets its own environment; without it only its driver is skipped.
core_python=$core_venv/bin/python
if [ ! -x "$core_python" ] || ! "$core_python" -c "import golem.node" 2>/dev/null; then
  { python3 -m venv "$core_venv" && "$core_venv/bin/pip" install -q "golem-core==0.7.8"; } || core_python=""
fi
# dapp-runner too (it pins its own yapapi).
dapp_python=$dapp_venv/bin/python
if [ ! -x "$dapp_venv/bin/dapp-runner" ]; then
  { python3 -m venv "$dapp_venv" && "$dapp_venv/bin/pip" install -q "dapp-runner==0.3.1"; } || dapp_python=""
fi
[ -x "$bin/golem-sim" ] && [ -x "$bin/gftp" ] || { echo "interop: build golem-sim and gftp first (swift build)"; exit 1; }

failures=0
ran=0
# Each driver's session is journalled by the node and checked there too (check_journal.py):
# activities destroyed, agreements ended, invoices and debit notes accepted, allocation released.
# The driver runs on yapapi's interpreter unless `python=…` is put before run_driver.
run_driver() { # scenario driver "journal checks" [args…]
  local scenario=$1 driver=$2 checks=$3 interpreter=${python:-$venv/bin/python}; shift 3
  [ -n "${INTEROP_ONLY:-}" ] && ! [[ $driver =~ $INTEROP_ONLY ]] && return
  ran=$((ran+1))
  local log gftpdir journal
  log=$(mktemp); gftpdir=$(mktemp -d); journal=$(mktemp -d)/session.sqlite
  GOLEM_SIM_GFTP_DIR=$gftpdir "$bin/golem-sim" serve --scenario "scenarios/$scenario.yaml" --port 0 --speed 4 --journal "$journal" >"$log" 2>&1 &
  local pid=$!
  local port=""
  for _ in $(seq 1 100); do
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  if [ -z "$port" ]; then echo "interop: $driver: the node did not start"; cat "$log"; kill $pid 2>/dev/null; failures=$((failures+1)); return; fi
  local out; out=$(mktemp)
  PATH="$bin:$PATH" GOLEM_SIM_GFTP_DIR=$gftpdir YAGNA_API_URL="http://127.0.0.1:$port" YAGNA_APPKEY=golem-sim-dev-key \
    GOLEM_REGISTRY_URL="http://127.0.0.1:$port" PYTHONPATH="$root/scripts/python" timeout 300 "$interpreter" "Tests/Interop/$driver" "$@" >"$out" 2>&1
  local app=$?
  kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null
  local inspected checked
  inspected=$(mktemp)
  "$bin/golem-sim" inspect "$journal" --json >"$inspected" 2>&1
  # shellcheck disable=SC2086
  checked=$(python3 Tests/Interop/check_journal.py "$inspected" $checks --journal "$journal" 2>&1); local journal_ok=$?
  if [ $app -eq 0 ] && ! grep -qiE "unpaid|Traceback" "$out" && [ $journal_ok -eq 0 ]; then
    echo "interop: $driver on $scenario: ok ($(tail -1 "$out"); $checked)"
  else
    echo "interop: $driver on $scenario: FAILED (exit $app)"; tail -30 "$out"; echo "$checked"; failures=$((failures+1))
  fi
  rm -rf "$log" "$out" "$gftpdir" "$inspected" "$(dirname "$journal")"
}

# yapapi replays a recording of the Swift hello-task strictly: the node must report no divergence.
run_replay() { # recording driver
  local recording=$1 driver=$2
  [ -n "${INTEROP_ONLY:-}" ] && ! [[ $driver =~ $INTEROP_ONLY ]] && return
  ran=$((ran+1))
  local log gftpdir journal
  log=$(mktemp); gftpdir=$(mktemp -d); journal=$(mktemp -d)/replay.sqlite
  GOLEM_SIM_GFTP_DIR=$gftpdir "$bin/golem-sim" serve --recording "recordings/$recording.sqlite" --port 0 --speed 4 --journal "$journal" >"$log" 2>&1 &
  local pid=$! port=""
  for _ in $(seq 1 100); do
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  local out; out=$(mktemp)
  PATH="$bin:$PATH" GOLEM_SIM_GFTP_DIR=$gftpdir YAGNA_API_URL="http://127.0.0.1:$port" YAGNA_APPKEY=golem-sim-dev-key \
    GOLEM_REGISTRY_URL="http://127.0.0.1:$port" PYTHONPATH="$root/scripts/python" timeout 300 "$venv/bin/python" "Tests/Interop/$driver" >"$out" 2>&1
  local app=$?
  kill -INT $pid 2>/dev/null; wait $pid; local node=$?
  if [ $app -eq 0 ] && [ $node -eq 0 ] && ! grep -qiE "unpaid|Traceback" "$out" && "$bin/golem-sim" verify "$journal" >/dev/null; then
    echo "interop: $driver replaying recordings/$recording.sqlite strictly: ok ($(grep '^replay:' "$log"))"
  else
    echo "interop: $driver replaying recordings/$recording.sqlite: FAILED (app $app, node $node)"; cat "$log"; tail -20 "$out"; failures=$((failures+1))
  fi
  rm -rf "$log" "$out" "$gftpdir"
}

run_driver hello-task hello.py ""
run_replay hello-task hello.py
# …and a session of a real yagna with golem-sim provide, recorded with yapapi itself.
run_replay real-yapapi-hello hello.py
run_driver tasks-one-bad-provider many_tasks.py "--min-invoices 2" 6
run_driver hello-task transfer.py ""
run_driver hello-task stream.py ""
run_driver no-multi-activity hello.py "--no-terminate"
# Long enough (12 s at --speed 4: 48 virtual s, debit notes every 20 s) to accept debit notes.
run_driver simple-service service.py "--min-debit-notes 2" 12
run_driver file-service vpn.py "--min-invoices 2"
# Apps shaped after yapapi's own examples, on scenarios/apps (#16): renders with downloaded
# outputs, a cracker with a keyspace and potfiles, custom usage counters, a URL download with progress.
run_driver apps/render render.py "--min-invoices 2" "$root/scenarios/apps/frame.png"
run_driver apps/cracker cracker.py ""
run_driver apps/counters counters.py ""
run_driver apps/counters list_offers.py "--market-only"
run_driver apps/market market.py "--min-invoices 8 --no-terminate"
run_driver apps/downloads downloads.py ""
run_driver apps/plots plots.py "" "$root/scenarios/apps/frame.png"
# An HTTP service through the VPN's TCP tunnel (WebSocket), served locally by yapapi's LocalHttpProxy.
run_driver apps/http-proxy http_proxy.py "--min-invoices 2"
run_driver apps/webapp webapp.py "--min-invoices 2"
# yapapi's webapp_fileupload: a multipart upload stored in the activity, listed and served back.
run_driver apps/webapp-fileupload webapp.py "--min-invoices 2" --upload
if [ -n "$dapp_python" ]; then
  python=$dapp_python run_driver apps/http-proxy dapp_runner.py ""
  # dapp-store's webapp: a db and an http node in one network (depends_on), the http one's port 5000 proxied.
  python=$dapp_python run_driver apps/webapp dapp_runner.py "--min-invoices 2" webapp
else
  echo "interop: dapp_runner.py (http-proxy, webapp): skipped: cannot install dapp-runner 0.3.1 from PyPI"
  [ "$required" = "--required" ] && { ran=$((ran+1)); failures=$((failures+1)); }
fi
if [ -n "$core_python" ]; then
  python=$core_python run_driver hello-task core_hello.py ""
  # golem-core's managers API: tasks retried away from a failing provider, with downloads; two
  # activities in a network (debit notes every 20 s, accepted).
  python=$core_python run_driver tasks-one-bad-provider core_tasks.py "--min-invoices 2"
  python=$core_python run_driver file-service core_network.py "--min-invoices 2 --min-debit-notes 2"
else
  echo "interop: core_hello.py, core_tasks.py, core_network.py: skipped: cannot install golem-core 0.7.8 from PyPI"
  [ "$required" = "--required" ] && { ran=$((ran+1)); failures=$((failures+1)); }
fi
echo "interop: $((ran-failures)) passed, $failures failed"
[ $failures -eq 0 ]
