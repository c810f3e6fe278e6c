"""``evaluate``: the library entry point."""
from __future__ import annotations

import contextlib

from typing import Any, Callable, Mapping, Optional, Sequence, Union

import torch

from .data.ground_truth import GroundTruth, load_ground_truth, warn_missing_iscrowd
from .data.jsonio import PathLike, gc_paused
from .data.predictions import PredsLike, load_predictions
from .engine.pipeline import run_engine
from .engine.summarize import summarize, summary_line
from .errors import ParameterError
from .params import AreaRanges, EvalParams
from .protocols import coco, lvis
from .result import EvalResult

VOC_PROTOCOLS = ("voc07", "voc12")


def resolve_device(device: Union[str, torch.device]) -> torch.device:
    """``auto`` -> cuda when available else cpu; ``cpu``; ``cuda`` or ``cuda:k``."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ParameterError(f"Expected `device` to be auto, cpu, cuda or cuda:<k> but got {device!r}.") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"device {device!r} was asked for but this torch build sees no CUDA GPU.",
                             fix="use --device cpu (or auto), or install a CUDA build of torch.")
    if dev.type not in ("cpu", "cuda"):
        raise ParameterError(f"Expected `device` to be auto, cpu, cuda or cuda:<k> but got {device!r}.")
    return dev


@contextlib.contextmanager
def torch_threads(workers: Optional[int]):
    """Run the block with ``workers`` torch CPU threads (None: torch's default), then restore the count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(workers or threads)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def evaluate(
    gt: Union[PathLike, Mapping[str, Any], GroundTruth],
    preds: PredsLike,
    metric: str = "bbox",
    *,
    device: Union[str, torch.device] = "auto",
    iou_thrs: Optional[Sequence[float]] = None,
    max_dets: Optional[Union[int, Sequence[int]]] = None,
    area_ranges: Optional[AreaRanges] = None,
    img_ids: Optional[Sequence[int]] = None,
    cat_ids: Optional[Sequence[int]] = None,
    use_cats: Optional[bool] = None,
    protocol: Optional[str] = None,
    log: Optional[Callable[[str], None]] = None,
    progress: bool = False,
    workers: Optional[int] = None,
    eval_mode: Optional[str] = None,
    iou_thr: float = 0.5,
    classes: Optional[Sequence[str]] = None,
    imageset: Optional[Union[PathLike, Sequence[str]]] = None,
) -> EvalResult:
    """Evaluate detections with the reference tool's exact numbers (pycocotools, or lvis-api for LVIS).

    Args:
        gt: annotation file path, an already-loaded dataset dict, or a :class:`GroundTruth`.
        preds: results file path, a list of result dicts, or an (N, 7) array
            ``[image_id, x, y, w, h, score, category_id]`` (as pycocotools' ``loadRes``).
        metric: ``bbox``, ``segm``, ``proposal`` (class-agnostic boxes, maxDets 100/300/1000) or ``rotated``
            (DOTA Task1: ``gt`` a labelTxt folder or polygon JSON, ``preds`` a Task1 folder or results JSON).
        device: ``auto`` (cuda when available), ``cpu``, ``cuda`` or ``cuda:k``.
        iou_thrs, max_dets, area_ranges, img_ids, cat_ids, use_cats: pycocotools' ``Params``
            (``iouThrs``, ``maxDets``, ``areaRng``, ``imgIds``, ``catIds``, ``useCats``). For LVIS,
            ``max_dets`` is one number, the per-image cap (default 300).
        protocol: ``coco`` or ``lvis``; ``None`` recognises LVIS annotation files and uses ``coco`` else.
            Rotated: ``dota-v1.0`` (default), ``dota-v1.5`` or ``mmrotate``. PASCAL VOC (bbox):
            ``voc07`` (11-point AP) or ``voc12`` (area AP), at ``iou_thrs`` (default ``[iou_thr]``, 0.5);
            ``gt`` a VOC year folder (with ``imageset``) or a COCO JSON, ``preds`` a folder of
            ``comp4_det_<set>_<class>.txt`` files or COCO results.
        log: optional callable receiving progress lines (the CLI sends them to stderr).
        progress: show a tqdm bar (stderr) over the matching steps.
        workers: CPU threads for the torch kernels (default: torch's, i.e. the cores it is given).
        eval_mode, iou_thr, classes, imageset: rotated: ``11points`` (default) or ``area`` AP, the IoU
            threshold, the class list (default: the protocol's DOTA classes) and an image-set file or
            list of image names (default: every label file). VOC: the protocol decides the AP rule;
            ``classes`` (default: the 20 VOC classes, or the JSON's categories) and ``imageset`` (a
            split name in ``ImageSets/Main``, a list file or a list of ids; required for a folder).

    Returns:
        :class:`EvalResult` with ``stats``, ``per_class``, ``summary()`` and pycocotools' arrays.

    Example:
        >>> from evaluators import evaluate
        >>> r = evaluate("instances_val2017.json", "bbox_results.json", metric="bbox")  # doctest: +SKIP
        >>> r.stats["AP"]  # doctest: +SKIP
    """
    dev = resolve_device(device)
    if workers is not None and workers < 1:
        raise ParameterError(f"Expected `workers` to be a positive integer but got {workers!r}.")
    if metric == "rotated":
        from .rotated import evaluate_rotated

        with torch_threads(workers):
            return evaluate_rotated(gt, preds, protocol=protocol or "dota-v1.0", eval_mode=eval_mode or "11points",
                                    iou_thr=iou_thr, classes=classes, imageset=imageset, device=dev, log=log)
    if protocol in VOC_PROTOCOLS:
        from .voc import evaluate_voc

        _check_voc_options(protocol, metric, eval_mode, max_dets=max_dets, area_ranges=area_ranges, img_ids=img_ids,
                           cat_ids=cat_ids, use_cats=use_cats)
        with torch_threads(workers):
            return evaluate_voc(gt, preds, protocol=protocol, iou_thrs=(iou_thr,) if iou_thrs is None else iou_thrs,
                                classes=classes, imageset=imageset, device=dev, log=log)
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
        out = run_engine(ground, dets, params, dev, log=log, progress=progress, rules=rules)
    return (_lvis_result if protocol == "lvis" else _coco_result)(ground, params, out, dev)


def _check_voc_options(protocol: str, metric: str, eval_mode: Optional[str], **coco_only: Any) -> None:
    """The VOC protocols evaluate boxes, their AP rule is fixed, and pycocotools' options do not apply."""
    if metric != "bbox":
        raise ParameterError(f"the {protocol} protocol evaluates boxes, not {metric!r}.", fix="use metric='bbox'.")
    want = "11points" if protocol == "voc07" else "area"
    if eval_mode is not None and eval_mode != want:
        raise ParameterError(f"{protocol} uses {want} AP, not {eval_mode!r}.",
                             fix="leave eval_mode out, or pick voc07 (11points) / voc12 (area).")
    given = [k for k, v in coco_only.items() if v is not None]
    if given:
        raise ParameterError(f"{', '.join(given)} do(es) not apply to the {protocol} protocol.",
                             fix="use iou_thrs, classes and imageset.")


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
