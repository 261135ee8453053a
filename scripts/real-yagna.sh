#!/usr/bin/env bash
# A real yagna 0.17.6 (PyPI golem-node), offline, for fidelity checks and `golem-sim provide`.
#
#   scripts/real-yagna.sh install                  # print the path of the yagna binary (downloads it once)
#   scripts/real-yagna.sh start DIR [PORT] [N]     # start a node in DIR on PORT (default 17465) with N
#                                                  # provider identities (default 1); writes DIR/env
#   scripts/real-yagna.sh stop DIR                 # stop it
#
# DIR/env holds YAGNA_API_URL, YAGNA_APPKEY (the requestor), GSB_URL and PROVIDER_KEYS (one key
# per provider identity, space-separated); source it. The node is offline: its relay address is a
# port nobody answers, its UDP bind is local, allocations skip the balance check.
set -euo pipefail
version=0.17.6
cache=${GOLEM_SIM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/golem-sim}

install_yagna() {
    if [ -n "${YAGNA:-}" ] && [ -x "$YAGNA" ]; then echo "$YAGNA"; return; fi
    if command -v yagna >/dev/null 2>&1 && yagna --version 2>/dev/null | grep -q "yagna $version"; then command -v yagna; return; fi
    local bin="$cache/golem-node-$version/golem_node-$version.data/scripts/yagna"
    if [ ! -x "$bin" ]; then
        mkdir -p "$cache/golem-node-$version"
        echo "real-yagna: downloading golem-node==$version from PyPI (about 50 MB)" >&2
        python3 -m pip download --quiet "golem-node==$version" --no-deps -d "$cache/golem-node-$version" >&2
        (cd "$cache/golem-node-$version" && python3 -m zipfile -e golem_node-$version-*.whl . >&2)
        chmod +x "$bin"
    fi
    echo "$bin"
}

node_env() {
    local d=$1 port=$2
    export YAGNA_DATADIR="$d" GSB_URL="unix:$d/yagna.sock" YAGNA_API_URL="http://127.0.0.1:$port"
    export YAGNA_AUTOCONF_APPKEY=${YAGNA_AUTOCONF_APPKEY:-real-requestor-key}
    export YA_NET_RELAY_HOST="127.0.0.1:$((port + 1))" YA_NET_BIND_URL="udp://127.0.0.1:$((port + 2))"
    export YAGNA_DEV_SKIP_ALLOCATION_VALIDATION=1
}

run_node() {
    local d=$1 yagna=$2
    (setsid "$yagna" service run >>"$d/service.log" 2>&1 & echo $! >"$d/node.pid")
    for _ in $(seq 1 120); do
        if curl -s -o /dev/null -H "Authorization: Bearer $YAGNA_AUTOCONF_APPKEY" "$YAGNA_API_URL/me"; then return 0; fi
        kill -0 "$(cat "$d/node.pid")" 2>/dev/null || { echo "real-yagna: yagna exited at start; see $d/service.log" >&2; exit 2; }
        sleep 0.5
    done
    echo "real-yagna: yagna did not answer within 60 s; see $d/service.log" >&2
    exit 2
}

stop_node() {
    local d=$1
    [ -f "$d/node.pid" ] || return 0
    local pid; pid=$(cat "$d/node.pid")
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || { rm -f "$d/node.pid"; return 0; }; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$d/node.pid"
}

case "${1:-}" in
install) install_yagna ;;
stop) stop_node "${2:?usage: real-yagna.sh stop DIR}" ;;
start)
    d=${2:?usage: real-yagna.sh start DIR [PORT] [N]}
    port=${3:-17465}
    providers=${4:-1}
    yagna=$(install_yagna)
    mkdir -p "$d" && d=$(cd "$d" && pwd)
    node_env "$d" "$port"
    run_node "$d" "$yagna"
    # The net module routes to another identity of this node only if it existed at start:
    # create the provider identities and their keys, then restart.
    created=0
    for i in $(seq 1 "$providers"); do
        if ! "$yagna" --json app-key list | grep -q "\"provider-$i\""; then
            "$yagna" --json id create --no-password "provider-$i" >/dev/null
            address=$("$yagna" --json id list | python3 -c "import json,sys; print([i['address'] for i in json.load(sys.stdin) if i['alias'] == 'provider-$i'][0])")
            "$yagna" --json app-key create --id "$address" "provider-$i" >/dev/null
            created=1
        fi
    done
    if [ "$created" = 1 ]; then stop_node "$d"; run_node "$d" "$yagna"; fi
    keys=$("$yagna" --json app-key list | python3 -c "
import json, sys
keys = {k['name']: k['key'] for k in json.load(sys.stdin)}
print(' '.join(keys['provider-%d' % i] for i in range(1, $providers + 1)))")
    {
        echo "YAGNA_API_URL=$YAGNA_API_URL"
        echo "YAGNA_APPKEY=$YAGNA_AUTOCONF_APPKEY"
        echo "GSB_URL=$GSB_URL"
        echo "PROVIDER_KEYS=\"$keys\""
        echo "YAGNA_VERSION=\"$("$yagna" --version)\""
    } >"$d/env"
    echo "real yagna $version at $YAGNA_API_URL (pid $(cat "$d/node.pid"), $providers provider identities); environment in $d/env"
    ;;
*) sed -n 2,12p "$0"; exit 2 ;;
esac
