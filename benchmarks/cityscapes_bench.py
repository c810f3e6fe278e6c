"""Benchmark ``dataprep coco-from-cityscapes`` against a plain sequential implementation of mmdetection's algorithm.

Synthetic data (seeded, generated once into ``benchmarks/_data/cityscapes/``): ``--images`` Cityscapes-size
(2048 x 1024) 16-bit ``*_gtFine_instanceIds.png`` maps in ``gtFine/train/<city>/``, each with stuff regions
(sky, building, vegetation, road, sidewalk, ego vehicle) and 15-45 occluding instances of the 8 evaluated
classes plus caravans, ~1 in 4 images with a crowd group; ``leftImg8bit/train/<city>/`` holds 8x8 placeholder
PNGs (neither tool reads the images). Every run is a fresh process (wall time and the child's own peak RSS via
``os.wait4``, the helpers of ``run.py``):

* ``plain``: mmdetection ``tools/dataset_converters/cityscapes.py`` as a plain loop (its ``--nproc 1`` path),
  written out below: ``glob`` of the images, per frame ``cv2.imread(..., IMREAD_UNCHANGED)``,
  ``np.unique(ids[ids >= 24])``, then per instance a full-image ``ids == value`` mask in Fortran order,
  ``pycocotools.mask.encode``, ``area``, ``toBbox``; ``json.dumps`` of the result;
* ``ours wN``: ``save_coco_from_cityscapes(root, out, CityscapesOptions(splits=("train",), mmdet_compat=True,
  workers=N))`` (one column-major run-length pass per frame instead of one mask per instance);
* ``read only``: just ``cv2.imread`` of every map, the floor both share.

``convert s`` is timed inside the child around the conversion (imports excluded: ours pulls in torch through
the shared error classes), ``CPU s`` is the CPU time of that conversion including worker processes (equal
CPU for 1 and N workers means no parallel overhead: on a machine with N free cores the wall time divides by
N), ``wall s`` is the whole process; the 1-minute load average before each run is in ``results.json``. The outputs of ``plain`` and ``ours`` must be the
same bytes. The table (markdown) is printed and written with the raw numbers to ``benchmarks/_out/cityscapes/``.

    python benchmarks/cityscapes_bench.py                    # 100 images (the full train split has 2,975)
    python benchmarks/cityscapes_bench.py --images 2975 --workers 1,2,4,8
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import List, Sequence, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
CITIES = ("aachen", "bochum", "bremen", "cologne", "darmstadt")
STUFF = (23, 11, 21, 8, 7)                                      # sky, building, vegetation, sidewalk, road
CLASSES = (24, 24, 24, 25, 26, 26, 26, 27, 28, 29, 31, 32, 33)  # weighted: persons and cars most often


# --------------------------------------------------------------------------- data


def _blob(rng, cx: float, cy: float, rx: float, ry: float):
    import numpy as np

    angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(5, 12))))
    radius = rng.uniform(0.6, 1.0, angles.size)
    pts = np.stack([cx + rx * radius * np.cos(angles), cy + ry * radius * np.sin(angles)], 1)
    return pts.round().astype(np.int32)


def generate(root: Path, images: int, seed: int) -> None:
    """Instance maps + placeholder images; skipped when ``root/meta.json`` matches."""
    import cv2
    import numpy as np

    meta = {"images": images, "seed": seed, "size": [1024, 2048]}
    meta_path = root / "meta.json"
    if meta_path.exists() and json.loads(meta_path.read_text()) == meta:
        return
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(seed)
    placeholder = np.zeros((8, 8, 3), np.uint8)
    for i in range(images):
        city = CITIES[i % len(CITIES)]
        stem = f"{city}_{i:06d}_000019"
        ids = np.full((1024, 2048), 7, np.uint16)
        ids[:380] = 23
        for value in STUFF[1:4]:
            for _ in range(int(rng.integers(2, 6))):
                cv2.fillPoly(ids, [_blob(rng, rng.uniform(0, 2048), rng.uniform(250, 650), rng.uniform(80, 400),
                                         rng.uniform(60, 250))], int(value))
        next_index = {}
        for _ in range(int(rng.integers(15, 46))):
            cls = int(rng.choice(CLASSES))
            k = next_index.get(cls, 0)
            next_index[cls] = k + 1
            size = rng.uniform(8, 160) * (2.0 if cls in (27, 28, 31) else 1.0)
            tall = 2.2 if cls in (24, 25) else 0.8
            cv2.fillPoly(ids, [_blob(rng, rng.uniform(0, 2048), rng.uniform(380, 800), size, size * tall)],
                         cls * 1000 + k)
        if rng.uniform() < 0.25:                                       # a crowd group
            cv2.fillPoly(ids, [_blob(rng, rng.uniform(0, 2048), 520, 150, 60)], int(rng.choice((24, 26))))
        cv2.fillPoly(ids, [_blob(rng, 1024, 1024, 900, 110)], 1)       # ego vehicle
        gt = root / "gtFine" / "train" / city
        img = root / "leftImg8bit" / "train" / city
        gt.mkdir(parents=True, exist_ok=True)
        img.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(gt / f"{stem}_gtFine_instanceIds.png"), ids)
        cv2.imwrite(str(img / f"{stem}_leftImg8bit.png"), placeholder)
    meta_path.write_text(json.dumps(meta))


# --------------------------------------------------------------------------- the plain mmdetection-style loop


EVALUATED = {24: "person", 25: "rider", 26: "car", 27: "truck", 28: "bus", 31: "train", 32: "motorcycle",
             33: "bicycle"}
HAS_INSTANCES = set(EVALUATED) | {29, 30}
KNOWN_IDS = set(range(0, 34))


def plain_frame(img_file: str, img_dir: str, gt_dir: str) -> dict:
    """One frame as mmdetection's ``load_img_info`` computes it (one full-image mask per instance)."""
    import cv2
    import numpy as np
    import pycocotools.mask as mask_utils

    suffix = "leftImg8bit.png"
    inst_file = gt_dir + img_file[len(img_dir):-len(suffix)] + "gtFine_instanceIds.png"
    segm_file = gt_dir + img_file[len(img_dir):-len(suffix)] + "gtFine_labelIds.png"
    ids = cv2.imread(inst_file, cv2.IMREAD_UNCHANGED)
    annotations = []
    for value in np.unique(ids[ids >= 24]):
        label = int(value) // 1000 if value >= 1000 else int(value)
        if label not in KNOWN_IDS:
            raise KeyError(label)
        if label not in EVALUATED:
            continue
        mask = np.asarray(ids == value, dtype=np.uint8, order="F")
        rle = mask_utils.encode(mask[:, :, None])[0]
        area, bbox = mask_utils.area(rle), mask_utils.toBbox(rle)
        rle["counts"] = rle["counts"].decode()
        annotations.append(dict(iscrowd=int(value < 1000), category_id=label, bbox=bbox.tolist(),
                                area=area.tolist(), segmentation=rle))
    city = os.path.basename(os.path.dirname(img_file))
    return dict(file_name=os.path.join(city, os.path.basename(img_file)), height=ids.shape[0], width=ids.shape[1],
                anno_info=annotations, segm_file=os.path.join(city, os.path.basename(segm_file)))


def plain_convert(root: Path, out: Path) -> int:
    img_dir, gt_dir = str(root / "leftImg8bit" / "train"), str(root / "gtFine" / "train")
    files = sorted(glob.glob(os.path.join(img_dir, "**/*.png")))   # sorted: glob order is file-system order
    coco = {"images": [], "categories": [], "annotations": []}
    for image_id, img_file in enumerate(files):
        info = plain_frame(img_file, img_dir, gt_dir)
        info["id"] = image_id
        for ann in info.pop("anno_info"):
            ann["image_id"] = image_id
            ann["id"] = len(coco["annotations"])
            coco["annotations"].append(ann)
        coco["images"].append(info)
    coco["categories"] = [{"id": k, "name": v} for k, v in EVALUATED.items()]
    if not coco["annotations"]:
        coco.pop("annotations")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(coco))
    return len(coco.get("annotations", []))


# --------------------------------------------------------------------------- children and runner


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def child(mode: str, root: str, out: str, workers: int) -> int:
    out_json = Path(out) / "instancesonly_filtered_gtFine_train.json"
    if mode == "plain":
        import importlib

        for module in ("cv2", "numpy", "pycocotools.mask"):   # imports outside the timed part, as for ours
            importlib.import_module(module)

        cpu0, t0 = _cpu(), time.perf_counter()
        n = plain_convert(Path(root), out_json)
    elif mode == "read":
        import cv2

        cpu0, t0 = _cpu(), time.perf_counter()
        n = sum(cv2.imread(p, cv2.IMREAD_UNCHANGED).size > 0
                for p in sorted(glob.glob(os.path.join(root, "gtFine", "train", "*", "*_instanceIds.png"))))
    else:
        from converters.cityscapes import CityscapesOptions, save_coco_from_cityscapes

        cpu0, t0 = _cpu(), time.perf_counter()
        conv = save_coco_from_cityscapes(root, out, CityscapesOptions(splits=("train",), mmdet_compat=True,
                                                                      workers=workers))
        n = conv.summaries["train"].annotations
    print(json.dumps({"convert_s": time.perf_counter() - t0, "cpu_s": _cpu() - cpu0, "count": n}))
    return 0


def main(argv: Sequence[str] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", choices=["ours", "plain", "read", "generate"], help=argparse.SUPPRESS)
    ap.add_argument("--src", help=argparse.SUPPRESS)
    ap.add_argument("--dst", help=argparse.SUPPRESS)
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", default="1,2", help="worker counts of ours to time, comma-separated")
    ap.add_argument("--data", type=Path, default=HERE / "_data" / "cityscapes")
    ap.add_argument("--out", type=Path, default=HERE / "_out" / "cityscapes")
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args(argv)
    if args.child == "generate":
        generate(Path(args.src), args.images, args.seed)
        return 0
    if args.child:
        return child(args.child, args.src, args.dst, int(args.workers.split(",")[0]))

    from run import child_env, generate_in_child, last_json_value, measure  # same folder

    src = args.data / f"images{args.images}-seed{args.seed}"
    print(f"generating/reusing {src}", file=sys.stderr)
    if not generate_in_child(Path(__file__), ["--src", src, "--images", args.images, "--seed", args.seed], REPO):
        return 1
    runs: List[Tuple[str, List[str]]] = [("read only (cv2.imread of every map)", ["--child", "read"]),
                                         ("plain mmdetection-style, 1 process", ["--child", "plain"])]
    runs += [(f"ours, workers={w}", ["--child", "ours", "--workers", w]) for w in args.workers.split(",") if w]
    rows, outputs = [], {}
    env = child_env(REPO)
    for label, extra in runs:
        dst = args.out / "json" / label.split(",")[0].split(" ")[0] / "".join(c for c in label if c.isdigit())
        shutil.rmtree(dst, ignore_errors=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), *extra, "--src", str(src), "--dst", str(dst)]
        print(f"running {label}", file=sys.stderr)
        m = measure(cmd, REPO, env, args.timeout)
        res = last_json_value(m.stdout) if m.returncode == 0 and not m.timed_out else None
        if res is None:
            print(m.stderr[-3000:], file=sys.stderr)
        out_json = dst / "instancesonly_filtered_gtFine_train.json"
        outputs[label] = out_json.read_bytes() if out_json.exists() else None
        rows.append({"tool": label, "ok": res is not None, "wall_s": m.wall_s, "load_before": os.getloadavg()[0],
                     "convert_s": res["convert_s"] if res else None, "cpu_s": res["cpu_s"] if res else None,
                     "peak_rss_mib": m.rss_mib,
                     "annotations": res["count"] if res and extra[1] != "read" else None})
    plain = outputs[runs[1][0]]
    base = next(r["convert_s"] for r in rows if r["tool"] == runs[1][0])
    for row in rows:
        row["images_per_s"] = args.images / row["convert_s"] if row["convert_s"] else None
        row["speedup_vs_plain"] = base / row["convert_s"] if row["convert_s"] and base else None
        row["same_bytes_as_plain"] = (outputs[row["tool"]] == plain) if outputs[row["tool"]] is not None else None
    head = (f"{args.images} generated 2048x1024 instanceIds maps, train split; "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    lines = [head, "", "| tool | convert s | images/s | x plain | CPU s | wall s | peak RSS MiB | annotations | "
                       "same bytes |", "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        f = lambda v, fmt: "-" if v is None else format(v, fmt)
        lines.append(f"| {r['tool']} | {f(r['convert_s'], '.1f')} | {f(r['images_per_s'], '.1f')} | "
                     f"{f(r['speedup_vs_plain'], '.2f')} | {f(r['cpu_s'], '.1f')} | {r['wall_s']:.1f} | {r['peak_rss_mib']:.0f} | "
                     f"{f(r['annotations'], 'd')} | {f(r['same_bytes_as_plain'], '')} |")
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(text + "\n")
    (args.out / "results.json").write_text(json.dumps({"header": head, "rows": rows}, indent=2))
    ok = all(r["ok"] for r in rows) and all(r["same_bytes_as_plain"] for r in rows if r["tool"].startswith("ours"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
