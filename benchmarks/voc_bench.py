"""Benchmark PASCAL VOC mAP at VOC2007-test scale: ours against the plain-numpy ``voc_eval``.

The reference is ``tests/vocref.py``: the VOC devkit's Python port as py-faster-rcnn and detectron2 run it
(XML parsed once per image, then one ``voc_eval`` per class: a Python loop over the class's detections
with numpy IoUs against the image's GT), with a stable sort. Ours is ``evaluators.evaluate(...,
protocol=P)`` on the same files: the VOCdevkit folder + ``comp4_det_test_<class>.txt`` files (``folder``),
or the ``coco-from-voc`` JSON + a COCO results JSON (``json``). Each run is a fresh process (wall time and
peak RSS of that child from ``os.wait4``, as ``run.py``), and every per-class AP is compared with the
reference's.

Data (seeded, under ``benchmarks/_data/voc-seed{S}-images{N}-dets{D}/``, generated when missing): N images
(default 4,952, VOC2007 test) of 300-500 px with 1-5 objects each (about 12k; person-heavy class mix as in
VOC, 13% difficult), and D detections per image (default 300): jittered copies of the GT (3-8 each) with
high scores, the rest background boxes of random classes with low scores. Detection boxes are made in
COCO space (2 decimals); the comp4 corners are ``x + 1, y + 1, x + w, y + h`` written with ``repr``, so
both inputs hold the same boxes.

Examples::

    python benchmarks/voc_bench.py                                  # 4,952 images, voc07, folder + json
    python benchmarks/voc_bench.py --images 500 --inputs folder     # quick check
    python benchmarks/voc_bench.py --protocol voc12 --repeat 3

``python benchmarks/voc_bench.py --child reference|ours ...`` is one timed run (started by the runner).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from run import child_env, generate_in_child, last_json_value, measure  # noqa: E402  (same folder: the COCO runner's process measurement)

CLASS_WEIGHTS = {"person": 8.0, "car": 2.0, "chair": 1.5, "dog": 1.0, "bird": 1.0, "bottle": 1.0, "cat": 0.8,
                 "pottedplant": 1.0, "horse": 0.8, "sheep": 0.8, "boat": 0.8, "bicycle": 0.8, "motorbike": 0.8,
                 "tvmonitor": 0.7, "cow": 0.7, "aeroplane": 0.6, "sofa": 0.5, "diningtable": 0.5, "train": 0.5,
                 "bus": 0.4}


# --------------------------------------------------------------------------- data


def data_dir(root: Path, seed: int, images: int, dets: int) -> Path:
    return root / f"voc-seed{seed}-images{images}-dets{dets}"


def generate(out: Path, seed: int, n_images: int, per_image: int) -> dict:
    """Write VOCdevkit/VOC2007 (Annotations, ImageSets/Main/test.txt), det/comp4_det_test_<cls>.txt,
    annotations/voc07_test.json (coco-from-voc) and results.json (COCO results)."""
    import numpy as np
    import orjson

    sys.path.insert(0, str(REPO))
    from converters.voc import VocConvertOptions, convert_voc
    from evaluators.data.voc import VOC_CLASSES

    rng = np.random.default_rng(seed)
    weights = np.asarray([CLASS_WEIGHTS[c] for c in VOC_CLASSES])
    weights /= weights.sum()
    base = out / "VOCdevkit" / "VOC2007"
    (base / "Annotations").mkdir(parents=True, exist_ok=True)
    (base / "ImageSets" / "Main").mkdir(parents=True, exist_ok=True)
    names = [f"{k:06d}" for k in range(1, n_images + 1)]
    per_class: Dict[str, List[str]] = {c: [] for c in VOC_CLASSES}
    results = []
    n_obj = 0
    for img_id, name in enumerate(names, 1):
        w, h = int(rng.integers(300, 501)), int(rng.integers(300, 501))
        objects = []
        for _ in range(int(rng.integers(1, 6)) if rng.random() < 0.85 else 1):
            cls = VOC_CLASSES[int(rng.choice(20, p=weights))]
            bw, bh = int(rng.integers(8, w // 2)), int(rng.integers(8, h // 2))
            x1, y1 = int(rng.integers(1, w - bw)), int(rng.integers(1, h - bh))
            objects.append((cls, x1, y1, x1 + bw, y1 + bh, int(rng.random() < 0.13)))
        n_obj += len(objects)
        xml = [f"<annotation><folder>VOC2007</folder><filename>{name}.jpg</filename><size><width>{w}</width>"
               f"<height>{h}</height><depth>3</depth></size><segmented>0</segmented>"]
        for cls, x1, y1, x2, y2, d in objects:
            xml.append(f"<object><name>{cls}</name><pose>Unspecified</pose><truncated>0</truncated>"
                       f"<difficult>{d}</difficult><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax>"
                       f"<ymax>{y2}</ymax></bndbox></object>")
        (base / "Annotations" / f"{name}.xml").write_text("".join(xml) + "</annotation>\n")
        # jittered copies of each GT (3-8 each, high scores, 90% the right class), then background boxes
        gt = np.asarray([(x1 - 1, y1 - 1, x2 - x1 + 1, y2 - y1 + 1) for _, x1, y1, x2, y2, _ in objects], float)
        reps = rng.integers(3, 9, len(objects))
        src = np.repeat(np.arange(len(objects)), reps)
        g = gt[src]
        near = np.stack([g[:, 0] + rng.normal(0, 1, src.size) * 0.08 * g[:, 2],
                         g[:, 1] + rng.normal(0, 1, src.size) * 0.08 * g[:, 3],
                         g[:, 2] * rng.uniform(0.75, 1.25, src.size), g[:, 3] * rng.uniform(0.75, 1.25, src.size)], 1)
        near_cls = np.asarray([VOC_CLASSES.index(objects[k][0]) for k in src], int)
        wrong = rng.random(src.size) >= 0.9
        near_cls[wrong] = rng.integers(0, 20, int(wrong.sum()))
        n_bg = max(0, per_image - src.size)
        bw, bh = rng.uniform(8, w / 2, n_bg), rng.uniform(8, h / 2, n_bg)
        bg = np.stack([rng.uniform(0, 1, n_bg) * (w - bw), rng.uniform(0, 1, n_bg) * (h - bh), bw, bh], 1)
        boxes = np.round(np.concatenate([near, bg])[:per_image], 2)
        scores = np.round(np.concatenate([rng.uniform(0.3, 1.0, src.size), rng.uniform(0.0, 0.5, n_bg)])[:per_image], 6)
        classes = np.concatenate([near_cls, rng.choice(20, n_bg, p=weights)])[:per_image]
        for (x, y, bw_, bh_), sc, k in zip(boxes.tolist(), scores.tolist(), classes.tolist()):
            per_class[VOC_CLASSES[k]].append(f"{name} {sc!r} {x + 1.0!r} {y + 1.0!r} {x + bw_!r} {y + bh_!r}\n")
            results.append({"image_id": img_id, "category_id": k + 1, "bbox": [x, y, bw_, bh_], "score": sc})
    (base / "ImageSets" / "Main" / "test.txt").write_text("".join(f"{n}\n" for n in names))
    (out / "det").mkdir(exist_ok=True)
    for cls, lines in per_class.items():
        (out / "det" / f"comp4_det_test_{cls}.txt").write_text("".join(lines))
    (out / "results.json").write_bytes(orjson.dumps(results))
    convert_voc(out / "VOCdevkit", out / "annotations", VocConvertOptions(splits=("test",)))
    meta = {"seed": seed, "images": n_images, "objects": n_obj, "detections": len(results)}
    (out / "meta.json").write_text(json.dumps(meta))
    return meta


# --------------------------------------------------------------------------- children


def child_reference(data: str, protocol: str) -> None:
    """The plain-numpy voc_eval on the folder and the comp4 files, one class after the other."""
    started = time.perf_counter()
    sys.path.insert(0, str(REPO / "tests"))
    import numpy as np

    import vocref
    from evaluators.data.voc import VOC_CLASSES

    base = Path(data) / "VOCdevkit" / "VOC2007"
    recs = vocref.read_recs(str(base / "Annotations" / "{}.xml"), base / "ImageSets" / "Main" / "test.txt")
    parsed = time.perf_counter()
    aps = {}
    for cls in VOC_CLASSES:
        aps[cls] = vocref.voc_eval_files(str(Path(data) / "det" / "comp4_det_test_{}.txt"), "", "", cls, 0.5,
                                         protocol == "voc07", recs=recs)[2]
    done = time.perf_counter()
    print(json.dumps({"mAP": float(np.mean(list(aps.values()))), "AP": aps,
                      "timings_s": {"parse_xml": round(parsed - started, 3), "voc_eval": round(done - parsed, 3)}}))


def child_ours(data: str, protocol: str, inputs: str, threads: str, device: str = "cpu") -> None:
    """Our evaluation as a user calls it; the result JSON goes on the last stdout line."""
    started = time.perf_counter()
    sys.path.insert(0, str(REPO))
    from evaluators import evaluate

    imported = time.perf_counter()
    if inputs == "folder":
        r = evaluate(str(Path(data) / "VOCdevkit" / "VOC2007"), str(Path(data) / "det"), protocol=protocol,
                     imageset="test", device=device, workers=int(threads) or None)
    else:
        r = evaluate(str(Path(data) / "annotations" / "voc07_test.json"), str(Path(data) / "results.json"),
                     protocol=protocol, device=device, workers=int(threads) or None)
    done = time.perf_counter()
    print(json.dumps({"mAP": r.stats["mAP"], "AP": {row["name"]: row["AP"] for row in r.per_class_rows},
                      "timings_s": {"import": round(imported - started, 3), "evaluate": round(done - imported, 3),
                                    **r.info.get("timings_s", {})}}))
    sys.stdout.flush()
    os._exit(0)  # as the `evaluate` command ends: no teardown of the parsed tables


# --------------------------------------------------------------------------- runner


def run(label: str, cmd: List[str], repeat: int, timeout: float) -> dict:
    walls, rss, out = [], [], None
    for _ in range(repeat):
        m = measure(cmd, REPO, child_env(REPO), timeout)
        if m.returncode != 0:
            raise SystemExit(f"{label} failed ({m.returncode}):\n{m.stderr[-3000:]}")
        walls.append(m.wall_s)
        rss.append(m.rss_mib)
        out = last_json_value(m.stdout, dict)
        print(f"[voc_bench] {label}: {m.wall_s:.2f} s, {m.rss_mib:.0f} MiB, timings {out['timings_s']}", file=sys.stderr)
    return {"label": label, "wall": statistics.median(walls), "rss": max(rss), "result": out}


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        if argv[1] == "reference":
            child_reference(*argv[2:])
        elif argv[1] == "generate":
            out, seed, images, dets = argv[2:]
            generate(Path(out), int(seed), int(images), int(dets))
        else:
            child_ours(*argv[2:])
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=4952)
    p.add_argument("--dets", type=int, default=300, help="detections per image")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--protocol", choices=("voc07", "voc12"), default="voc07")
    p.add_argument("--inputs", default="folder,json", help="our inputs: folder (XML + comp4), json (COCO)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for ours (0: the default)")
    p.add_argument("--device", default="numpy,cpu", help="devices for ours: comma list of numpy, cpu, cuda")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--data", type=Path, default=HERE / "_data")
    p.add_argument("--no-reference", action="store_true")
    args = p.parse_args(argv)
    data = data_dir(args.data, args.seed, args.images, args.dets)
    if not (data / "meta.json").is_file():
        started = time.perf_counter()
        if not generate_in_child(Path(__file__), [data, args.seed, args.images, args.dets], REPO):
            return 1
        print(f"[voc_bench] generated {data} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    meta = json.loads((data / "meta.json").read_text())
    me = [sys.executable, str(Path(__file__).resolve()), "--child"]
    rows = []
    if not args.no_reference:
        rows.append(run("plain-numpy voc_eval (folder + comp4)", me + ["reference", str(data), args.protocol],
                        args.repeat, args.timeout))
    for inputs in [s for s in args.inputs.split(",") if s]:
        what = "folder + comp4" if inputs == "folder" else "COCO JSON + results"
        for device in [d for d in args.device.split(",") if d]:
            rows.append(run(f"ours[{device}] ({what})",
                            me + ["ours", str(data), args.protocol, inputs, str(args.threads), device],
                            args.repeat, args.timeout))
    ref = rows[0]["result"] if not args.no_reference else None
    lines = [f"PASCAL VOC {args.protocol} mAP@0.5: {meta['images']} images, {meta['objects']} objects, "
             f"{meta['detections']} detections (seed {meta['seed']}); {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}; wall = whole process, median of {args.repeat}",
             "", "| tool | wall s | peak RSS MiB | speedup | mAP | max \\|ΔAP\\| vs reference |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        speed = f"{rows[0]['wall'] / r['wall']:.1f}x" if ref else "-"
        diff = max(abs(r["result"]["AP"][c] - ref["AP"][c]) for c in ref["AP"]) if ref else float("nan")
        lines.append(f"| {r['label']} | {r['wall']:.2f} | {r['rss']:.0f} | {speed} | {r['result']['mAP']:.6f} | {diff:.1e} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
