"""Python's flatbuffers package reads the FlexBuffers golem-sim writes: every case of
Tests/GolemTests/Fixtures/bus/golem-sim-flexbuffers.json (golem-sim's own bytes, checked
byte-for-byte by `swift test`) decodes to its value. Usage: flex_check.py (needs `flatbuffers`)."""
import json
import math
import pathlib
import sys

from flatbuffers import flexbuffers


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=0, abs_tol=0) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def main():
    path = pathlib.Path(__file__).resolve().parents[1] / "GolemTests/Fixtures/bus/golem-sim-flexbuffers.json"
    cases = json.loads(path.read_text())["cases"]
    bad = 0
    for case in cases:
        value = flexbuffers.Loads(bytes.fromhex(case["hex"]))
        if isinstance(value, (bytes, bytearray)):
            value = list(value)
        if not same(value, case["value"]):
            bad += 1
            print(f"flex_check: {case['name']}: Python read {value!r}, expected {case['value']!r}")
    print(f"flex_check: Python's flatbuffers read {len(cases) - bad} of {len(cases)} golem-sim encodings")
    sys.exit(1 if bad or not cases else 0)


main()
