"""Benchmark ``dataprep.dota_split.split_dota`` against a plain sequential mmrotate-style split.

Synthetic data (seeded, generated once into ``benchmarks/_data/dota_split/``): ``--images`` PNGs of
``--side`` x ``--side`` pixels (textured uint8 BGR) with ``--objects`` random rotated rectangles each
(DOTA labelTxt with ``imagesource:``/``gsd:`` headers). Each run is a fresh process (wall time and the child's
own peak RSS via ``os.wait4``, the helpers of ``run.py``):

* ``ours wN``: ``split_dota(src, out, size=1024, gap=200, workers=N)``;
* ``plain``: the recipe of mmrotate's ``tools/data/dota/split/img_split.py`` with ``--nproc 1``, written out
  below: per image ``cv2.imread``, mmrotate's sliding windows, a per-object shapely IoF loop, crop + pad,
  ``cv2.imwrite``, label lines.

The table (markdown) is printed and written with the raw numbers to ``benchmarks/_out/dota_split/``.

    python benchmarks/split_dota_bench.py                     # 20 images of 4000x4000, 300 objects each
    python benchmarks/split_dota_bench.py --images 4 --side 2000 --objects 50 --workers 1
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
SIZE, GAP, IMG_RATE_THR, IOF_THR = 1024, 200, 0.6, 0.7
PAD = (104, 116, 124)


# --------------------------------------------------------------------------- data


def generate(root: Path, images: int, side: int, objects: int, seed: int) -> None:
    """Textured images + labelTxt files; skipped when ``root/meta.json`` matches."""
    import cv2
    import numpy as np

    from evaluators.data.dota import DOTA_V1_CLASSES

    meta = {"images": images, "side": side, "objects": objects, "seed": seed}
    meta_path = root / "meta.json"
    if meta_path.exists() and json.loads(meta_path.read_text()) == meta:
        return
    shutil.rmtree(root, ignore_errors=True)
    (root / "images").mkdir(parents=True)
    (root / "labelTxt").mkdir()
    rng = np.random.default_rng(seed)
    for i in range(images):
        coarse = rng.integers(0, 256, (side // 16 + 1, side // 16 + 1, 3), dtype=np.uint8)
        img = cv2.resize(coarse, (side, side), interpolation=cv2.INTER_LINEAR)
        img = cv2.add(img, rng.integers(0, 24, img.shape, dtype=np.uint8))
        name = f"P{i:04d}"
        cv2.imwrite(str(root / "images" / f"{name}.png"), img)
        lines = ["imagesource:GoogleEarth", "gsd:0.5"]
        cx, cy = rng.uniform(0, side, objects), rng.uniform(0, side, objects)
        w, h = rng.uniform(8, 160, objects), rng.uniform(8, 80, objects)
        a = rng.uniform(-math.pi, math.pi, objects)
        cls = rng.integers(0, len(DOTA_V1_CLASSES), objects)
        diff = (rng.random(objects) < 0.1).astype(int)
        for k in range(objects):
            c, s = math.cos(a[k]), math.sin(a[k])
            pts = [(cx[k] + c * dx - s * dy, cy[k] + s * dx + c * dy)
                   for dx, dy in ((-w[k] / 2, -h[k] / 2), (w[k] / 2, -h[k] / 2), (w[k] / 2, h[k] / 2), (-w[k] / 2, h[k] / 2))]
            coords = " ".join(f"{min(max(v, 0.0), side - 1.0):.1f}" for p in pts for v in p)
            lines.append(f"{coords} {DOTA_V1_CLASSES[cls[k]]} {diff[k]}")
        (root / "labelTxt" / f"{name}.txt").write_text("\n".join(lines) + "\n")
    meta_path.write_text(json.dumps(meta))


# --------------------------------------------------------------------------- the plain implementation


def plain_windows(width: int, height: int, size: int = SIZE, gap: int = GAP, thr: float = IMG_RATE_THR):
    """mmrotate ``get_sliding_window`` for one size/gap."""
    import numpy as np

    step = size - gap
    starts = []
    for length in (width, height):
        n = 1 if length <= size else math.ceil((length - size) / step + 1)
        s = [step * i for i in range(n)]
        if len(s) > 1 and s[-1] + size > length:
            s[-1] = length - size
        starts.append(s)
    wins = np.array([[x, y, x + size, y + size] for x in starts[0] for y in starts[1]], dtype=np.int64)
    clipped = wins.copy()
    clipped[:, 0::2] = np.clip(clipped[:, 0::2], 0, width)
    clipped[:, 1::2] = np.clip(clipped[:, 1::2], 0, height)
    rates = ((clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
             / ((wins[:, 2] - wins[:, 0]) * (wins[:, 3] - wins[:, 1])))
    if not (rates > thr).any():
        rates[abs(rates - rates.max()) < 1e-9] = 1
    return wins[rates > thr]


def plain_split_image(img_path: Path, label_path: Path, out: Path) -> int:
    """Split one image; returns the number of tiles written."""
    import cv2
    import numpy as np
    from shapely.geometry import Polygon, box

    img = cv2.imread(str(img_path))
    height, width = img.shape[:2]
    objs = []
    for line in label_path.read_text().splitlines():
        t = line.strip().split(" ")
        if len(t) < 9:
            continue
        objs.append(([float(v) for v in t[:8]], t[8], int(t[9]) if len(t) > 9 else 0))
    polys = [Polygon(np.array(p).reshape(4, 2)) for p, _, _ in objs]
    windows = plain_windows(width, height)
    # per-object IoF loop (intersection area / object area), as mmrotate's bbox_overlaps_iof
    iofs = np.zeros((len(objs), len(windows)))
    for i, poly in enumerate(polys):
        area = poly.area
        xmin, ymin, xmax, ymax = poly.bounds
        for j, (x0, y0, x1, y1) in enumerate(windows):
            if xmax <= x0 or xmin >= x1 or ymax <= y0 or ymin >= y1:
                continue
            iofs[i, j] = poly.intersection(box(x0, y0, x1, y1)).area / max(area, 1e-6)
    for j, (x0, y0, x1, y1) in enumerate(windows):
        patch = img[y0:y1, x0:x1]
        if patch.shape[0] != SIZE or patch.shape[1] != SIZE:
            padded = np.empty((SIZE, SIZE, 3), dtype=np.uint8)
            padded[...] = np.array(PAD, dtype=np.uint8)
            padded[:patch.shape[0], :patch.shape[1]] = patch
            patch = padded
        name = f"{img_path.stem}__{SIZE}__{x0}___{y0}"
        cv2.imwrite(str(out / "images" / f"{name}.png"), patch)
        lines = []
        for i in np.nonzero(iofs[:, j] >= IOF_THR)[0]:
            p, cls, diff = objs[i]
            shifted = [v - (x0 if k % 2 == 0 else y0) for k, v in enumerate(p)]
            lines.append(" ".join(map(str, shifted)) + f" {cls} {2 if iofs[i, j] < 1 else diff}")
        (out / "annfiles" / f"{name}.txt").write_text("\n".join(lines))
    return len(windows)


def plain_split(src: Path, out: Path) -> int:
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "annfiles").mkdir(parents=True, exist_ok=True)
    tiles = 0
    for img_path in sorted((src / "images").glob("*.png")):
        tiles += plain_split_image(img_path, src / "labelTxt" / f"{img_path.stem}.txt", out)
    return tiles


# --------------------------------------------------------------------------- children and runner


def child(mode: str, src: str, out: str, workers: int) -> int:
    if mode == "plain":
        tiles = plain_split(Path(src), Path(out))
    else:
        from dataprep.dota_split import split_dota

        split_dota(src, out, size=SIZE, gap=GAP, workers=workers)
        tiles = len(list((Path(out) / "images").glob("*.png")))
    print(json.dumps({"tiles": tiles}))
    return 0


def tile_objects(out: Path) -> Dict[str, int]:
    """``{tile name: label lines}`` of a split output."""
    return {p.stem: sum(1 for line in p.read_text().splitlines() if line.strip())
            for p in (out / "annfiles").glob("*.txt")}


def main(argv: Sequence[str] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", choices=["ours", "plain", "generate"], help=argparse.SUPPRESS)
    ap.add_argument("--src", help=argparse.SUPPRESS)
    ap.add_argument("--dst", help=argparse.SUPPRESS)
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--side", type=int, default=4000)
    ap.add_argument("--objects", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", default="1,2", help="split_dota worker counts to time, comma-separated")
    ap.add_argument("--data", type=Path, default=HERE / "_data" / "dota_split")
    ap.add_argument("--out", type=Path, default=HERE / "_out" / "dota_split")
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args(argv)
    if args.child == "generate":
        generate(Path(args.src), args.images, args.side, args.objects, args.seed)
        return 0
    if args.child:
        return child(args.child, args.src, args.dst, int(args.workers.split(",")[0]))

    from run import child_env, generate_in_child, measure  # same folder

    src = args.data / f"images{args.images}-side{args.side}-objects{args.objects}-seed{args.seed}"
    print(f"generating/reusing {src}", file=sys.stderr)
    if not generate_in_child(Path(__file__), ["--src", src, "--images", args.images, "--side", args.side,
                                              "--objects", args.objects, "--seed", args.seed], REPO):
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    runs: List[Tuple[str, List[str]]] = [
        (f"ours workers={w}", ["--child", "ours", "--workers", w]) for w in args.workers.split(",") if w]
    runs.append(("plain mmrotate-style, nproc 1", ["--child", "plain"]))
    rows, tiles_of = [], {}
    env = child_env(REPO)
    for label, extra in runs:
        dst = args.out / "tiles" / label.split(",")[0].replace(" ", "_").replace("=", "")
        shutil.rmtree(dst, ignore_errors=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), *extra, "--src", str(src), "--dst", str(dst)]
        print(f"running {label}", file=sys.stderr)
        m = measure(cmd, REPO, env, args.timeout)
        ok = m.returncode == 0 and not m.timed_out
        if not ok:
            print(m.stderr[-3000:], file=sys.stderr)
        tiles_of[label] = tile_objects(dst) if ok else {}
        rows.append({"tool": label, "ok": ok, "wall_s": m.wall_s, "images_per_s": args.images / m.wall_s if ok else None,
                     "peak_rss_mib": m.rss_mib, "tiles": len(tiles_of[label]),
                     "objects_in_tiles": sum(tiles_of[label].values())})
        shutil.rmtree(dst, ignore_errors=True)
    ref = tiles_of[runs[-1][0]]
    for row in rows:
        row["same_tiles_and_counts_as_plain"] = tiles_of[row["tool"]] == ref if row["ok"] else None
    head = (f"{args.images} images of {args.side}x{args.side}, {args.objects} objects each; size {SIZE}, gap {GAP}; "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    lines = [head, "", "| tool | wall s | images/s | peak RSS MiB | tiles | objects in tiles | same as plain |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        ips = f"{r['images_per_s']:.2f}" if r["images_per_s"] else "failed"
        lines.append(f"| {r['tool']} | {r['wall_s']:.1f} | {ips} | {r['peak_rss_mib']:.0f} | {r['tiles']} | "
                     f"{r['objects_in_tiles']} | {r['same_tiles_and_counts_as_plain']} |")
    text = "\n".join(lines)
    print(text)
    (args.out / "results.md").write_text(text + "\n")
    (args.out / "results.json").write_text(json.dumps({"header": head, "rows": rows}, indent=2))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
