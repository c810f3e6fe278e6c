"""COCO and LVIS evaluation (bbox, segm, proposal): load, group, match, accumulate, summarize exactly as
pycocotools (or lvis-api for LVIS) does, on the torch engine."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence, Union

import torch

from .data.ground_truth import GroundTruth, load_ground_truth, warn_missing_iscrowd
from .data.jsonio import PathLike, gc_paused
from .data.predictions import PredsLike, load_predictions
from .device import torch_threads
from .engine.pipeline import run_engine
from .engine.summarize import summarize, summary_line
from .errors import ParameterError
from .params import AreaRanges, EvalParams
from .protocols import coco, lvis
from .result import EvalResult


def evaluate_coco(gt: Union[PathLike, Mapping[str, Any], GroundTruth], preds: PredsLike, metric: str, *,
                  device: torch.device, iou_thrs: Optional[Sequence[float]] = None,
                  max_dets: Optional[Union[int, Sequence[int]]] = None, area_ranges: Optional[AreaRanges] = None,
                  img_ids: Optional[Sequence[int]] = None, cat_ids: Optional[Sequence[int]] = None,
                  use_cats: Optional[bool] = None, protocol: Optional[str] = None,
                  log: Optional[Callable[[str], None]] = None, progress: bool = False,
                  workers: Optional[int] = None) -> EvalResult:
    """COCO / LVIS metrics of ``preds`` against ``gt`` (see :func:`evaluators.evaluate` for the arguments)."""
    with gc_paused():
        ground = gt if isinstance(gt, GroundTruth) else load_ground_truth(gt)
        protocol = _protocol(protocol, ground, metric, log)
        params = EvalParams.create(metric, iou_thrs=iou_thrs, max_dets=max_dets, area_ranges=area_ranges,
                                   img_ids=img_ids, cat_ids=cat_ids, use_cats=use_cats, protocol=protocol)
        if log:
            log(f"ground truth: {ground.img_ids.size} images, {ground.ann_ids.size} annotations, {ground.cat_ids.size} categories")
        dets = load_predictions(preds, ground, mode="defer" if protocol == "lvis" else None)
        if log:
            log(f"predictions: {len(dets)} records")
        if protocol == "lvis":
            dets = lvis.reload_as_lvis_results(preds, dets, ground, params.max_dets[-1])
            rules = lvis.record_rules(ground, dets, params.max_dets[-1])
        else:
            rules = None
            warn_missing_iscrowd(ground)
    with torch_threads(workers), gc_paused():
        out = run_engine(ground, dets, params, device, log=log, progress=progress, rules=rules)
    return (_lvis_result if protocol == "lvis" else _coco_result)(ground, params, out, device)


def _protocol(protocol: Optional[str], gt: GroundTruth, metric: str, log) -> str:
    """The protocol asked for, or recognised from the annotation file (LVIS when it looks like LVIS)."""
    if protocol is None:
        protocol = "lvis" if metric != "proposal" and lvis.is_lvis(gt.dataset) else "coco"
        if log and protocol == "lvis":
            log("LVIS annotation file recognised: using the LVIS protocol (lvis-api rules); --protocol coco overrides")
    if protocol not in ("coco", "lvis"):
        raise ParameterError(f"Expected `protocol` to be coco, lvis, voc07 or voc12 but got {protocol!r}.")
    if protocol == "lvis" and metric == "proposal":
        raise ParameterError("the LVIS protocol has no proposal metric.", fix="use --metric bbox or segm.")
    return protocol


def _coco_result(gt: GroundTruth, params: EvalParams, out, device: torch.device) -> EvalResult:
    acc = out.acc
    args = (acc.precision, acc.recall, params.iou_thrs, params.area_labels, params.max_dets)
    specs = coco.summary_specs(params)
    values = [summarize(*args, s) for s in specs]
    by_key = {s.key: v for s, v in zip(specs, values)}
    stats = {s.key: by_key[s.key] for s in coco.stat_specs(params)}
    rows = []
    if params.use_cats:
        pc_specs = coco.per_class_specs(params)
        rows = _per_class(gt, out, lambda k: {s.key: summarize(*args, s, k=k) for s in pc_specs})
    lines = [summary_line(s, v, params.iou_thrs) for s, v in zip(specs, values)]
    return EvalResult(params.metric, "coco", params, stats, acc.precision, acc.recall, acc.scores, lines, rows,
                      _info(out, device))


def _lvis_result(gt: GroundTruth, params: EvalParams, out, device: torch.device) -> EvalResult:
    md = params.max_dets[-1]
    precision, recall, scores = out.acc.precision[..., -1], out.acc.recall[..., -1], out.acc.scores[..., -1]
    groups = lvis.frequency_groups(gt, out.groups.cat_ids)
    args = (precision, recall, params.iou_thrs, params.area_labels, groups)
    specs = lvis.stat_specs(md)
    stats = {s.key: lvis.summarize(*args, s) for s in specs}
    pc_specs = [s for s in specs if s.freq is None and (s.ap or s.area == "all")]
    freq = {int(c["id"]): c.get("frequency") for c in gt.dataset["categories"]}
    rows = _per_class(gt, out, lambda k: {"frequency": freq[int(out.groups.cat_ids[k])],
                                          **{s.key: lvis.summarize(*args, s, k=k) for s in pc_specs}})
    lines = [lvis.summary_line(s, stats[s.key], params.iou_thrs, md) for s in specs]
    return EvalResult(params.metric, "lvis", params, stats, precision, recall, scores, lines, rows, _info(out, device))


def _per_class(gt: GroundTruth, out, values) -> list:
    names = dict(zip(gt.cat_ids.tolist(), gt.cat_names))
    rows = []
    for k, cid in enumerate(out.groups.cat_ids.tolist()):
        row = {"id": cid, "name": names.get(cid, str(cid))}
        row.update(values(k))
        row.update({"n_gt": int(out.n_gt[k]), "n_dets": int(out.n_dt[k])})
        rows.append(row)
    return rows


def _info(out, device: torch.device) -> dict:
    return {"device": str(device), "images": int(out.groups.img_ids.size), "detections": int(out.groups.n_dt_total),
            "timings_s": {k: round(v, 4) for k, v in out.timings.items()}}
