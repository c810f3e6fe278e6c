"""Benchmark COCO and LVIS evaluators end to end, one fresh process per run.

Each run is a whole process as a user would start it: interpreter start,
imports, JSON loading, evaluation and summary. The runner records its wall
time and its peak resident set size (``ru_maxrss`` of that child, from
``os.wait4``), checks its summary stats against the task's reference tool
(pycocotools for bbox, segm and proposal; lvis-api for lvis), and prints a
markdown table per reference that is also written to ``benchmarks/_out/results.md``
(raw numbers in ``results.json``).

Examples::

    python benchmarks/run.py                                  # full scale, the COCO tasks, all their tools
    python benchmarks/run.py --images 200 --proposal-images 100
    python benchmarks/run.py --tasks bbox --tools pycocotools,ours --device cpu,cuda --repeat 3
    python benchmarks/run.py --tasks lvis --images 2000       # lvis-api, faster-coco-eval, ours

COCO data is generated on demand by ``generate.py`` under ``--data/seed{S}-images{N}/``
and reused afterwards; a different ``--proposal-images`` regenerates only the proposals.
LVIS data comes from ``generate_lvis.py``, under ``--data/lvis-seed{S}-images{N}/``.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from child import LVIS_KEYS  # same folder: lvis-api's result keys, the order the child prints them in

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
COCO_TASKS = ("bbox", "segm", "proposal")
TASKS = (*COCO_TASKS, "lvis")
TOOLS = ("pycocotools", "faster-coco-eval", "hotcoco", "lvis-api", "ours")
TASK_TOOLS: Dict[str, Tuple[str, ...]] = {
    **{t: ("pycocotools", "faster-coco-eval", "hotcoco", "ours") for t in COCO_TASKS},
    "lvis": ("lvis-api", "faster-coco-eval", "ours"),
}
REFERENCE: Dict[str, str] = {**{t: "pycocotools" for t in COCO_TASKS}, "lvis": "lvis-api"}
DET_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
PROPOSAL_KEYS = ("AR100", "AR300", "AR1000", "ARs1000", "ARm1000", "ARl1000")
STDERR_TAIL_LINES = 15
Stats = Dict[str, float]


# --------------------------------------------------------------------------- records


@dataclass
class Measurement:
    """One finished child process."""

    wall_s: float
    rss_mib: float
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


@dataclass
class Result:
    """All repeats of one tool on one task."""

    task: str
    tool: str
    status: str = "ok"  # ok | failed | skipped
    note: str = ""
    walls: List[float] = field(default_factory=list)
    rss: List[float] = field(default_factory=list)
    stats: Optional[Stats] = None

    @property
    def wall(self) -> Optional[float]:
        """Median wall time over the repeats."""
        return statistics.median(self.walls) if self.walls else None

    @property
    def peak_rss(self) -> Optional[float]:
        """Largest peak RSS over the repeats."""
        return max(self.rss) if self.rss else None


# --------------------------------------------------------------------------- data


def dataset_dir(root: Path, seed: int, images: int) -> Path:
    """Where the data of one seed and image count lives."""
    return root / f"seed{seed}-images{images}"


def lvis_dataset_dir(root: Path, seed: int, images: int) -> Path:
    """Where the LVIS data of one seed and image count lives."""
    return root / f"lvis-seed{seed}-images{images}"


def gt_file(data: Path, task: str) -> Path:
    """The ground truth of a task (proposals may cover fewer images than the rest)."""
    return data / {"proposal": "gt_proposal.json", "lvis": "gt_lvis.json"}.get(task, "gt_bbox.json")


def dets_file(data: Path, task: str) -> Path:
    """The results file of a task."""
    return data / f"dets_{task}.json"


def read_meta(data: Path) -> dict:
    """``meta.json`` of ``data``, or ``{}``."""
    try:
        return json.loads((data / "meta.json").read_text())
    except (OSError, ValueError):
        return {}


def missing_parts(data: Path, seed: int, images: int, proposal_images: int, tasks: Sequence[str]) -> List[str]:
    """Generator parts the tasks need that are absent, incomplete or of another configuration."""
    from generate import same_dataset  # same folder; the single definition of a dataset's identity

    meta = read_meta(data)
    wanted = ["gt", *tasks]
    if not same_dataset(data, seed, images):  # seed, image count, format or numpy version differ
        return wanted
    files = {"gt": ["gt_bbox.json"], "bbox": ["dets_bbox.json"], "segm": ["dets_segm.json"],
             "proposal": ["dets_proposal.json", "gt_proposal.json"]}
    missing = [
        part for part in wanted
        if part not in meta.get("parts", []) or not all((data / f).exists() for f in files[part])
    ]
    if "proposal" in tasks and meta.get("proposal_images") != proposal_images and "proposal" not in missing:
        missing.append("proposal")
    return missing


def ensure_data(data: Path, seed: int, images: int, proposal_images: int, tasks: Sequence[str]) -> dict:
    """Generate whatever the tasks need and is not there yet; returns ``meta.json``."""
    parts = missing_parts(data, seed, images, proposal_images, tasks)
    if parts:
        cmd = [
            sys.executable, str(HERE / "generate.py"), "--seed", str(seed), "--images", str(images),
            "--proposal-images", str(proposal_images), "--out", str(data), "--parts", ",".join(parts),
        ]
        log(f"generating {','.join(parts)} into {data} ...")
        started = time.perf_counter()
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
        log(f"generated in {time.perf_counter() - started:.1f} s")
    return read_meta(data)


def ensure_lvis_data(data: Path, seed: int, images: int) -> dict:
    """Generate the LVIS data unless it is there for this seed and image count; returns ``meta.json``."""
    from generate_lvis import is_complete  # same folder

    if not is_complete(data, seed, images):
        cmd = [sys.executable, str(HERE / "generate_lvis.py"), "--seed", str(seed), "--images", str(images),
               "--out", str(data)]
        log(f"generating LVIS data into {data} ...")
        started = time.perf_counter()
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
        log(f"generated in {time.perf_counter() - started:.1f} s")
    return read_meta(data)


# --------------------------------------------------------------------------- processes


def measure(cmd: Sequence[str], cwd: Path, env: Dict[str, str], timeout: Optional[float]) -> Measurement:
    """Run ``cmd`` to completion; wall time and the child's own peak RSS (``os.wait4``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        except OSError as exc:  # e.g. a missing executable: report it like a failed run
            return Measurement(0.0, 0.0, 127, "", f"cannot start {cmd[0]}: {exc}")
        fired = threading.Event()
        timer = threading.Timer(timeout, lambda: (fired.set(), proc.kill())) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # tell Popen the child is reaped
        out.seek(0)
        err.seek(0)
        return Measurement(
            wall_s=wall,
            rss_mib=usage.ru_maxrss / 1024.0,  # KiB on Linux
            returncode=proc.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            timed_out=fired.is_set(),
        )


def tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    """The last ``lines`` lines of ``text``."""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def ours_launcher(override: Optional[str] = None) -> Optional[List[str]]:
    """How to start our CLI: ``--ours-cmd``, the installed ``evaluate`` script, else ``python -m evaluators.cli``."""
    if override:
        return shlex.split(override)
    entry = importlib.metadata.entry_points(group="console_scripts", name="evaluate")
    if any(ep.value.startswith("evaluators.cli") for ep in entry):
        # The script next to this interpreter first: a pyenv shim on PATH would add its own startup time.
        beside = Path(sys.executable).parent / "evaluate"
        script = str(beside) if beside.exists() else shutil.which("evaluate")
        if script:
            return [script]
    if (REPO / "evaluators" / "cli.py").exists():
        return [sys.executable, "-m", "evaluators.cli"]
    return None


def child_env(extra_path: Optional[Path] = None) -> Dict[str, str]:
    """The environment of a child; ``extra_path`` goes first on ``PYTHONPATH``."""
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(extra_path), env.get("PYTHONPATH", "")) if p)
    return env


def generate_in_child(script: Path, args: Sequence[str], cwd: Path) -> bool:
    """Run ``script --child generate ARGS`` in a fresh process; True when it succeeded.

    Benchmark data is never built in the runner itself: Linux carries a process's peak RSS over into
    every child it forks (the high-water mark survives ``exec``), so a runner that held the data would
    inflate every child's measured peak RSS."""
    cmd = [sys.executable, str(Path(script).resolve()), "--child", "generate", *[str(a) for a in args]]
    return subprocess.run(cmd, cwd=cwd, env=child_env(cwd)).returncode == 0


# --------------------------------------------------------------------------- stats


def keys_for(task: str) -> Sequence[str]:
    """The stat names of a task, in its reference tool's order."""
    return {"proposal": PROPOSAL_KEYS, "lvis": LVIS_KEYS}.get(task, DET_KEYS)


def named_stats(task: str, stats: Sequence[float]) -> Stats:
    """A child's stats list as named stats: pycocotools' 12-vector (proposals: ``stats[6:12]``, the
    recall block), or for lvis the 13 values in ``LVIS_KEYS`` order."""
    values = list(stats[6:12]) if task == "proposal" else list(stats[: len(keys_for(task))])
    return dict(zip(keys_for(task), (float(v) for v in values)))


def last_json_value(stdout: str, kind: type = object):
    """The JSON value (of type ``kind``) a child prints on its last non-empty line, or None."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    try:
        value = json.loads(lines[-1]) if lines else None
    except ValueError:
        return None
    return value if isinstance(value, kind) else None


def last_json_line(stdout: str) -> Optional[list]:
    """The JSON list a child prints on its last non-empty line, or None."""
    return last_json_value(stdout, list)


def read_ours_stats(path: Path, task: str) -> Optional[Stats]:
    """``stats`` of our CLI's ``--output`` file (a dict; a 12-list is accepted too)."""
    try:
        stats = json.loads(path.read_text()).get("stats")
    except (OSError, ValueError, AttributeError):
        return None
    if isinstance(stats, list):
        return named_stats(task, stats)
    if isinstance(stats, dict):
        return {k: float(stats[k]) for k in keys_for(task) if k in stats}
    return None


def max_abs_diff(stats: Optional[Stats], ref: Optional[Stats]) -> Optional[float]:
    """Largest |difference| over the stats both sides report."""
    if not stats or not ref:
        return None
    common = [k for k in ref if k in stats]
    return max(abs(stats[k] - ref[k]) for k in common) if common else None


# --------------------------------------------------------------------------- runs


@dataclass
class RunConfig:
    """Everything a single run needs besides tool and task."""

    data: Dict[str, Path]  # task -> its dataset folder
    repeat: int
    timeout: Optional[float]
    devices: List[str]
    ours_cmd: Optional[str] = None


def tool_labels(tools: Sequence[str], devices: Sequence[str], task: str) -> List[str]:
    """The tools that run ``task``, its reference first, with ``ours`` expanded into one label per device:
    ``ours[cpu]``, ``ours[cuda]``."""
    labels: List[str] = []
    for tool in sorted((t for t in tools if t in TASK_TOOLS[task]), key=lambda t: t != REFERENCE[task]):
        labels.extend([f"ours[{d}]" for d in devices] if tool == "ours" else [tool])
    return labels


def ours_metric_args(task: str) -> List[str]:
    """Our CLI's options for a task: ``--metric TASK``, or bbox with the LVIS rules."""
    return ["--metric", "bbox", "--protocol", "lvis"] if task == "lvis" else ["--metric", task]


def run_ours_once(device: str, task: str, cfg: RunConfig, launcher: List[str]) -> Tuple[Measurement, Optional[Stats]]:
    """One run of our CLI; its stats come from the ``--output`` file."""
    gt, dets = gt_file(cfg.data[task], task), dets_file(cfg.data[task], task)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        output = Path(tmp) / "ours.json"
        cmd = [*launcher, str(dets), "--gt", str(gt), *ours_metric_args(task), "--device", device,
               "--output", str(output)]
        m = measure(cmd, REPO, child_env(REPO), cfg.timeout)
        return m, read_ours_stats(output, task) if m.returncode == 0 else None


def run_reference_once(tool: str, task: str, cfg: RunConfig) -> Tuple[Measurement, Optional[Stats]]:
    """One run of a reference tool through ``child.py``; its stats are its last stdout line."""
    gt, dets = gt_file(cfg.data[task], task), dets_file(cfg.data[task], task)
    cmd = [sys.executable, str(HERE / "child.py"), tool, task, str(gt), str(dets)]
    m = measure(cmd, REPO, child_env(), cfg.timeout)
    raw = last_json_line(m.stdout) if m.returncode == 0 else None
    return m, named_stats(task, raw) if raw else None


def run_tool(label: str, task: str, cfg: RunConfig) -> Result:
    """``cfg.repeat`` runs of one tool on one task; stops at the first failure."""
    result = Result(task=task, tool=label)
    launcher = ours_launcher(cfg.ours_cmd) if label.startswith("ours[") else None
    if label.startswith("ours[") and launcher is None:
        result.status, result.note = "skipped", "evaluate CLI not found"
        log(f"{label} on {task} skipped: no `evaluate` console script, no evaluators/cli.py, no --ours-cmd")
        return result
    for i in range(cfg.repeat):
        if launcher is not None:
            m, stats = run_ours_once(label[len("ours[") : -1], task, cfg, launcher)
        else:
            m, stats = run_reference_once(label, task, cfg)
        if m.returncode != 0 or stats is None:
            why = "timed out" if m.timed_out else f"exit code {m.returncode}" if m.returncode else "no stats"
            result.status, result.note = "failed", why
            log(f"{label} on {task} failed ({why}); stderr tail:\n{tail(m.stderr) or '(empty)'}")
            return result
        result.walls.append(m.wall_s)
        result.rss.append(m.rss_mib)
        result.stats = stats
        log(f"{task:8s} {label:18s} run {i + 1}/{cfg.repeat}: {m.wall_s:8.2f} s {m.rss_mib:9.1f} MiB")
    return result


# --------------------------------------------------------------------------- report


def fmt(value: Optional[float], spec: str) -> str:
    """``value`` formatted, or ``n/a``."""
    return "n/a" if value is None else format(value, spec)


def fmt_diff(value: Optional[float]) -> str:
    """A stats difference: ``0`` when exact, else two significant digits."""
    if value is None:
        return "n/a"
    return "0" if value == 0 else f"{value:.1e}"


def table(results: List[Result]) -> str:
    """The markdown results tables: one per reference tool (pycocotools, lvis-api), for the tasks it judges."""
    references = list(dict.fromkeys(REFERENCE[r.task] for r in results))
    return "\n\n".join(reference_table(ref, [r for r in results if REFERENCE[r.task] == ref]) for ref in references)


def reference_table(reference: str, results: List[Result]) -> str:
    """The markdown table of the tasks whose speedup and stats are measured against ``reference``."""
    rows = [
        f"| task | tool | wall s | peak RSS MiB | speedup vs {reference} | max \\|Δ\\| vs {reference} |",
        "|---|---|---:|---:|---:|---:|",
    ]
    ref = {r.task: r for r in results if r.tool == reference and r.status == "ok"}
    for r in results:
        base = ref.get(r.task)
        if r.status != "ok":
            rows.append(f"| {r.task} | {r.tool} | {r.status}: {r.note} | | | |")
            continue
        speedup = base.wall / r.wall if base and r.wall else None
        diff = max_abs_diff(r.stats, base.stats if base else None)
        rows.append(
            f"| {r.task} | {r.tool} | {fmt(r.wall, '.2f')} | {fmt(r.peak_rss, '.0f')} | "
            f"{fmt(speedup, '.2f')}{'x' if speedup else ''} | {fmt_diff(diff)} |"
        )
    return "\n".join(rows)


def versions() -> str:
    """Installed versions of the measured libraries."""
    parts = []
    for dist in ("pycocotools", "faster-coco-eval", "hotcoco", "lvis", "dataprep-det", "torch", "numpy"):
        try:
            parts.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{dist} (not installed)")
    return ", ".join(parts)


def coco_data_line(meta: dict) -> str:
    """The COCO dataset, in one line."""
    gt = meta.get("gt", {})
    return (
        f"- data: seed {meta['seed']}, {meta['images']} images, {gt.get('annotations')} GT "
        f"({gt.get('crowd')} crowd; small/medium/large {gt.get('small')}/{gt.get('medium')}/{gt.get('large')}), "
        f"{meta['dets_per_image']} dets/image; proposals: {meta.get('proposal_images')} images x "
        f"{meta['proposals_per_image']}"
    )


def lvis_data_line(meta: dict) -> str:
    """The LVIS dataset, in one line."""
    gt = meta.get("gt", {})
    rcf = lambda d: "/".join(str(d.get(f)) for f in "rcf")  # noqa: E731
    return (
        f"- LVIS data: seed {meta['seed']}, {meta['images']} images, {rcf(meta.get('categories', {}))} r/c/f "
        f"categories ({rcf(gt.get('categories_with_gt', {}))} with GT), {gt.get('annotations')} GT "
        f"({gt.get('per_image')}/image; r/c/f instances {rcf(gt.get('instance_share', {}))}; "
        f"small/medium/large {gt.get('small')}/{gt.get('medium')}/{gt.get('large')}), "
        f"{gt.get('neg_per_image')} neg and {gt.get('not_exhaustive_per_image')} not-exhaustive categories/image, "
        f"{meta['dets_per_image']} dets/image"
    )


def header(metas: Dict[str, dict], args: argparse.Namespace) -> str:
    """What was measured, where."""
    lines = [f"# Evaluation benchmark ({time.strftime('%Y-%m-%d %H:%M')})", ""]
    if "coco" in metas:
        lines.append(coco_data_line(metas["coco"]))
    if "lvis" in metas:
        lines.append(lvis_data_line(metas["lvis"]))
    lines += [
        f"- machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        f"- versions: {versions()}",
        f"- wall: median of {args.repeat} run(s), whole process; peak RSS: max over runs (ru_maxrss)",
    ]
    if "proposal" in args.tasks:
        lines.append("- proposal stats compared: AR@100, AR@300, AR@1000, ARs/ARm/ARl@1000 (pycocotools stats[6:12])")
    if "lvis" in args.tasks:
        lines.append(f"- lvis stats compared: lvis-api's {len(LVIS_KEYS)} results ({' '.join(LVIS_KEYS)})")
    return "\n".join(lines + ["", ""])


def write_outputs(out_dir: Path, text: str, results: List[Result], metas: Dict[str, dict]) -> None:
    """``results.md`` and ``results.json`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.md").write_text(text + "\n")
    raw = {"meta": metas, "results": [{**asdict(r), "wall": r.wall, "peak_rss": r.peak_rss} for r in results]}
    (out_dir / "results.json").write_text(json.dumps(raw, indent=1) + "\n")


def log(message: str) -> None:
    """Progress and diagnostics go to stderr; the table goes to stdout."""
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- CLI


def split_list(value: str, allowed: Sequence[str], what: str) -> List[str]:
    """Parse a comma list whose items must be in ``allowed``."""
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"{what}: {bad or value!r} not in {', '.join(allowed)}")
    return items


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--tasks", default=",".join(COCO_TASKS), type=lambda v: split_list(v, TASKS, "--tasks"),
        help=f"comma list of {','.join(TASKS)} (default {','.join(COCO_TASKS)})",
    )
    ap.add_argument(
        "--tools", default=",".join(TOOLS), type=lambda v: split_list(v, TOOLS, "--tools"),
        help="comma list of tools (default: all); each task runs those of them that support it",
    )
    ap.add_argument(
        "--device", default="cpu", type=lambda v: split_list(v, ("cpu", "cuda"), "--device"),
        help="device(s) for ours: cpu, cuda or cpu,cuda (default cpu)",
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool and task; the median wall is shown")
    ap.add_argument("--images", type=int, default=5000, help="images in the dataset (default 5000)")
    ap.add_argument(
        "--proposal-images", type=int, default=1000,
        help="images with 1,000 proposals each (default 1000; pycocotools needs minutes per 1000)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=HERE / "_data", help="data root (default benchmarks/_data)")
    ap.add_argument("--out", type=Path, default=HERE / "_out", help="report folder (default benchmarks/_out)")
    ap.add_argument(
        "--ours-cmd", default=None,
        help="command line that starts our CLI (default: the `evaluate` script, else `python -m evaluators.cli`)",
    )
    ap.add_argument("--timeout", type=float, default=None, help="seconds before a run is killed (default: none)")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.images < 1 or args.proposal_images < 1:
        ap.error("--repeat, --images and --proposal-images must be positive")
    args.proposal_images = min(args.proposal_images, args.images)
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Generate data if needed, run every task x tool, print and save the table; 1 if any run failed."""
    args = parse_args(argv)
    runs = [(label, task) for task in args.tasks for label in tool_labels(args.tools, args.device, task)]
    if not runs:
        log(f"none of the tools {','.join(args.tools)} runs any of the tasks {','.join(args.tasks)}")
        return 2
    metas: Dict[str, dict] = {}
    data: Dict[str, Path] = {}
    coco_tasks = [t for t in args.tasks if t in COCO_TASKS and any(task == t for _, task in runs)]
    if coco_tasks:
        folder = dataset_dir(args.data, args.seed, args.images)
        metas["coco"] = ensure_data(folder, args.seed, args.images, args.proposal_images, coco_tasks)
        data.update(dict.fromkeys(coco_tasks, folder))
    if any(task == "lvis" for _, task in runs):
        data["lvis"] = lvis_dataset_dir(args.data, args.seed, args.images)
        metas["lvis"] = ensure_lvis_data(data["lvis"], args.seed, args.images)
    cfg = RunConfig(data=data, repeat=args.repeat, timeout=args.timeout, devices=args.device, ours_cmd=args.ours_cmd)
    results = [run_tool(label, task, cfg) for label, task in runs]
    text = header(metas, args) + table(results)
    print(text)
    write_outputs(args.out, text, results, metas)
    log(f"written to {args.out / 'results.md'}")
    return 0 if all(r.status != "failed" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
