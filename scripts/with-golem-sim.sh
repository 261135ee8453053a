#!/usr/bin/env bash
# Runs a command (a yapapi app, say) against a fresh `golem-sim serve` on a free port:
# starts the node with a scenario, points yapapi at it (YAGNA_API_URL, YAGNA_APPKEY,
# GOLEM_REGISTRY_URL, the gftp stand-in first on PATH, scripts/python first on PYTHONPATH so that
# yapapi and golem-core look images up in the node's registry), runs the command, stops the node and
# prints what its journal shows (activities destroyed, invoices and debit notes accepted,
# allocation released).
#
#   scripts/with-golem-sim.sh [--scenario FILE] [--speed N] [--journal FILE] [--checks "CHECKS"] -- python3 my_app.py
#
# --checks "…" options for the journal check (Tests/Interop/check_journal.py), e.g. "--invoices-withheld"
#
# Exit status: the command's, or 1 if it passed but the journal check failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scenario=$root/scenarios/hello-task.yaml
speed=1
journal=""
checks=""
while [ $# -gt 0 ]; do
  case $1 in
    --scenario) scenario=$2; shift 2 ;;
    --speed) speed=$2; shift 2 ;;
    --journal) journal=$2; shift 2 ;;
    --checks) checks=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "with-golem-sim: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "with-golem-sim: give the command to run after --, e.g. -- python3 app.py" >&2; exit 2; }
[ -f "$scenario" ] || { echo "with-golem-sim: no scenario file at $scenario" >&2; exit 2; }
bin=${GOLEM_SIM_BIN:-$(cd "$root" && swift build --show-bin-path)}
if [ ! -x "$bin/golem-sim" ] || [ ! -x "$bin/gftp" ]; then
  (cd "$root" && swift build --product golem-sim && swift build --product gftp) || exit 2
fi
work=$(mktemp -d)
# The node is stopped however this script ends (a `timeout` that kills it included).
trap 'kill -INT ${node:-} 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 143' TERM
[ -n "$journal" ] || journal=$work/session.sqlite
export GOLEM_SIM_GFTP_DIR=$work/gftp
# In a session of its own: Ctrl-C in a terminal reaches the app (which shuts down gracefully
# through the node), not the node under it.
setsid "$bin/golem-sim" serve --scenario "$scenario" --port 0 --speed "$speed" --journal "$journal" >"$work/node.log" 2>&1 &
node=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/node.log" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  kill -0 $node 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then echo "with-golem-sim: the node did not start:" >&2; cat "$work/node.log" >&2; exit 2; fi
echo "with-golem-sim: node on http://127.0.0.1:$port ($(basename "$scenario"), speed $speed)" >&2
# scripts/python/sitecustomize.py points yapapi's and golem-core's image-registry lookups at the node.
# A Ctrl-C meant for the app must not end this script before the node is stopped and checked.
trap 'interrupted=1' INT
PATH="$bin:$PATH" YAGNA_API_URL="http://127.0.0.1:$port" YAGNA_APPKEY=golem-sim-dev-key GOLEM_REGISTRY_URL="http://127.0.0.1:$port" \
  PYTHONPATH="$root/scripts/python${PYTHONPATH:+:$PYTHONPATH}" "$@"
status=$?
trap - INT
kill -INT $node 2>/dev/null; wait $node 2>/dev/null
node=""
"$bin/golem-sim" inspect "$journal" --json >"$work/inspect.json" 2>/dev/null
# shellcheck disable=SC2086
python3 "$root/Tests/Interop/check_journal.py" "$work/inspect.json" $checks --journal "$journal" >&2
checked=$?
[ "$journal" != "$work/session.sqlite" ] && echo "with-golem-sim: the session is in $journal (golem-sim inspect $journal)" >&2
[ $status -eq 0 ] && [ $checked -ne 0 ] && status=1
exit $status
