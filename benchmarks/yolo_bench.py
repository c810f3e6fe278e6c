"""Benchmark ``dataprep coco-from-yolo`` (``converters.yolo.save_coco_from_yolo``) on a large YOLO dataset.

Synthetic data (seeded, generated once into ``benchmarks/_data/yolo/``): ``--images`` JPEG files in the
ultralytics layout (``images/train2017/<12 digits>.jpg``, ``labels/train2017/*.txt``, ``data.yaml`` with the 80
COCO names). Each image is an 8x8 JPEG whose SOF header is patched to a random size (320..1280 px), so the
header says a realistic size while the file stays ~0.7 KB; 5 % carry EXIF orientation 6. Labels: 0..15 COCO-like
boxes per image (mean 7.5, 6-significant-digit ``%g`` numbers as ultralytics writes them); 3 % of the images
have no label file. Only headers are read by the converter, so these files exercise exactly its real work.

Each run is a fresh process (wall time via ``os.wait4``). The child reports the conversion time after its
imports (``images/s`` is computed from it), its own peak RSS and the largest peak RSS of its worker processes
(``resource.getrusage``), and the CPU seconds of itself and its workers: ``images per CPU-second`` is what
one fully available core gives, which a loaded machine changes little. Importing ``converters`` imports
``evaluators`` and with it torch (~4 s and ~250 MiB of the RSS figures); the process wall column includes that.

* ``ours wN``: ``save_coco_from_yolo(root, out, CocoFromYoloOptions(workers=N))`` (whole job: listing,
  headers, labels, COCO JSON written);
* ``plain``: the sequential script most people write (sorted glob of the images, ``PIL.Image.open(p).size``
  without EXIF, the label file split into floats, ids 1..N, ``json.dump``).

The table (markdown) is printed and written with the raw numbers to ``benchmarks/_out/yolo/``.

    python benchmarks/yolo_bench.py                         # 100,000 images, workers 1 and 2, plain
    python benchmarks/yolo_bench.py --images 5000 --no-plain
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import sys
import time
from pathlib import Path
from typing import List, Sequence, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))


# --------------------------------------------------------------------------- data


def _templates() -> Tuple[bytes, int, bytes, int]:
    """Two 8x8 JPEGs (plain, EXIF orientation 6) and the offsets of their SOF height field."""
    import io

    from PIL import Image

    out = []
    for orientation in (0, 6):
        buf = io.BytesIO()
        kw = {}
        if orientation:
            exif = Image.Exif()
            exif[0x0112] = orientation
            kw["exif"] = exif
        Image.new("RGB", (8, 8), (90, 120, 150)).save(buf, "JPEG", quality=50, **kw)
        data = buf.getvalue()
        sof = data.index(b"\xff\xc0")
        out += [data, sof + 5]  # marker(2) length(2) precision(1) -> height(2) width(2)
    return out[0], out[1], out[2], out[3]


def generate(root: Path, images: int, seed: int) -> None:
    """Write the dataset (skipped when ``root/.complete`` exists)."""
    if (root / ".complete").exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    from converters.yolo import COCO80_NAMES

    rng = random.Random(seed)
    plain, plain_at, rotated, rotated_at = _templates()
    img_dir, lab_dir = root / "images" / "train2017", root / "labels" / "train2017"
    img_dir.mkdir(parents=True)
    lab_dir.mkdir(parents=True)
    started = time.perf_counter()
    for k in range(images):
        stem = f"{k * 3 + 1:012d}"
        w, h = rng.randint(320, 1280), rng.randint(320, 1280)
        data, at = (rotated, rotated_at) if rng.random() < 0.05 else (plain, plain_at)
        buf = bytearray(data)
        buf[at:at + 4] = bytes([h >> 8, h & 255, w >> 8, w & 255])
        with open(img_dir / f"{stem}.jpg", "wb") as fh:
            fh.write(buf)
        if rng.random() < 0.03:
            continue
        lines = []
        for _ in range(rng.randint(0, 15)):
            bw, bh = rng.uniform(0.01, 0.9), rng.uniform(0.01, 0.9)
            cx, cy = rng.uniform(bw / 2, 1 - bw / 2), rng.uniform(bh / 2, 1 - bh / 2)
            lines.append("%g %g %g %g %g\n" % (rng.randrange(80), cx, cy, bw, bh))
        with open(lab_dir / f"{stem}.txt", "w") as fh:
            fh.write("".join(lines))
    (root / "data.yaml").write_text("path: .\ntrain: images/train2017\nval: images/train2017\nnames:\n"
                                    + "".join(f"  {i}: {n}\n" for i, n in enumerate(COCO80_NAMES)))
    (root / ".complete").write_text(json.dumps({"images": images, "seed": seed}))
    print(f"generated {images} images in {time.perf_counter() - started:.1f} s", file=sys.stderr)


# --------------------------------------------------------------------------- the plain script


def plain_convert(root: Path, out: Path) -> Tuple[int, int]:
    """A typical hand-written YOLO->COCO script (sequential, PIL header size without EXIF, stdlib json)."""
    import glob

    from PIL import Image

    import yaml

    names = yaml.safe_load((root / "data.yaml").read_text())["names"]
    images, anns = [], []
    for i, path in enumerate(sorted(glob.glob(str(root / "images" / "train2017" / "*.jpg"))), 1):
        with Image.open(path) as im:
            w, h = im.size
        images.append({"id": i, "file_name": os.path.basename(path), "width": w, "height": h})
        label = path.replace("/images/", "/labels/").rsplit(".", 1)[0] + ".txt"
        if not os.path.exists(label):
            continue
        with open(label) as fh:
            for line in fh:
                v = line.split()
                if len(v) != 5:
                    continue
                c, cx, cy, bw, bh = int(v[0]), *map(float, v[1:])
                box = [(cx - bw / 2) * w, (cy - bh / 2) * h, bw * w, bh * h]
                anns.append({"id": len(anns) + 1, "image_id": i, "category_id": c + 1, "bbox": box,
                             "area": box[2] * box[3], "iscrowd": 0, "segmentation": []})
    coco = {"images": images, "annotations": anns,
            "categories": [{"id": k + 1, "name": n} for k, n in sorted(names.items())]}
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "instances_train2017.json", "w") as fh:
        json.dump(coco, fh)
    return len(images), len(anns)


# --------------------------------------------------------------------------- children and runner


def child(mode: str, src: str, dst: str, workers: int) -> int:
    import resource

    def cpu() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    if mode == "plain":
        cpu0 = cpu()
        started = time.perf_counter()
        n_img, n_ann = plain_convert(Path(src), Path(dst))
    else:
        from converters.yolo import CocoFromYoloOptions, save_coco_from_yolo

        cpu0 = cpu()
        started = time.perf_counter()  # after the imports (evaluators/__init__ imports torch: ~4 s, ~250 MB)
        (s,) = save_coco_from_yolo(src, dst, CocoFromYoloOptions(workers=workers))
        n_img, n_ann = s.images, s.annotations
    convert_s = time.perf_counter() - started
    out = Path(dst) / "instances_train2017.json"
    cpu_s = cpu() - cpu0
    print(json.dumps({"images": n_img, "annotations": n_ann, "convert_s": convert_s, "cpu_s": cpu_s,
                      "main_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "worker_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                      "sha1": hashlib.sha1(out.read_bytes()).hexdigest()}))
    return 0


def main(argv: Sequence[str] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", choices=["ours", "plain", "generate"], help=argparse.SUPPRESS)
    ap.add_argument("--src", help=argparse.SUPPRESS)
    ap.add_argument("--dst", help=argparse.SUPPRESS)
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", default="1,2", help="worker counts to time, comma-separated")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain sequential script")
    ap.add_argument("--data", type=Path, default=HERE / "_data" / "yolo")
    ap.add_argument("--out", type=Path, default=HERE / "_out" / "yolo")
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
    env = child_env(REPO)
    if not generate_in_child(Path(__file__), ["--src", src, "--images", args.images, "--seed", args.seed], REPO):
        return 1
    runs: List[Tuple[str, int, List[str]]] = [
        (f"ours workers={w}", int(w), ["--child", "ours", "--workers", w]) for w in args.workers.split(",") if w]
    if not args.no_plain:
        runs.append(("plain sequential script", 1, ["--child", "plain"]))
    rows = []
    for label, workers, extra in runs:
        dst = args.out / label.replace(" ", "_").replace("=", "")
        shutil.rmtree(dst, ignore_errors=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), *extra, "--src", str(src), "--dst", str(dst)]
        print(f"running {label}", file=sys.stderr)
        m = measure(cmd, REPO, env, args.timeout)
        ok = m.returncode == 0 and not m.timed_out
        info = (last_json_value(m.stdout, dict) or {}) if ok else {}
        if not ok:
            print(m.stderr[-3000:], file=sys.stderr)
        conv = info.get("convert_s")
        rows.append({"tool": label, "ok": ok, "workers": workers, "wall_s": m.wall_s,
                     "images_per_s": args.images / conv if ok else None,
                     "images_per_s_per_worker": args.images / conv / workers if ok else None,
                     "peak_rss_mib": m.rss_mib, **info})
        shutil.rmtree(dst, ignore_errors=True)
    ours = [r for r in rows if r["tool"].startswith("ours") and r["ok"]]
    same = len({r["sha1"] for r in ours}) == 1 if ours else None
    head = (f"{args.images} images (8x8 JPEGs with patched 320..1280 px headers, 5 % EXIF-rotated), "
            f"{ours[0]['annotations'] if ours else '?'} boxes; {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}; ours byte-identical across worker counts: {same}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    head += f"; load average at the end {load:.1f}"
    lines = [head, "", "| tool | conversion s | process wall s | images/s | images/s per worker | "
             "images per CPU-second | peak RSS MiB main (workers) | annotations |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if not r["ok"]:
            lines.append(f"| {r['tool']} | failed | | | | | | |")
            continue
        rss = f"{r['main_rss_mib']:.0f}" + (f" ({r['worker_rss_mib']:.0f} each)" if r["workers"] > 1 else "")
        lines.append(f"| {r['tool']} | {r['convert_s']:.1f} | {r['wall_s']:.1f} | {r['images_per_s']:.0f} | "
                     f"{r['images_per_s_per_worker']:.0f} | {args.images / r['cpu_s']:.0f} | {rss} | "
                     f"{r['annotations']} |")
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(text + "\n")
    (args.out / "results.json").write_text(json.dumps({"header": head, "rows": rows}, indent=2))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
