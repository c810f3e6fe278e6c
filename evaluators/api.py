"""``evaluate``: the library entry point. It imports no torch itself: the protocol module it dispatches to
does, after the inputs that can be read in the background have started parsing."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence, Union

from .data.ground_truth import GroundTruth
from .data.jsonio import PathLike
from .data.predictions import PredsLike
from .device import resolve_device, torch_threads
from .errors import ParameterError
from .params import AreaRanges
from .result import EvalResult

if TYPE_CHECKING:
    import torch

VOC_PROTOCOLS = ("voc07", "voc12")


def evaluate(
    gt: Union[PathLike, Mapping[str, Any], GroundTruth],
    preds: PredsLike,
    metric: str = "bbox",
    *,
    device: Union[str, "torch.device"] = "auto",
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
        device: ``auto`` (cuda when available, else cpu; for ``rotated`` and VOC, numpy), ``cpu`` (torch),
            ``cuda`` or ``cuda:k``; ``numpy`` (``rotated`` and VOC only): the same kernels on numpy arrays,
            without importing torch (the fastest for one CPU run: torch's import alone takes about 2 s).
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
        workers: CPU threads for the torch kernels (default: torch's, i.e. the cores it is given); on the
            numpy backend, the threads that share the polygon IoU chunks (default: the usable cores).
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
    if workers is not None and workers < 1:
        raise ParameterError(f"Expected `workers` to be a positive integer but got {workers!r}.")
    if metric == "rotated":
        from .data.rotated import RotatedReading, resolve_imageset

        imageset = resolve_imageset(imageset)
        # the text inputs parse on a background thread while the device is chosen (torch imported if needed)
        with RotatedReading(gt, preds, imageset) as reading:
            dev = resolve_device(device, numpy_ok=True)
            from .rotated import evaluate_rotated

            with torch_threads(workers, dev):
                return evaluate_rotated(gt, preds, protocol=protocol or "dota-v1.0", eval_mode=eval_mode or "11points",
                                        iou_thr=iou_thr, classes=classes, imageset=imageset, device=dev, log=log,
                                        reading=reading, workers=workers)
    if protocol in VOC_PROTOCOLS:
        from .voc import evaluate_voc

        _check_voc_options(protocol, metric, eval_mode, max_dets=max_dets, area_ranges=area_ranges, img_ids=img_ids,
                           cat_ids=cat_ids, use_cats=use_cats)
        dev = resolve_device(device, numpy_ok=True)
        with torch_threads(workers, dev):
            return evaluate_voc(gt, preds, protocol=protocol, iou_thrs=(iou_thr,) if iou_thrs is None else iou_thrs,
                                classes=classes, imageset=imageset, device=dev, log=log)
    dev = resolve_device(device)
    from .coco_lvis import evaluate_coco

    return evaluate_coco(gt, preds, metric, device=dev, iou_thrs=iou_thrs, max_dets=max_dets, area_ranges=area_ranges,
                         img_ids=img_ids, cat_ids=cat_ids, use_cats=use_cats, protocol=protocol, log=log,
                         progress=progress, workers=workers)


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
