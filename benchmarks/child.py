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
    """faster-coco-eval's COCO / loadRes / COCOeval_faster (C++ core), printing its summary."""
    from faster_coco_eval import COCO, COCOeval_faster

    factory = lambda gt, dt, kind: COCOeval_faster(gt, dt, kind, print_function=print)  # noqa: E731
    return run_cocoeval_api(COCO, factory, task, gt_path, dt_path)


def run_hotcoco(task: str, gt_path: str, dt_path: str) -> List[float]:
    """hotcoco's pycocotools-style COCO / loadRes / COCOeval (Rust core)."""
    import hotcoco

    return run_cocoeval_api(hotcoco.COCO, hotcoco.COCOeval, task, gt_path, dt_path)


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
