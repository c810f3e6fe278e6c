"""One timed benchmark run of a reference tool: ``python benchmarks/child.py TOOL TASK GT DETS``.

Runs the whole COCO evaluation as a user would (imports, JSON loading,
evaluate, accumulate, summarize) and prints the 12 summary stats as a JSON
list on the last line of stdout. The runner (``run.py``) times this process.

TOOL is ``pycocotools``, ``faster-coco-eval`` or ``hotcoco``; TASK is
``bbox``, ``segm`` or ``proposal`` (bbox IoU, ``useCats=0``,
``maxDets=[100, 300, 1000]``).

Imports happen inside the per-tool functions, so each process pays only for
the library it measures.
"""
from __future__ import annotations

import json
import sys
from typing import Any, Callable, Dict, List

PROPOSAL_MAX_DETS = [100, 300, 1000]


def iou_type(task: str) -> str:
    """The COCOeval ``iouType`` of a benchmark task."""
    return "segm" if task == "segm" else "bbox"


def configure_proposals(params: Any) -> None:
    """Class-agnostic recall at 100/300/1000 proposals (mmdetection's proposal protocol)."""
    params.useCats = 0
    params.maxDets = list(PROPOSAL_MAX_DETS)


def run_pycocotools(task: str, gt_path: str, dt_path: str) -> List[float]:
    """pycocotools' COCO / loadRes / COCOeval."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = COCO(gt_path)
    dt = gt.loadRes(dt_path)
    ev = COCOeval(gt, dt, iou_type(task))
    if task == "proposal":
        configure_proposals(ev.params)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return [float(x) for x in ev.stats[:12]]


def run_faster_coco_eval(task: str, gt_path: str, dt_path: str) -> List[float]:
    """faster-coco-eval's COCO / loadRes / COCOeval_faster (C++ core), printing its summary."""
    from faster_coco_eval import COCO, COCOeval_faster

    gt = COCO(gt_path)
    dt = gt.loadRes(dt_path)
    ev = COCOeval_faster(gt, dt, iou_type(task), print_function=print)
    if task == "proposal":
        configure_proposals(ev.params)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return [float(x) for x in ev.stats[:12]]


def run_hotcoco(task: str, gt_path: str, dt_path: str) -> List[float]:
    """hotcoco's pycocotools-style COCO / loadRes / COCOeval (Rust core)."""
    import hotcoco

    gt = hotcoco.COCO(gt_path)
    dt = gt.loadRes(dt_path)
    ev = hotcoco.COCOeval(gt, dt, iou_type(task))
    if task == "proposal":
        # ev.params is live, but its list attributes read back as copies: assign whole values.
        configure_proposals(ev.params)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return [float(x) for x in list(ev.stats)[:12]]


RUNNERS: Dict[str, Callable[[str, str, str], List[float]]] = {
    "pycocotools": run_pycocotools,
    "faster-coco-eval": run_faster_coco_eval,
    "hotcoco": run_hotcoco,
}


def main(argv: List[str]) -> int:
    """Run one tool; the stats go on the last stdout line."""
    if len(argv) != 4 or argv[0] not in RUNNERS or argv[1] not in ("bbox", "segm", "proposal"):
        print(__doc__, file=sys.stderr)
        return 2
    tool, task, gt_path, dt_path = argv
    stats = RUNNERS[tool](task, gt_path, dt_path)
    sys.stdout.flush()
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
