"""Benchmark rotated DOTA Task1 evaluation and tile merging: ours vs a devkit-style reference.

Two tasks, each tool in a fresh process (wall time and peak RSS from ``os.wait4``, as ``run.py``):

* ``eval``: DOTA-v1.0 Task1 mAP (polygon IoU > 0.5, difficult ignored, 11-point AP, mean over the 15
  classes) of the whole-image detections ``task1/`` against ``labelTxt/``. The reference is
  ``dota_reference.py eval`` (devkit-style loops with shapely); ours is ``evaluators.evaluate(...,
  metric="rotated", protocol="dota-v1.0", eval_mode="11points", device=D)``. Checks |ΔmAP| and the
  largest per-class |ΔAP| against the reference (should be <= 1e-9).
* ``merge``: tile-level detections ``task1_tiles/`` (mmrotate names ``P0003__1024__824___0``) merged to
  whole images with polygon NMS > 0.1. The reference is ``dota_reference.py merge`` (devkit-style
  greedy loop with shapely); ours is ``dataprep.dota_merge.merge_folder(..., nms_iou=0.1, nms="poly",
  classes=(), make_zip=False, device=D)``. Checks the kept counts per class and compares the merged
  files line by line with the reference's.

Data comes from ``generate_dota.py`` into ``--data/seed{S}-images{N}-dets{D}/`` (generated when missing).
The table goes to stdout and ``--out/results.md``; raw numbers to ``--out/results.json``.

Examples::

    python benchmarks/run_dota.py                              # 458 images, both tasks, reference + ours
    python benchmarks/run_dota.py --images 20                  # quick check
    python benchmarks/run_dota.py --tasks eval --tools ours --device cpu,cuda --repeat 3

``python benchmarks/run_dota.py --child ours-eval|ours-merge ...`` is the timed child of our tools
(started by the runner itself).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import Result as BaseResult  # noqa: E402  (same folder: the COCO runner's record)

REPO = HERE.parent
TASKS = ("eval", "merge")
TOOLS = ("reference", "ours")
AGREE_TOL = 1e-9
Stats = Dict[str, object]


# --------------------------------------------------------------------------- children (ours)


def child_ours_eval(gt: str, task1: str, device: str, threads: str = "0") -> int:
    """Our rotated evaluation as a user would call it; the result JSON goes on the last stdout line.
    ``threads`` > 0 is passed as ``workers`` (torch CPU threads); 0 keeps torch's default."""
    started = time.perf_counter()
    from evaluators import evaluate

    imported = time.perf_counter()
    r = evaluate(gt, task1, metric="rotated", protocol="dota-v1.0", eval_mode="11points", device=device,
                 workers=int(threads) or None)
    done = time.perf_counter()
    print(r.summary())
    sys.stdout.flush()
    print(json.dumps({
        "mAP": float(r.stats["mAP"]), "AP": {row["name"]: float(row["AP"]) for row in r.per_class_rows},
        "import_s": round(imported - started, 3), "evaluate_s": round(done - imported, 3),
        "timings_s": r.info.get("timings_s", {}),
    }))
    sys.stdout.flush()
    os._exit(0)  # as the `evaluate` command ends: no teardown of the parsed tables


def child_ours_merge(src: str, out: str, device: str, threads: str = "0") -> int:
    """Our merge as a user would call it; the summary JSON goes on the last stdout line.
    ``threads`` > 0 sets torch's CPU threads first (as ``dataprep dota-merge --workers``)."""
    started = time.perf_counter()
    from dataprep.dota_merge import merge_folder

    if int(threads):
        import torch

        torch.set_num_threads(int(threads))
    imported = time.perf_counter()
    Path(out).mkdir(parents=True, exist_ok=True)
    s = merge_folder(Path(src), Path(out), nms_iou=0.1, nms="poly", classes=(), make_zip=False, device=device)
    done = time.perf_counter()
    print(s.line())
    sys.stdout.flush()
    print(json.dumps({
        "detections_in": s.detections_in, "detections_out": s.detections_out,
        "per_class": {k: v[1] for k, v in s.per_class.items()},
        "import_s": round(imported - started, 3), "merge_s": round(done - imported, 3),
    }))
    return 0


# --------------------------------------------------------------------------- records


@dataclass
class Result(BaseResult):
    """All repeats of one tool on one task, plus its agreement with the reference."""

    check: Dict[str, object] = field(default_factory=dict)


def last_json(stdout: str) -> Optional[dict]:
    """The JSON object a child prints on its last non-empty line, or None."""
    from run import last_json_value  # same folder

    return last_json_value(stdout, dict)


# --------------------------------------------------------------------------- runs


def cuda_available() -> bool:
    """Whether torch in a child process sees a CUDA GPU (the runner itself does not import torch)."""
    probe = "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


def labels_for(tools: Sequence[str], devices: Sequence[str]) -> List[str]:
    """``reference`` first, then ``ours[numpy]``, ``ours[cpu]``, ``ours[cuda]`` (those asked for)."""
    labels = ["reference"] if "reference" in tools else []
    if "ours" in tools:
        labels += [f"ours[{d}]" for d in devices]
    return labels


def command(label: str, task: str, data: Path, merged: Path, threads: int = 0) -> List[str]:
    """The child command line of one tool on one task."""
    if label == "reference":
        args = ["eval", str(data / "labelTxt"), str(data / "task1")] if task == "eval" else \
            ["merge", str(data / "task1_tiles"), str(merged)]
        return [sys.executable, str(HERE / "dota_reference.py"), *args]
    device = label[len("ours["):-1]
    args = [str(data / "labelTxt"), str(data / "task1")] if task == "eval" else [str(data / "task1_tiles"), str(merged)]
    return [sys.executable, str(HERE / "run_dota.py"), "--child", f"ours-{task}", *args, device, str(threads)]


def run_task(task: str, labels: Sequence[str], data: Path, out: Path, repeat: int, timeout: Optional[float],
             threads: int = 0) -> List[Result]:
    """``repeat`` rounds of every tool on one task, interleaved (reference, ours, reference, ours, ...) so
    that a drifting machine load hits every tool alike; a tool stops at its first failure."""
    from run import child_env, log, measure, tail  # same folder: the COCO runner's process timing

    results = {label: Result(task=task, tool=label) for label in labels}
    for i in range(repeat):
        for label in labels:
            result = results[label]
            if result.status == "failed":
                continue
            merged = out / "merged" / label.replace("[", "-").replace("]", "")
            env = child_env(REPO) if label.startswith("ours") else child_env()
            if task == "merge":
                shutil.rmtree(merged, ignore_errors=True)
            m = measure(command(label, task, data, merged, threads), REPO, env, timeout)
            stats = last_json(m.stdout) if m.returncode == 0 else None
            if m.returncode != 0 or stats is None:
                why = "timed out" if m.timed_out else f"exit code {m.returncode}" if m.returncode else "no result"
                result.status, result.note = "failed", why
                log(f"{label} on {task} failed ({why}); stderr tail:\n{tail(m.stderr) or '(empty)'}")
                continue
            result.walls.append(m.wall_s)
            result.rss.append(m.rss_mib)
            result.stats = stats
            log(f"{task:6s} {label:12s} run {i + 1}/{repeat}: {m.wall_s:8.2f} s {m.rss_mib:9.1f} MiB")
    return list(results.values())


def speedup(r: Result, ref: Optional[Result]) -> Optional[float]:
    """Median over rounds of reference wall / our wall (the runs of a round are neighbours in time);
    the ratio of the medians when the rounds do not pair up."""
    if ref is None or not r.wall:
        return None
    if len(r.walls) == len(ref.walls) and all(r.walls):
        ratios = sorted(a / b for a, b in zip(ref.walls, r.walls))
        mid = len(ratios) // 2
        return ratios[mid] if len(ratios) % 2 else (ratios[mid - 1] + ratios[mid]) / 2
    return ref.wall / r.wall


# --------------------------------------------------------------------------- agreement


def check_eval(r: Result, ref: Result) -> Dict[str, object]:
    """|ΔmAP| and the largest per-class |ΔAP| against the reference."""
    diff = abs(float(r.stats["mAP"]) - float(ref.stats["mAP"]))
    ours_ap, ref_ap = r.stats.get("AP", {}), ref.stats.get("AP", {})
    per_class = max((abs(ours_ap[c] - ref_ap[c]) for c in ref_ap if c in ours_ap), default=None)
    ok = diff <= AGREE_TOL and per_class is not None and per_class <= AGREE_TOL and set(ours_ap) == set(ref_ap)
    return {"mAP_abs_diff": diff, "max_class_ap_abs_diff": per_class, "agree": ok}


def merged_lines(folder: Path) -> Dict[str, List[str]]:
    """The lines of every ``Task1_*.txt`` in ``folder``, per file name."""
    return {p.name: p.read_text().splitlines() for p in sorted(folder.glob("Task1_*.txt"))}


def check_merge(r: Result, ref: Result, out: Path, data: Path) -> Dict[str, object]:
    """Kept counts per class, how many merged lines differ from the reference's (as multisets), and, where
    they differ, which side an exact greedy NMS with the devkit's polyiou arithmetic agrees with."""
    from collections import Counter

    counts_equal = (r.stats["detections_out"] == ref.stats["detections_out"]
                    and all(r.stats["per_class"].get(c, 0) == n for c, n in ref.stats["per_class"].items()))
    mine = merged_lines(out / "merged" / r.tool.replace("[", "-").replace("]", ""))
    theirs = merged_lines(out / "merged" / "reference")
    only_ours = only_ref = 0
    identical = True
    differing: Dict[str, set] = {}  # file -> images whose merged lines differ
    for name in sorted(set(mine) | set(theirs)):
        a, b = mine.get(name, []), theirs.get(name, [])
        identical &= a == b
        ca, cb = Counter(a), Counter(b)
        extra, missing = ca - cb, cb - ca
        only_ours += sum(extra.values())
        only_ref += sum(missing.values())
        images = {line.split(" ", 1)[0] for line in (*extra, *missing)}
        if images:
            differing[name] = images
    check = {"detections_out": r.stats["detections_out"], "reference_out": ref.stats["detections_out"],
             "counts_equal": counts_equal, "lines_only_ours": only_ours, "lines_only_reference": only_ref,
             "files_identical": identical, "agree": counts_equal and only_ours == 0 and only_ref == 0}
    if differing:
        check["arbiter"] = arbitrate(data / "task1_tiles", differing, mine, theirs)
    return check


def kept_scores(lines: List[str], image: str) -> List[str]:
    """The sorted score strings of ``image``'s merged lines (scores identify detections; copies repeat them)."""
    return sorted(ln.split(" ", 2)[1] for ln in lines if ln.split(" ", 1)[0] == image)


def exact_nms_scores(rows: List[List[float]], thresh: float = 0.1) -> List[str]:
    """Greedy NMS (descending score, ties in input order, suppress IoU > ``thresh``) with our bit-exact port
    of the devkit's polyiou (``evaluators.kernels.poly_iou.poly_iou``, the slow exact kernel, not the fast
    path the merge uses); the sorted score strings of what it keeps."""
    import numpy as np

    sys.path.insert(0, str(REPO))  # the working tree's evaluators
    import torch
    from evaluators.kernels.poly_iou import poly_iou

    d = np.array(rows, dtype=np.float64).reshape(-1, 9)
    polys = torch.as_tensor(d[:, :8])
    lo, hi = d[:, :8].reshape(-1, 4, 2).min(axis=1), d[:, :8].reshape(-1, 4, 2).max(axis=1)
    rank = np.argsort(-d[:, 8], kind="stable")
    position = np.empty_like(rank)
    position[rank] = np.arange(rank.size)
    alive = np.ones(rank.size, dtype=bool)
    kept = []
    for pos, i in enumerate(rank):
        if not alive[pos]:
            continue
        kept.append(i)
        later = rank[pos + 1:][alive[pos + 1:]]
        touch = later[(np.minimum(hi[i], hi[later]) - np.maximum(lo[i], lo[later]) > 0).all(axis=1)]
        if touch.size:
            iou = poly_iou(polys[[int(i)] * touch.size], polys[torch.as_tensor(touch)]).numpy()
            alive[position[touch[iou > thresh]]] = False
    return sorted(repr(float(d[k, 8])) for k in kept)


def arbitrate(tiles: Path, differing: Dict[str, set], mine: Dict[str, List[str]],
              theirs: Dict[str, List[str]]) -> Dict[str, object]:
    """For every (class file, image) whose merged output differs: which side keeps the detections the exact
    devkit-arithmetic NMS keeps (compared by score, so a duplicate copy that survives counts)."""
    import re

    offset = re.compile(r"__(\d+)___(\d+)")
    groups = []
    for name, images in differing.items():
        rows: Dict[str, List[List[float]]] = {img: [] for img in images}
        with open(tiles / name) as fh:
            for line in fh:
                image = line.split("__", 1)[0]
                if image in rows:
                    t = line.split()
                    x, y = (int(v) for v in offset.search(t[0]).groups())
                    shifted = [float(v) + (x if k % 2 == 0 else y) for k, v in enumerate(t[2:10])]
                    rows[image].append(shifted + [float(t[1])])
        for image in sorted(images):
            exact = exact_nms_scores(rows[image])
            groups.append({"file": name, "image": image, "exact": len(exact),
                           "ours": len(kept_scores(mine.get(name, []), image)),
                           "reference": len(kept_scores(theirs.get(name, []), image)),
                           "ours_exact": kept_scores(mine.get(name, []), image) == exact,
                           "reference_exact": kept_scores(theirs.get(name, []), image) == exact})
    return {"groups": len(groups), "ours_wrong": sum(not g["ours_exact"] for g in groups),
            "reference_wrong": sum(not g["reference_exact"] for g in groups), "details": groups}


# --------------------------------------------------------------------------- report


def fmt(value: Optional[float], spec: str) -> str:
    """``value`` formatted, or ``n/a``."""
    return "n/a" if value is None else format(value, spec)


def agreement_cell(r: Result) -> str:
    """The agreement column of one row."""
    c = r.check
    if r.tool == "reference":
        return "reference"
    if not c:
        return "n/a"
    if r.task == "eval":
        d, p = c["mAP_abs_diff"], c["max_class_ap_abs_diff"]
        return (f"{'ok' if c['agree'] else 'DIFFERS'}: mAP \\|Δ\\| {d:.1e}, max class \\|Δ\\| "
                f"{'n/a' if p is None else format(p, '.1e')}")
    same = "identical files" if c["files_identical"] else \
        f"{c['lines_only_ours']} lines only ours, {c['lines_only_reference']} only reference"
    cell = f"{'ok' if c['agree'] else 'DIFFERS'}: {c['detections_out']:,} kept vs {c['reference_out']:,}; {same}"
    if "arbiter" in c:
        a = c["arbiter"]
        cell += (f"; of {a['groups']} differing class-images, exact polyiou NMS disagrees with ours in "
                 f"{a['ours_wrong']}, with the reference in {a['reference_wrong']}")
    return cell


def result_cell(r: Result) -> str:
    """mAP or merged count of one row."""
    if not r.stats:
        return "n/a"
    return f"mAP {r.stats['mAP']:.6f}" if r.task == "eval" else \
        f"{r.stats['detections_in']:,} -> {r.stats['detections_out']:,}"


def table(results: List[Result]) -> str:
    """The markdown results table."""
    rows = ["| task | tool | wall s | peak RSS MiB | speedup vs reference | result | agreement with reference |",
            "|---|---|---:|---:|---:|---|---|"]
    ref = {r.task: r for r in results if r.tool == "reference" and r.status == "ok"}
    for r in results:
        if r.status != "ok":
            rows.append(f"| {r.task} | {r.tool} | {r.status}: {r.note} | | | | |")
            continue
        factor = speedup(r, ref.get(r.task)) if r.tool != "reference" else 1.0
        rows.append(f"| {r.task} | {r.tool} | {fmt(r.wall, '.2f')} | {fmt(r.peak_rss, '.0f')} | "
                    f"{fmt(factor, '.2f')}{'x' if factor else ''} | {result_cell(r)} | {agreement_cell(r)} |")
    return "\n".join(rows)


def inside_lines(results: List[Result]) -> str:
    """Where our tools spend their time inside the process (last repeat)."""
    lines = []
    for r in results:
        if r.tool.startswith("ours") and r.stats:
            if r.task == "eval":
                t = ", ".join(f"{k} {v:.2f}" for k, v in (r.stats.get("timings_s") or {}).items())
                lines.append(f"- {r.task} {r.tool}: import {r.stats['import_s']:.2f} s, "
                             f"evaluate() {r.stats['evaluate_s']:.2f} s (engine timings_s: {t})")
            else:
                lines.append(f"- {r.task} {r.tool}: import {r.stats['import_s']:.2f} s, "
                             f"merge_folder() {r.stats['merge_s']:.2f} s")
    return ("\n\nInside our processes (s):\n" + "\n".join(lines)) if lines else ""


def versions() -> str:
    """Installed versions of the libraries involved."""
    import importlib.metadata

    parts = []
    for dist in ("shapely", "numpy", "torch", "dataprep-det"):
        try:
            parts.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{dist} (not installed)")
    return ", ".join(parts)


def header(meta: dict, args: argparse.Namespace) -> str:
    """What was measured, where."""
    lines = [
        f"# Rotated DOTA benchmark ({time.strftime('%Y-%m-%d %H:%M')})", "",
        f"- data: seed {meta.get('seed')}, {meta.get('images')} images (sides {meta.get('image_sides')}), "
        f"{meta.get('objects'):,} GT objects ({meta.get('difficult', 0) * 100:.1f}% difficult), "
        f"{meta.get('detections'):,} whole-image detections; {meta.get('tiles'):,} tiles "
        f"({meta.get('tile_size')}/gap {meta.get('tile_gap')}) with {meta.get('tile_detections'):,} tile detections",
        "- eval: DOTA-v1.0 Task1 (polygon IoU > 0.5, difficult ignored, 11-point AP, mean over 15 classes); "
        "merge: polygon NMS, suppress IoU > 0.1, per class and image",
        f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        f"- versions: {versions()}",
        f"- wall: median of {args.repeat} run(s), whole process (bytecode compiled beforehand, as an installed "
        f"package has it), tools interleaved round by round; speedup: median "
        f"over rounds of reference wall / ours wall; peak RSS: max over runs (ru_maxrss); CPU threads "
        f"for ours: {args.ours_threads or 'default'}",
    ]
    return "\n".join(lines + ["", ""])


def write_outputs(out: Path, text: str, results: List[Result], meta: dict) -> None:
    """``results.md`` and ``results.json`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(text + "\n")
    raw = {"meta": meta, "results": [{**asdict(r), "wall": r.wall, "peak_rss": r.peak_rss} for r in results]}
    (out / "results.json").write_text(json.dumps(raw, indent=1) + "\n")


# --------------------------------------------------------------------------- CLI


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options."""
    from generate_dota import DETS_PER_IMAGE, IMAGES  # same folder
    from run import split_list  # same folder: the COCO runner's comma-list option parser

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default=",".join(TASKS), type=lambda v: split_list(v, TASKS, "--tasks"),
                    help="comma list of eval,merge (default both)")
    ap.add_argument("--tools", default=",".join(TOOLS), type=lambda v: split_list(v, TOOLS, "--tools"),
                    help="comma list of reference,ours (default both)")
    ap.add_argument("--device", default="auto",
                    type=lambda v: v if v == "auto" else split_list(v, ("numpy", "cpu", "cuda"), "--device"),
                    help="devices for ours: comma list of numpy, cpu, cuda, or auto (default: numpy and cpu, "
                         "plus cuda if torch sees a GPU; merge runs on torch devices only)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool and task; the median wall is shown")
    ap.add_argument("--images", type=int, default=IMAGES,
                    help=f"images in the dataset (default {IMAGES}, DOTA-v1.0 val)")
    ap.add_argument("--dets-per-image", type=int, default=DETS_PER_IMAGE, help=f"default {DETS_PER_IMAGE}")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=HERE / "_data" / "dota",
                    help="data root (default benchmarks/_data/dota)")
    ap.add_argument("--out", type=Path, default=HERE / "_out" / "dota",
                    help="report folder (default benchmarks/_out/dota)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds before a run is killed (default: none)")
    ap.add_argument("--ours-threads", type=int, default=0,
                    help="torch CPU threads for ours (evaluate's workers=; merge: torch.set_num_threads); "
                         "0: torch's default")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.images < 1 or args.dets_per_image < 1 or args.ours_threads < 0:
        ap.error("--repeat, --images and --dets-per-image must be positive, --ours-threads >= 0")
    return args


def ensure_data(args: argparse.Namespace) -> Tuple[Path, dict]:
    """The dataset folder (generated when missing) and its ``meta.json``."""
    from generate_dota import default_dir, is_complete  # same folder
    from run import log

    data = default_dir(args.seed, args.images, args.dets_per_image, args.data)
    if not is_complete(data, args.seed, args.images, args.dets_per_image):
        log(f"generating {data} ...")
        started = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / "generate_dota.py"), "--seed", str(args.seed), "--images",
                        str(args.images), "--dets-per-image", str(args.dets_per_image), "--out", str(data)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log(f"generated in {time.perf_counter() - started:.1f} s")
    return data, json.loads((data / "meta.json").read_text())


def compile_bytecode() -> None:
    """Byte-compile the packages the children import, as ``pip install`` does: a machine that sets
    PYTHONDONTWRITEBYTECODE (this one does) would otherwise recompile every module in every run."""
    import compileall

    for package in ("evaluators", "dataprep", "converters"):
        compileall.compile_dir(str(REPO / package), quiet=1)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Generate data if needed, run every task x tool, check agreement, print and save the table.

    Exit status 1 if a run failed or ours disagrees with the reference."""
    from run import log

    args = parse_args(argv)
    devices = args.device
    if devices == "auto":
        devices = ["numpy", "cpu"] + (["cuda"] if "ours" in args.tools and cuda_available() else [])
        log(f"devices for ours: {','.join(devices)}")
    data, meta = ensure_data(args)
    compile_bytecode()
    results: List[Result] = []
    for task in args.tasks:
        task_devices = [d for d in devices if task == "eval" or d != "numpy"]  # merge: torch devices
        results += run_task(task, labels_for(args.tools, task_devices), data, args.out, args.repeat, args.timeout,
                            args.ours_threads)
    refs = {r.task: r for r in results if r.tool == "reference" and r.status == "ok"}
    for r in results:
        if r.tool != "reference" and r.status == "ok" and r.task in refs:
            r.check = check_eval(r, refs[r.task]) if r.task == "eval" else check_merge(r, refs[r.task], args.out, data)
    text = header(meta, args) + table(results) + inside_lines(results)
    print(text)
    write_outputs(args.out, text, results, {k: v for k, v in meta.items()})
    log(f"written to {args.out / 'results.md'}")
    bad = any(r.status == "failed" for r in results) or any(r.check and not r.check["agree"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, rest = sys.argv[2], sys.argv[3:]
        sys.exit(child_ours_eval(*rest) if kind == "ours-eval" else child_ours_merge(*rest))
    sys.exit(main())
