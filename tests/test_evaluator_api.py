"""The stateful Evaluator and the public surface of the package."""
from pathlib import Path

import numpy as np
import orjson
import pytest

import evaluators
from evaluators import Evaluator, ParameterError, evaluate

SAMPLES = Path(__file__).resolve().parents[1] / "evaluators" / "samples"
GT = SAMPLES / "instances_val2014_100.json"
DETS = orjson.loads((SAMPLES / "instances_val2014_fakebbox100_results.json").read_bytes())


def test_public_surface():
    assert set(evaluators.__all__) == {"evaluate", "Evaluator", "EvalParams", "EvalResult", "DataprepError",
                                       "InputFileError", "RecordError", "UnknownIdError", "ParameterError",
                                       "rbox_to_poly", "poly_to_rbox", "normalize_rbox", "LayoutError"}
    for name in evaluators.__all__:
        assert getattr(evaluators, name).__doc__


def test_parts_merged_equal_one_shot():
    whole = evaluate(GT, DETS, device="cpu")
    a = Evaluator(GT, device="cpu")
    b = Evaluator(a.gt, device="cpu")
    a.update(DETS[:300])
    b.update(DETS[300:500]).update(DETS[500:])
    a += b
    assert len(a) == len(DETS)
    merged = a.compute()
    assert merged.stats == whole.stats
    assert np.array_equal(merged.precision, whole.precision)


def test_reset_and_mismatched_merge():
    a = Evaluator(GT, device="cpu").update(DETS)
    assert len(a.reset()) == 0
    assert a.compute().stats["AP"] == 0.0  # no detections: precision 0 where GT exists
    with pytest.raises(ParameterError, match="different metrics"):
        a += Evaluator(a.gt, metric="proposal", device="cpu")


def test_array_input_matches_dicts():
    arr = np.array([[d["image_id"], *d["bbox"], d["score"], d["category_id"]] for d in DETS])
    assert evaluate(GT, arr, device="cpu").stats == evaluate(GT, DETS, device="cpu").stats


def test_per_class_frame():
    df = evaluate(GT, DETS, device="cpu").per_class
    assert list(df.columns) == ["id", "name", "AP", "AP50", "AP75", "APs", "APm", "APl", "AR100", "n_gt", "n_dets"]
    assert len(df) == 80
    person = df[df.name == "person"].iloc[0]
    gt = orjson.loads(GT.read_bytes())
    assert person.n_gt == sum(1 for a in gt["annotations"] if a["category_id"] == 1 and not a["iscrowd"])
    assert person.n_dets == sum(1 for d in DETS if d["category_id"] == 1)


def test_bbox_metric_on_mask_only_results_uses_mask_boxes_like_loadres():
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    segm = Path(__file__).resolve().parent / "data" / "instances_val2014_fakesegm100_results.json"
    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO(str(GT))
        ev = COCOeval(g, g.loadRes(str(segm)), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    ours = evaluate(GT, segm, metric="bbox", device="cpu")
    assert list(ours.stats.values()) == ev.stats.tolist()
    assert np.array_equal(ours.precision, ev.eval["precision"])


def test_dataprep_commands_start_without_torch():
    """Converters and `dataprep --help` import only the exception tree; `evaluate` imports torch when it
    runs (after starting to read its inputs), not when it is imported."""
    import subprocess
    import sys

    sample = Path(__file__).resolve().parents[1] / "evaluators" / "samples"
    code = ("import sys, evaluators.errors, dataprep.cli; assert 'torch' not in sys.modules; "
            "from evaluators import evaluate; assert 'torch' not in sys.modules; "
            f"evaluate({str(sample / 'instances_val2014_100.json')!r}, "
            f"{str(sample / 'instances_val2014_fakebbox100_results.json')!r}, device='cpu'); "
            "assert 'torch' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
