"""How long refusing deeply nested YAML takes, at 100 KB and at 1 MB (the upload limit).

Each hostile shape goes through `check_upload`, the function a pack sent in chat goes
through, in this process. The refusal comes from the depth guard in `bot.content.validate`
at the 51st level, so its time should not grow with the size of the file. For scale, the
same call on a valid pack of the same size is timed too: that is what a legitimate 1 MB
upload costs (PyYAML's pure-Python parser is the bulk of it).

    .venv/bin/python bench/deep_yaml.py [--repeat 5] [--no-valid]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.services.content import check_upload  # noqa: E402
from tests.e2e.test_content_process import big_pack  # noqa: E402  (its slow valid pack)

SIZES = (100_000, 999_000)  # 100 KB and just under the 1 MB upload limit


def brackets(size: int) -> bytes:
    """`a: ` and `[` up to `size` bytes: the issue's deep.yaml."""
    return b"a: " + b"[" * (size - 3)


def flow_mappings(size: int) -> bytes:
    """`{a: ` repeated up to `size` bytes."""
    return b"{a: " * (size // 4)


def block_mappings(size: int) -> bytes:
    """Block mappings each indented one column more, as many as fit in `size` bytes."""
    lines: list[bytes] = []
    total = 0
    while total + len(lines) + 3 <= size:
        lines.append(b" " * len(lines) + b"a:\n")
        total += len(lines[-1])
    return b"".join(lines)


SHAPES: dict[str, Callable[[int], bytes]] = {
    "[[[ (deep.yaml)": brackets,
    "{a: {a: ...": flow_mappings,
    "block mappings": block_mappings,
}


def best(data: bytes, repeat: int) -> tuple[float, str]:
    """The fastest of `repeat` checks of `data`, in seconds, and the report's first line."""
    times = []
    first = ""
    for _ in range(repeat):
        start = time.perf_counter()
        report = check_upload(data, "bench.yaml")
        times.append(time.perf_counter() - start)
        first = str(report.errors[0]) if report.errors else "valid"
    return min(times), first


def main() -> None:
    """Print one line per shape and size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per case (best is shown)")
    parser.add_argument("--no-valid", action="store_true", help="skip the valid-pack baseline")
    args = parser.parse_args()
    print(f"{'input':<18} {'size':>9} {'seconds':>9}  report")
    for name, make in SHAPES.items():
        for size in SIZES:
            data = make(size)
            seconds, first = best(data, args.repeat)
            print(f"{name:<18} {len(data):>9,} {seconds:>9.4f}  {first}")
    if not args.no_valid:
        for size in SIZES:
            data = big_pack(size)
            seconds, first = best(data, 1)
            print(f"{'valid pack':<18} {len(data):>9,} {seconds:>9.2f}  {first}")


if __name__ == "__main__":
    main()
