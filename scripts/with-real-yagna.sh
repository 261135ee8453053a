#!/usr/bin/env bash
# Runs a command (a yapapi, golem-core or Swift app) against a REAL yagna 0.17.6 whose providers
# are the scenario's, played by `golem-sim provide`:
#   - installs yagna from PyPI (golem-node 0.17.6) if it is missing (scripts/real-yagna.sh),
#   - starts it offline on free ports with one identity per scenario provider,
#   - runs `golem-sim provide` (offers, agreements, an exe-unit on the node's service bus,
#     debit notes, invoices, the scenario's faults),
#   - records the app's session through `golem-sim record` and an image-registry stand-in,
#   - runs COMMAND with YAGNA_API_URL (the recorder in front of the node), YAGNA_APPKEY,
#     GOLEM_REGISTRY_URL, the gftp stand-in first on PATH and scripts/python on PYTHONPATH,
#   - stops everything and prints what the recorded session shows (check_journal.py).
#
#   scripts/with-real-yagna.sh --scenario FILE [--journal FILE] [--seed N] [--keep DIR]
#                              [--checks "CHECKS"] [--pseudonymize] -- COMMAND…
#
# --journal FILE   keep the recorded session there (default: a temporary file)
# --keep DIR       keep the node's data directory and logs there (default: removed)
# --checks "…"     options for the journal check (Tests/Interop/check_journal.py), e.g.
#                  "--min-debit-notes 1" or "--invoices-withheld"
# --pseudonymize   record node ids and wallet addresses as consistent pseudonyms
# Exit status: the command's, 1 if it passed but the journal check failed, 2 on a set-up failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scenario=""
journal=""
seed=""
keep=""
checks=""
pseudonymize=""
while [ $# -gt 0 ]; do
  case $1 in
    --scenario) scenario=$2; shift 2 ;;
    --journal) journal=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --checks) checks=$2; shift 2 ;;
    --pseudonymize) pseudonymize=--pseudonymize; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "with-real-yagna: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$scenario" ] || { echo "with-real-yagna: give --scenario FILE (the providers to play)" >&2; exit 2; }
[ -f "$scenario" ] || { echo "with-real-yagna: no scenario file at $scenario" >&2; exit 2; }
[ $# -gt 0 ] || { echo "with-real-yagna: give the command to run after --, e.g. -- python3 app.py" >&2; exit 2; }
command -v python3 >/dev/null || { echo "with-real-yagna: python3 is needed (the real yagna comes from PyPI)" >&2; exit 2; }
bin=${GOLEM_SIM_BIN:-$(cd "$root" && swift build --show-bin-path)}
if [ ! -x "$bin/golem-sim" ] || [ ! -x "$bin/gftp" ]; then
  (cd "$root" && swift build --product golem-sim && swift build --product gftp) || exit 2
fi
providers=$("$bin/golem-sim" validate "$scenario" | grep -o 'with [0-9]* provider' | grep -o '[0-9]*') \
  || { "$bin/golem-sim" validate "$scenario"; exit 2; }
work=$(mktemp -d)
[ -n "$keep" ] && { mkdir -p "$keep"; work=$(cd "$keep" && pwd); }
[ -n "$journal" ] || journal=$work/session.sqlite
rm -f "$journal"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  "$root/scripts/real-yagna.sh" stop "$work/yagna" >/dev/null 2>&1
  [ -n "$keep" ] || rm -rf "$work"
}
trap cleanup EXIT
# Three consecutive free ports: the REST API, a relay address nobody answers, the net module's UDP bind.
free_ports() {
  python3 -c '
import random, socket
for _ in range(200):
    p = random.randrange(20000, 40000)
    try:
        for q in (p, p + 1, p + 2):
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(socket.AF_INET, kind); s.bind(("127.0.0.1", q)); s.close()
        print(p); break
    except OSError:
        continue'
}
# A start that fails (yagna has been seen to panic while its identities are being made) is retried
# once on other ports, in a fresh data directory.
if ! "$root/scripts/real-yagna.sh" start "$work/yagna" "$(free_ports)" "$providers" >"$work/start.log" 2>&1; then
  echo "with-real-yagna: the node did not start; retrying once (first attempt: $work/start.log)" >&2
  tail -5 "$work/start.log" >&2
  "$root/scripts/real-yagna.sh" stop "$work/yagna" >/dev/null 2>&1
  mv "$work/yagna" "$work/yagna-failed-start"
  "$root/scripts/real-yagna.sh" start "$work/yagna" "$(free_ports)" "$providers" >&2 || exit 2
else
  cat "$work/start.log" >&2
fi
set -a; . "$work/yagna/env"; set +a
export GOLEM_SIM_GFTP_DIR=$work/gftp

wait_line() { # log pattern pid what
  for _ in $(seq 1 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.1
  done
  echo "with-real-yagna: $4 did not start:" >&2; cat "$1" >&2; exit 2
}

# provide, the registry stand-in and the recorder each in a session of their own: a Ctrl-C in a
# terminal reaches the app, which then shuts down through them.
setsid "$bin/golem-sim" provide --scenario "$scenario" --yagna "$YAGNA_API_URL" --gsb-url "$GSB_URL" \
  --provider-keys "$PROVIDER_KEYS" ${seed:+--seed "$seed"} --verbose >"$work/provide.log" 2>&1 &
pids+=($!)
wait_line "$work/provide.log" "providing $providers providers" $! "golem-sim provide"
# The image registry stand-in: the registry endpoints of a simulated node (nothing else of it is used).
setsid "$bin/golem-sim" serve --scenario "$scenario" --port 0 >"$work/registry.log" 2>&1 &
pids+=($!)
wait_line "$work/registry.log" "listening on" $! "the registry stand-in"
registry=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/registry.log" | head -1)
setsid "$bin/golem-sim" record --upstream "$YAGNA_API_URL" --out "$journal" --port 0 $pseudonymize \
  --notes "real $(sed -n 's/^YAGNA_VERSION="\(.*\)"$/\1/p' "$work/yagna/env") with golem-sim provide, scenario $(basename "$scenario" .yaml): $(basename "$1") ${*:2}" \
  >"$work/record.log" 2>&1 &
recorder=$!
wait_line "$work/record.log" "listening on" $recorder "the recorder"
api=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/record.log" | head -1)
echo "with-real-yagna: real yagna $YAGNA_API_URL ($providers provider identities), recorded at $api" >&2

PATH="$bin:$PATH" YAGNA_API_URL="$api" GOLEM_REGISTRY_URL="$registry" \
  PYTHONPATH="$root/scripts/python${PYTHONPATH:+:$PYTHONPATH}" "$@"
status=$?
kill -INT $recorder 2>/dev/null; wait $recorder 2>/dev/null
"$bin/golem-sim" inspect "$journal" --json >"$work/inspect.json" 2>/dev/null
# shellcheck disable=SC2086
python3 "$root/Tests/Interop/check_journal.py" "$work/inspect.json" $checks --journal "$journal" >&2
checked=$?
grep -E "warning|error" "$work/provide.log" | tail -5 >&2
[ "$journal" != "$work/session.sqlite" ] && echo "with-real-yagna: the session is in $journal (golem-sim inspect $journal)" >&2
[ $status -eq 0 ] && [ $checked -ne 0 ] && status=1
exit $status
