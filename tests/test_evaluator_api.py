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


def _tiny_dota(root: Path) -> tuple:
    (root / "labelTxt").mkdir(parents=True)
    (root / "det").mkdir()
    (root / "labelTxt" / "P1.txt").write_text("0 0 10 0 10 10 0 10 plane 0\n20 20 30 20 30 30 20 30 ship 1\n")
    (root / "det" / "Task1_plane.txt").write_text("P1 0.9 0 0 10 0 10 9 0 9\nP1 0.8 50 50 60 50 60 60 50 60\n")
    return str(root / "labelTxt"), str(root / "det")


def test_rotated_numpy_backend_never_imports_torch(tmp_path):
    """device='numpy' (and 'auto' with a CPU-only torch build) runs the rotated engine on numpy arrays:
    torch is never imported, and the numbers equal the torch backend's."""
    import subprocess
    import sys

    from evaluators.device import gpu_possible

    gt, det = _tiny_dota(tmp_path)
    devices = ["numpy"] + ([] if gpu_possible() else ["auto"])
    for device in devices:
        code = ("import sys; from evaluators import evaluate; "
                f"r = evaluate({gt!r}, {det!r}, metric='rotated', device={device!r}); "
                "assert 'torch' not in sys.modules, 'torch imported'; "
                "print(r.info['device'], repr(r.stats['mAP']))")
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
        want = evaluate(gt, det, metric="rotated", device="cpu")
        assert out == ["numpy", repr(want.stats["mAP"])]
        assert want.info["device"] == "cpu" and want.stats["mAP"] > 0


def test_numpy_device_is_for_the_rotated_metric_only():
    from evaluators.errors import ParameterError

    with pytest.raises(ParameterError, match="rotated") as info:
        evaluate(GT, GT, metric="bbox", device="numpy")
    assert "--device cpu (or auto)" in str(info.value)


def test_gpu_possible_reads_the_torch_build_without_importing_it(tmp_path, monkeypatch):
    """A CPU-only build (version.py: cuda and hip None) rules a GPU out; a CUDA build does not."""
    import importlib.util
    import types

    from evaluators import device as dev

    (tmp_path / "torch").mkdir()
    init = tmp_path / "torch" / "__init__.py"
    init.write_text("")
    spec = types.SimpleNamespace(origin=str(init))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    monkeypatch.setattr(dev.os.path, "exists", lambda p: True)  # pretend a GPU device node exists
    (tmp_path / "torch" / "version.py").write_text("cuda: Optional[str] = None\nhip: Optional[str] = None\n")
    assert dev.gpu_possible() is False
    (tmp_path / "torch" / "version.py").write_text("cuda: Optional[str] = '12.4'\nhip: Optional[str] = None\n")
    assert dev.gpu_possible() is True
