"""Per-file analysis cost against a bare libcst parse of the same files, in one process.

    python bench/parse_ratio.py PATH [--repeat N]

Prints seconds for `libcst.parse_module` alone and for credlint's per-file extraction (which
includes its own parse), and their ratio; DESIGN.md section 8 targets at most 1.5x. Run it on
a real tree, e.g. an unpacked `pip download prefect==1.4.1` wheel.
"""
import argparse
import pathlib
import time

import libcst

from credlint.prefect.catalogue import builtin_catalogue
from credlint.facts.python.extract import extract


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = pathlib.Path(args.path)
    files = [(p.relative_to(root).as_posix(), p.read_bytes()) for p in sorted(root.rglob("*.py"))]
    catalogue = builtin_catalogue()
    print(f"{len(files)} files, {sum(len(b) for _, b in files) / 1e6:.1f} MB")
    for run in range(args.repeat):
        # Interleaved file by file, so that machine noise hits both sides alike.
        parse = analyse = 0.0
        for rel, data in files:
            started = time.perf_counter()
            try:
                libcst.parse_module(data.decode("utf-8"))
            except Exception:  # noqa: BLE001 - the baseline skips what does not parse
                pass
            middle = time.perf_counter()
            extract(data, rel, catalogue)
            analyse += time.perf_counter() - middle
            parse += middle - started
        print(f"run {run + 1}: parse {parse:.2f}s  credlint extract {analyse:.2f}s  ratio {analyse / parse:.2f}x")

if __name__ == "__main__":
    main()
