"""The COCO protocol (pycocotools ``COCOeval``): bbox and segm AP/AR, and class-agnostic proposal AR.

Rules stated here; the engine does the work. Stats follow ``COCOeval.summarize`` line by line, including
its quirk that the first line (AP) always uses maxDets=100 while the others use ``max_dets[2]``.
Proposal stats are lines 7-12 of the same block with useCats=0 and maxDets 100/300/1000, as mmdetection
reports them (``AR@100 ... AR_l@1000`` there).
"""
from __future__ import annotations

from typing import List

from ..engine.summarize import StatSpec
from ..params import EvalParams


def summary_specs(params: EvalParams) -> List[StatSpec]:
    """The 12 lines of pycocotools' summary, in order, with our stat keys."""
    m0, m1, m2 = params.max_dets[:3]
    proposal = params.metric == "proposal"
    return [
        StatSpec("AP", True, None, "all", 100),
        StatSpec("AP50", True, 0.5, "all", m2),
        StatSpec("AP75", True, 0.75, "all", m2),
        StatSpec("APs", True, None, "small", m2),
        StatSpec("APm", True, None, "medium", m2),
        StatSpec("APl", True, None, "large", m2),
        StatSpec(f"AR{m0}", False, None, "all", m0),
        StatSpec(f"AR{m1}", False, None, "all", m1),
        StatSpec(f"AR{m2}", False, None, "all", m2),
        StatSpec(f"ARs{m2}" if proposal else "ARs", False, None, "small", m2),
        StatSpec(f"ARm{m2}" if proposal else "ARm", False, None, "medium", m2),
        StatSpec(f"ARl{m2}" if proposal else "ARl", False, None, "large", m2),
    ]


def stat_specs(params: EvalParams) -> List[StatSpec]:
    """The stats a result reports: all 12 for bbox/segm, the six AR lines for proposals."""
    specs = summary_specs(params)
    return specs[6:] if params.metric == "proposal" else specs


def per_class_specs(params: EvalParams) -> List[StatSpec]:
    """Per-category columns: AP, AP50, AP75, APs/m/l and AR at the largest of the first three maxDets."""
    specs = summary_specs(params)
    ar = specs[8]
    return specs[:6] + [StatSpec(f"AR{ar.max_dets}", False, None, "all", ar.max_dets)]
