"""Time ``check_layout`` on full-size synthetic trees: ``python benchmarks/layouts_bench.py [--keep]``.

Builds (once, under ``benchmarks/_data/layouts/``, git-ignored) empty-file trees with the real file counts:

* ``coco``: train2017/ with 118,287 images, val2017/ with 5,000, the two instance JSONs;
* ``widerface``: WIDER_train/Annotations with 12,880 XML files and 61 event folders of images, val likewise
  with 3,226.

Then, for each, it times ``check_layout`` (best of 3; every call lists the folders afresh, the OS cache is warm as
after any ``ls``) and, for comparison, ``len(glob.glob(...))`` of the largest folder alone.
Prints one Markdown table row per tree. ``--keep`` leaves the trees for a rerun; they are removed otherwise.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data" / "layouts"


def _touch_many(folder: Path, names) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        with open(folder / n, "wb"):
            pass


def build() -> None:
    coco = DATA / "coco"
    if not (coco / ".done").exists():
        _touch_many(coco / "train2017", (f"{i:012d}.jpg" for i in range(118_287)))
        _touch_many(coco / "val2017", (f"{i:012d}.jpg" for i in range(5_000)))
        _touch_many(coco / "annotations", ["instances_train2017.json", "instances_val2017.json"])
        (coco / ".done").touch()
    wider = DATA / "widerface"
    if not (wider / ".done").exists():
        for split, n in (("train", 12_880), ("val", 3_226)):
            _touch_many(wider / f"WIDER_{split}" / "Annotations", (f"{i}_x_{i}.xml" for i in range(n)))
            for e in range(61):
                _touch_many(wider / f"WIDER_{split}" / f"{e}--Event{e}",
                            (f"{e}_x_{i}.jpg" for i in range(e, n, 61)))
            _touch_many(wider, [f"{split}.txt"])
        (wider / ".done").touch()


def best(fn, repeat: int = 3) -> float:
    """Best wall seconds of ``fn()`` (each check_layout call scans afresh; the OS cache is warm)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    import glob

    from dataprep.layouts import check_layout

    t0 = time.perf_counter()
    build()
    print(f"built trees in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print("| tree | files | check_layout (s) | glob.glob of the largest folder (s) | result |")
    print("|---|---|---|---|---|")
    for name, root, big in (("coco", DATA / "coco", "train2017/*.jpg"),
                            ("widerface", DATA / "widerface", "WIDER_train/Annotations/*.xml")):
        files = sum(len(fs) for _, _, fs in os.walk(root))
        check = best(lambda: check_layout(name, root))
        ref = best(lambda: len(glob.glob(str(root / big))))
        report = check_layout(name, root)
        assert report.ok, report.render()
        key = "/".join(big.split("/")[-2:]).split(".")[0]
        counted = next(ln for ln in report.render().splitlines() if key in ln and "✓" in ln)
        print(f"| {name} | {files:,} | {check:.3f} | {ref:.3f} | `{' '.join(counted.lstrip('│├└─ ').split())}` |")
    if "--keep" not in sys.argv:
        shutil.rmtree(DATA)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main()
