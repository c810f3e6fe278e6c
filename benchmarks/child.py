"""One timed benchmark run of a reference tool: ``python benchmarks/child.py TOOL TASK GT DETS``.

Runs the whole evaluation as a user would (imports, JSON loading, evaluate,
accumulate, summarize) and prints the summary stats as a JSON list on the last
line of stdout. The runner (``run.py``) times this process.

COCO tasks: TOOL is ``pycocotools``, ``faster-coco-eval`` or ``hotcoco``; TASK
is ``bbox``, ``segm`` or ``proposal`` (bbox IoU, ``useCats=0``,
``maxDets=[100, 300, 1000]``). The list holds the 12 COCOeval stats.

LVIS task: TOOL is ``lvis-api`` or ``faster-coco-eval`` (``lvis_style=True``);
TASK is ``lvis`` (bbox, at most 300 detections per image). The list holds the
13 values of lvis-api's results, in the order of ``LVIS_KEYS``.

Imports happen inside the per-tool functions, so each process pays only for
the library it measures.
"""
from __future__ import annotations

import json
import sys
from typing import Any, Callable, Dict, List, Tuple

PROPOSAL_MAX_DETS = [100, 300, 1000]
LVIS_MAX_DETS = 300
LVIS_KEYS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf",
             "AR@300", "ARs@300", "ARm@300", "ARl@300")
# faster-coco-eval's ``stats_as_dict`` names (lvis_style, maxDets=[300]) of the LVIS_KEYS
FASTER_COCO_EVAL_LVIS = ("AP_all", "AP_50", "AP_75", "AP_small", "AP_medium", "AP_large", "APr", "APc", "APf",
                         "AR_all", "AR_small", "AR_medium", "AR_large")
COCO_TASKS = ("bbox", "segm", "proposal")


def iou_type(task: str) -> str:
    """The COCOeval ``iouType`` of a benchmark task."""
    return "segm" if task == "segm" else "bbox"


def configure_proposals(params: Any) -> None:
    """Class-agnostic recall at 100/300/1000 proposals (mmdetection's proposal protocol)."""
    params.useCats = 0
    params.maxDets = list(PROPOSAL_MAX_DETS)


def run_cocoeval_api(coco_cls: Any, eval_factory: Callable[..., Any], task: str, gt_path: str, dt_path: str) -> List[float]:
    """The pycocotools-style sequence every tool here offers: COCO, loadRes, COCOeval, evaluate,
    accumulate, summarize."""
    gt = coco_cls(gt_path)
    dt = gt.loadRes(dt_path)
    ev = eval_factory(gt, dt, iou_type(task))
    if task == "proposal":
        # hotcoco's ev.params list attributes read back as copies, so whole values are assigned
        configure_proposals(ev.params)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return [float(x) for x in list(ev.stats)[:12]]


def run_pycocotools(task: str, gt_path: str, dt_path: str) -> List[float]:
    """pycocotools' COCO / loadRes / COCOeval."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    return run_cocoeval_api(COCO, COCOeval, task, gt_path, dt_path)


def run_faster_coco_eval(task: str, gt_path: str, dt_path: str) -> List[float]:
    """faster-coco-eval's COCO / loadRes / COCOeval_faster (C++ core), printing its summary.

    For ``lvis``: ``lvis_style=True`` and ``params.maxDets = [300]``, the LVIS stats read from
    ``stats_as_dict``. faster-coco-eval has no per-image cut: ``loadRes`` keeps every detection
    and 300 is applied per image *and category*, unlike lvis-api's top 300 per image.
    """
    from faster_coco_eval import COCO, COCOeval_faster

    if task == "lvis":
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        ev = COCOeval_faster(gt, dt, "bbox", lvis_style=True, print_function=print)
        ev.params.maxDets = [LVIS_MAX_DETS]
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        named = ev.stats_as_dict
        return [float(named[k]) for k in FASTER_COCO_EVAL_LVIS]
    factory = lambda gt, dt, kind: COCOeval_faster(gt, dt, kind, print_function=print)  # noqa: E731
    return run_cocoeval_api(COCO, factory, task, gt_path, dt_path)


def run_hotcoco(task: str, gt_path: str, dt_path: str) -> List[float]:
    """hotcoco's pycocotools-style COCO / loadRes / COCOeval (Rust core)."""
    import hotcoco

    return run_cocoeval_api(hotcoco.COCO, hotcoco.COCOeval, task, gt_path, dt_path)


def run_lvis_api(task: str, gt_path: str, dt_path: str) -> List[float]:
    """lvis-api 0.5.3: LVIS / LVISResults (top 300 per image) / LVISEval("bbox").run(), printing its results."""
    import numpy as np

    if "float" not in np.__dict__:
        np.float = float  # type: ignore[attr-defined]  # lvis 0.5.3 uses np.float, removed in numpy 1.24
    from lvis import LVIS, LVISEval, LVISResults

    gt = LVIS(gt_path)
    dt = LVISResults(gt, dt_path)
    ev = LVISEval(gt, dt, "bbox")
    ev.run()
    ev.print_results()
    results = ev.get_results()
    if tuple(results) != LVIS_KEYS:
        raise RuntimeError(f"unexpected lvis-api result keys {list(results)}")
    return [float(v) for v in results.values()]


RUNNERS: Dict[str, Callable[[str, str, str], List[float]]] = {
    "pycocotools": run_pycocotools,
    "faster-coco-eval": run_faster_coco_eval,
    "hotcoco": run_hotcoco,
    "lvis-api": run_lvis_api,
}
TOOL_TASKS: Dict[str, Tuple[str, ...]] = {
    "pycocotools": COCO_TASKS,
    "faster-coco-eval": (*COCO_TASKS, "lvis"),
    "hotcoco": COCO_TASKS,
    "lvis-api": ("lvis",),
}


def main(argv: List[str]) -> int:
    """Run one tool; the stats go on the last stdout line."""
    if len(argv) != 4 or argv[0] not in RUNNERS or argv[1] not in TOOL_TASKS[argv[0]]:
        print(__doc__, file=sys.stderr)
        return 2
    tool, task, gt_path, dt_path = argv
    stats = RUNNERS[tool](task, gt_path, dt_path)
    sys.stdout.flush()
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
