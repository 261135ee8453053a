#!/usr/bin/env bash
# Regenerates Sources/GolemBus/Proto/gsb_router.pb.swift from gsb_router.proto. The generated
# file is committed, so builds never need protoc or the plugin; run this only after editing the
# .proto. Needs Python (protoc comes from PyPI's grpcio-tools) and builds swift-protobuf's
# plugin at the version Package.swift pins (a few minutes, once; cached under .build/proto).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/.build/proto"
version=1.39.0
mkdir -p "$work"
if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install --quiet grpcio-tools
fi
plugin="$work/swift-protobuf/.build/release/protoc-gen-swift"
if [ ! -x "$plugin" ]; then
    rm -rf "$work/swift-protobuf"
    git clone --quiet --depth 1 --branch "$version" https://github.com/apple/swift-protobuf "$work/swift-protobuf"
    (cd "$work/swift-protobuf" && swift build -c release --product protoc-gen-swift)
fi
cd "$root/Sources/GolemBus/Proto"
"$work/venv/bin/python" -m grpc_tools.protoc --plugin=protoc-gen-swift="$plugin" -I. \
    --swift_out=. --swift_opt=Visibility=Internal gsb_router.proto
echo "regenerated Sources/GolemBus/Proto/gsb_router.pb.swift"
