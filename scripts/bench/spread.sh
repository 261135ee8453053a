#!/usr/bin/env bash
# The spread of the benchmark figures over repeated invocations (BENCHMARKS.md reports it):
# runs `golem-sim bench --json` N times (default 5), each in a fresh process, and prints every
# figure's median, lowest and highest value with its target. Extra arguments go to the bench
# (`--only replay,sweep`). Fails when an invocation fails or leaves a figure out.
#
#   swift build -c release --static-swift-stdlib --product golem-sim && bash scripts/bench/spread.sh 10 --only replay
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
shift || true
bin="${GOLEM_SIM_BIN:-.build/release}/golem-sim"
[ -x "$bin" ] || { echo "spread: no $bin; build it with: swift build -c release --static-swift-stdlib --product golem-sim" >&2; exit 2; }
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "spread: the number of invocations must be a positive integer, not '$runs'" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in $(seq 1 "$runs"); do
  "$bin" bench --json "$@" > "$out/run-$i.json" || { echo "spread: invocation $i of the bench failed" >&2; exit 1; }
  echo "spread: invocation $i of $runs done" >&2
done
python3 - "$out"/run-*.json <<'PY'
import json, statistics, sys
runs = [json.load(open(f)) for f in sys.argv[1:]]
names = [f["name"] for f in runs[0]]
for i, r in enumerate(runs, 1):
    missing = set(names) - {f["name"] for f in r}
    if missing:
        sys.exit(f"spread: invocation {i} lacks {sorted(missing)}")
print(f"{'figure':44} {'median':>12} {'lowest…highest':>24}  target   ({len(runs)} invocations)")
for name in names:
    values = [next(f for f in r if f["name"] == name) for r in runs]
    v = [f["value"] for f in values if f["value"] is not None]
    unit, target = values[0]["unit"], values[0].get("target", "-")
    if not v:
        # The bench writes null for a figure it could not measure and says why in the detail.
        print(f"{name[:44]:44} {'not measured':>12}  ({values[0]['detail']})")
        continue
    met = sum(1 for f in values if f.get("met")) if values[0].get("met") is not None else None
    fmt = lambda x: f"{x:.0f}" if abs(x) >= 1000 else (f"{x:.1f}" if abs(x) >= 10 else f"{x:.3f}")
    verdict = "" if met is None else f"met in {met} of {len(values)}"
    partly = "" if len(v) == len(values) else f"  (measured in {len(v)} of {len(values)})"
    print(f"{name[:44]:44} {fmt(statistics.median(v)):>8} {unit:3} {fmt(min(v)) + '…' + fmt(max(v)):>24}  {target}  {verdict}{partly}")
PY
