#!/usr/bin/env bash
# The live fidelity check: the walk against a real yagna 0.17.6 (offline, a second identity
# playing the provider) and against golem-sim serve, compared request by request; the live
# answers are also compared with the committed fixture, so the fixture cannot drift from the
# binary. `--write-fixture` regenerates the fixture instead of checking it.
#
#   bash Tests/Fidelity/run.sh [--write-fixture]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${GOLEM_SIM_BIN:-$(swift build --show-bin-path)}
fixture=Tests/GolemTests/Fixtures/fidelity/real-yagna-0.17.6.json
scenario=Tests/GolemTests/Fixtures/fidelity/fidelity.yaml
work=$(mktemp -d)
port=${FIDELITY_PORT:-17465}
cleanup() {
    [ -n "${sim_pid:-}" ] && kill -INT "$sim_pid" 2>/dev/null || true
    scripts/real-yagna.sh stop "$work/yagna" || true
}
trap cleanup EXIT

scripts/real-yagna.sh start "$work/yagna" "$port" 1
set -a; . "$work/yagna/env"; set +a

"$bin/golem-sim" serve --scenario "$scenario" --port 0 --app-key fidelity-sim-key >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/sim.log" && break; sleep 0.1; done
sim_url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/sim.log" | head -1)
[ -n "$sim_url" ] || { echo "fidelity: golem-sim serve did not start"; cat "$work/sim.log"; exit 1; }

args=(--real "$YAGNA_API_URL" --real-key "$YAGNA_APPKEY" --provider-key "$PROVIDER_KEYS" --sim "$sim_url" --sim-key fidelity-sim-key)
if [ "${1:-}" = --write-fixture ]; then
    "$bin/golem-sim" fidelity "${args[@]}" --write-fixture "$fixture"
else
    "$bin/golem-sim" fidelity "${args[@]}" --fixture "$fixture"
fi
