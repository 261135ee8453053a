#!/usr/bin/env bash
# Records the shipped sessions of a REAL yagna 0.17.6: scripts/with-real-yagna.sh starts the
# node offline with the scenario's providers played by `golem-sim provide`, and the app runs
# through `golem-sim record --pseudonymize` (app keys redacted, node ids and addresses replaced
# by consistent pseudonyms). Each is marked as recorded (not simulated) in its metadata.
# Usage: recordings/record-real.sh [name…]   (needs `swift build`, Python and PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)
venv=${INTEROP_VENV:-$PWD/.build/interop-venv}
logs=$(mktemp -d)

record() { # name scenario checks command…
  local name=$1 scenario=$2 checks=$3; shift 3
  rm -f "recordings/$name.sqlite"
  if scripts/with-real-yagna.sh --scenario "scenarios/$scenario.yaml" --journal "recordings/$name.sqlite" --pseudonymize \
    --checks "$checks" -- "$@" >"$logs/$name.log" 2>&1; then
    echo "$name: $(grep '^journal' "$logs/$name.log" | head -1)"
  else
    echo "$name: FAILED"; tail -20 "$logs/$name.log"; return 1
  fi
}

want() { [ $# -eq 0 ] || [[ " $* " == *" $name "* ]]; }
all=("$@")
for name in real-hello-task real-yapapi-hello real-simple-service real-service-provider-dies; do
  want "${all[@]}" || continue
  case $name in
    real-hello-task) record $name hello-task "" "$bin/hello-task" ;;
    real-yapapi-hello) record $name hello-task "" "$venv/bin/python" Tests/Interop/hello.py ;;
    real-simple-service) record $name simple-service "--min-debit-notes 1" "$bin/simple-service" --instances 1 --running-time 35 ;;
    real-service-provider-dies) record $name service-provider-dies "--min-invoices 2" "$bin/simple-service" --instances 1 --running-time 60 ;;
  esac
done
