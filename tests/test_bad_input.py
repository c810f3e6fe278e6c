"""Bad input gets one clear error naming the file, the record and the fix, never a traceback."""
import copy
import json

import numpy as np
import pytest
import torch

from evaluators import InputFileError, ParameterError, RecordError, UnknownIdError, evaluate


def _gt():
    return {
        "images": [{"id": 1, "height": 40, "width": 40}, {"id": 2, "height": 40, "width": 40}],
        "categories": [{"id": 1, "name": "a"}, {"id": 3, "name": "b"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0,
             "segmentation": [[0, 0, 10, 0, 10, 10, 0, 10]]},
            {"id": 2, "image_id": 2, "category_id": 3, "bbox": [5, 5, 20, 20], "area": 400, "iscrowd": 0,
             "segmentation": [[5, 5, 25, 5, 25, 25, 5, 25]]},
        ],
    }


def _dets():
    return [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
            {"image_id": 2, "category_id": 3, "bbox": [5, 5, 20, 19], "score": 0.8}]


def test_unknown_image_ids_are_named_and_counted():
    dets = _dets() + [{"image_id": 7, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.1}] * 3
    with pytest.raises(UnknownIdError, match=r"3 prediction\(s\) use 1 image id\(s\).*\(7\).*Fix:"):
        evaluate(_gt(), dets, device="cpu")


def test_unknown_category_ids_suggest_the_mapping_fix():
    dets = _dets() + [{"image_id": 1, "category_id": 0, "bbox": [0, 0, 1, 1], "score": 0.1}]
    with pytest.raises(UnknownIdError, match=r"category id.*\(0\).*1\.\.90"):
        evaluate(_gt(), dets, device="cpu")


@pytest.mark.parametrize("field,value,pattern", [
    ("score", float("nan"), r"record #1 .*'score' is NaN or infinite"),
    ("score", float("inf"), r"'score' is NaN or infinite"),
    ("bbox", [0, 0, float("nan"), 1], r"'bbox' is NaN or infinite"),
    ("bbox", [0, 0, -3, 4], r"negative width or height"),
    ("bbox", [0, 0, 4], r"must be 4 numbers"),
])
def test_bad_prediction_values(field, value, pattern):
    dets = _dets()
    dets[1][field] = value
    with pytest.raises(RecordError, match=pattern):
        evaluate(_gt(), dets, device="cpu")


def test_missing_prediction_key():
    dets = _dets()
    del dets[1]["score"]
    with pytest.raises(RecordError, match=r"record #1 .*has no 'score'.*Fix: add a 'score'"):
        evaluate(_gt(), dets, device="cpu")


def test_gt_without_area_is_refused_with_the_fix():
    gt = _gt()
    del gt["annotations"][1]["area"]
    with pytest.raises(RecordError, match=r"'annotations', record #1 .*has no 'area'.*Fix: add 'area'"):
        evaluate(gt, _dets(), device="cpu")


def test_gt_without_iscrowd_is_filled_with_zero_and_warned(capsys):
    gt = _gt()
    for a in gt["annotations"]:
        del a["iscrowd"]
    ours = evaluate(gt, _dets(), device="cpu").stats
    assert "treating them as iscrowd=0" in capsys.readouterr().err
    assert ours == evaluate(_gt(), _dets(), device="cpu").stats


def test_duplicate_gt_annotation_ids():
    gt = _gt()
    gt["annotations"][1]["id"] = 1
    with pytest.raises(RecordError, match=r"repeats annotation id 1"):
        evaluate(gt, _dets(), device="cpu")


def test_gt_annotation_of_unlisted_image():
    gt = _gt()
    gt["annotations"][1]["image_id"] = 99
    with pytest.raises(RecordError, match=r"image_id 99 is not listed in 'images'"):
        evaluate(gt, _dets(), device="cpu")


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(InputFileError, match=r"nope.json: ground truth file does not exist"):
        evaluate(tmp_path / "nope.json", _dets(), device="cpu")
    bad = tmp_path / "preds.json"
    bad.write_text(json.dumps(_dets())[:-7])
    with pytest.raises(InputFileError, match=r"preds.json: predictions file is not valid JSON .*line 1"):
        evaluate(_gt(), bad, device="cpu")
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(InputFileError, match=r"empty"):
        evaluate(_gt(), empty, device="cpu")


def test_nan_in_a_json_file_is_named(tmp_path):
    path = tmp_path / "preds.json"
    path.write_text(json.dumps(_dets()).replace("0.8", "NaN"))
    with pytest.raises(RecordError, match=r"preds.json, record #1 .*'score' is NaN"):
        evaluate(_gt(), path, device="cpu")


def test_a_dataset_passed_as_predictions(tmp_path):
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(_gt()))
    with pytest.raises(InputFileError, match=r"is a dataset .*not a results list"):
        evaluate(_gt(), path, device="cpu")


def test_mask_of_the_wrong_size():
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(np.ones((20, 40), np.uint8)))
    rle["counts"] = rle["counts"].decode()
    dets = [{"image_id": 1, "category_id": 1, "segmentation": rle, "score": 0.5}]
    with pytest.raises(RecordError, match=r"mask size \[20, 40\] differs from the image's .*\[40, 40\]"):
        evaluate(_gt(), dets, metric="segm", device="cpu")


def test_bad_parameters():
    with pytest.raises(ParameterError, match="`metric`"):
        evaluate(_gt(), _dets(), metric="keypoints", device="cpu")
    with pytest.raises(ParameterError, match="`max_dets`"):
        evaluate(_gt(), _dets(), max_dets=[10], device="cpu")
    with pytest.raises(ParameterError, match="`iou_thrs`"):
        evaluate(_gt(), _dets(), iou_thrs=[1.5], device="cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="no CUDA GPU"):
            evaluate(_gt(), _dets(), device="cuda")


def test_inputs_are_not_mutated():
    gt, dets = _gt(), _dets()
    gt0, dets0 = copy.deepcopy(gt), copy.deepcopy(dets)
    evaluate(gt, dets, metric="segm", device="cpu")
    assert gt == gt0 and dets == dets0


def test_polygon_that_pycocotools_cannot_rasterise():
    gt = _gt()
    gt["annotations"][1]["segmentation"] = [[5, 5, 25, 5], [5, 5, 25, 5, 25, 25]]
    with pytest.raises(RecordError, match=r"'annotations', record #1 .*cannot rasterise.*Fix: give every polygon"):
        evaluate(gt, _dets(), metric="segm", device="cpu")
