"""PASCAL VOC evaluation on hand-made cases, its IoU kernel, bad input and the command line.

Each hand-made case checks the number we give AND that the ``vocref`` reference gives the same, so the
rule being tested is the devkit's: IoU exactly at the threshold does not match (``>``), a taken best GT
makes a false positive (no fall-back), equal IoUs go to the first GT in file order, a difficult best GT
makes the detection ignored, ties in score keep input order, and the devkit's IoU on corners derived
from COCO boxes is used (not the continuous IoU, which differs in the last bit at threshold-exact cases).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import vocgen
import vocref
from dataprep.cli import cli
from evaluators import evaluate
from evaluators.cli import evaluate_command
from evaluators.data.voc import VOC_CLASSES, coco_to_voc_corners, voc_to_coco_box
from evaluators.engine.box_pairs import voc_box_candidates
from evaluators.engine.grouping import build_groups
from evaluators.errors import InputFileError, ParameterError, RecordError, UnknownIdError
from evaluators.kernels.box_iou import CornerBoxes, voc_iou_pairs
from evaluators.params import EvalParams

DOG = "dog"


def _case(tmp_path: Path, objects, dets, protocol="voc07", **kw):
    """One image 'img1' (200x200) with ``objects`` [(x1, y1, x2, y2, difficult)] of class dog and the
    COCO-box detections ``dets`` [(score, (x, y, w, h))]: (our AP, the reference's AP)."""
    images = [("img1", 200, 200, [(DOG, *o) for o in objects])]
    det = {DOG: [("img1", s, b) for s, b in dets]}
    base = vocgen.write_vocdevkit(tmp_path, images)
    res = evaluate(str(base), vocgen.coco_results(images, det), protocol=protocol, imageset="test", device="cpu",
                   classes=[DOG], **kw)
    thr = kw.get("iou_thrs", [0.5])[0]
    ref = vocref.voc_eval(vocgen.recs(images), vocgen.ref_dets(det, DOG), DOG, thr, protocol == "voc07")[2]
    return res.per_class_rows[0]["AP"], ref


def _same(pair, expected: float) -> bool:
    """Our AP equals the reference's exactly, and is ``expected`` (up to the 11-point sum's rounding)."""
    ap, ref = pair
    return ap == ref and ap == pytest.approx(expected, abs=1e-15)


def _runner():
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 always separates stderr
        return CliRunner()


# --------------------------------------------------------------------------- the rules, case by case


def test_iou_exactly_at_threshold_does_not_match(tmp_path):
    gt = [(1, 1, 10, 10, 0)]
    assert _same(_case(tmp_path / "a", gt, [(0.9, (0.0, 0.0, 10.0, 5.0))]), 0.0)  # devkit IoU 50/100 = 0.5
    assert _same(_case(tmp_path / "b", gt, [(0.9, (0.0, 0.0, 10.0, 5.5))]), 1.0)  # 0.55
    assert _same(_case(tmp_path / "c", gt, [(0.9, (0.0, 0.0, 10.0, 5.0))], iou_thrs=[0.49]), 1.0)


def test_taken_best_gt_gives_a_false_positive_without_fallback(tmp_path):
    # both detections' best GT is A; the second could match B (IoU 0.667) but the devkit does not look
    ap, ref = _case(tmp_path, [(1, 1, 10, 10, 0), (3, 1, 12, 10, 0)],
                    [(0.9, (0.0, 0.0, 10.0, 10.0)), (0.8, (0.0, 0.0, 10.0, 10.0))])
    assert ap == ref == pytest.approx(6 / 11, abs=1e-15)


def test_equal_ious_go_to_the_first_gt_in_file_order(tmp_path):
    det = [(0.9, (0.0, 0.0, 10.0, 10.0))]
    assert _same(_case(tmp_path / "a", [(1, 1, 10, 10, 1), (1, 1, 10, 10, 0)], det), 0.0)  # first is difficult
    assert _same(_case(tmp_path / "b", [(1, 1, 10, 10, 0), (1, 1, 10, 10, 1)], det), 1.0)


def test_difficult_best_gt_makes_the_detection_ignored(tmp_path):
    # best GT difficult (IoU 1) -> ignored, even though a regular GT has IoU 0.82; then a real FP follows
    ap, ref = _case(tmp_path, [(1, 1, 10, 10, 1), (2, 1, 11, 10, 0)],
                    [(0.9, (0.0, 0.0, 10.0, 10.0)), (0.8, (100.0, 100.0, 10.0, 10.0))])
    assert ap == ref == 0.0


def test_equal_scores_keep_input_order(tmp_path):
    fp, tp = (0.5, (100.0, 100.0, 10.0, 10.0)), (0.5, (0.0, 0.0, 10.0, 10.0))
    assert _same(_case(tmp_path / "a", [(1, 1, 10, 10, 0)], [fp, tp]), 0.5)
    assert _same(_case(tmp_path / "b", [(1, 1, 10, 10, 0)], [tp, fp]), 1.0)
    area, ref = _case(tmp_path / "c", [(1, 1, 10, 10, 0)], [fp, tp], protocol="voc12")
    assert area == ref == 0.5


def test_devkit_iou_on_derived_corners_not_the_continuous_iou():
    """A GT at a fractional position (COCO JSON from elsewhere) and a detection of half its height: the IoU
    is 0.5 in exact arithmetic; the devkit's operations on the corners [x + 1, y + 1, x + w, y + h] give
    0.5000000000000001 (a match), the continuous IoU on the COCO boxes gives 0.5 (no match). We follow
    the devkit."""
    g_box, d_box = [157.3, 71.7, 97.0, 90.0], [157.3, 71.7, 97.0, 45.0]
    gt = {"images": [{"id": 1, "file_name": "a.jpg", "width": 400, "height": 400}],
          "categories": [{"id": 1, "name": DOG}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": g_box, "area": 8730.0, "iscrowd": 0}]}
    res = evaluate(gt, [{"image_id": 1, "category_id": 1, "bbox": d_box, "score": 0.9}], protocol="voc07",
                   device="cpu")
    g, d = vocgen.corners(g_box), vocgen.corners(d_box)
    ref = vocref.voc_eval({"a": [{"name": DOG, "difficult": 0, "bbox": g}]}, [("a", 0.9, d)], DOG, 0.5, True)[2]
    w = min(g_box[0] + g_box[2], d_box[0] + d_box[2]) - max(g_box[0], d_box[0])
    h = min(g_box[1] + g_box[3], d_box[1] + d_box[3]) - max(g_box[1], d_box[1])
    continuous = w * h / ((d_box[2] * d_box[3] + g_box[2] * g_box[3]) - w * h)
    assert continuous == 0.5 and res.stats["mAP"] == ref == pytest.approx(1.0, abs=1e-15)


def test_classes_without_gt_are_undefined_and_left_out_of_the_mean(tmp_path):
    images = [("a", 100, 100, [(DOG, 1, 1, 10, 10, 0), ("cat", 20, 20, 40, 40, 1)]), ("b", 100, 100, [])]
    dets = {DOG: [("a", 0.9, (0.0, 0.0, 10.0, 10.0))], "cat": [("a", 0.8, (19.0, 19.0, 21.0, 21.0))],
            "bird": [("b", 0.7, (5.0, 5.0, 5.0, 5.0))]}
    base = vocgen.write_vocdevkit(tmp_path, images)
    res = evaluate(str(base), vocgen.coco_results(images, dets), protocol="voc12", imageset="test", device="cpu")
    rows = {r["name"]: r for r in res.per_class_rows}
    assert rows[DOG]["AP"] == 1.0 and not rows[DOG]["no_gt"]
    assert rows["cat"] == {**rows["cat"], "AP": -1.0, "no_gt": True, "n_gt": 0, "n_ignored": 1, "n_dets": 1}
    assert rows["bird"]["no_gt"] and rows["bird"]["n_dets"] == 1
    assert res.stats["mAP"] == 1.0  # the dog alone; the devkit's area rule would give NaN for cat and bird
    assert res.to_dict()["per_class"][list(VOC_CLASSES).index("cat")]["AP"] is None
    assert "(no ground truth: not in the mean)" in res.summary()


def test_no_predictions_give_zero(tmp_path):
    base = vocgen.write_vocdevkit(tmp_path, [("a", 100, 100, [(DOG, 1, 1, 10, 10, 0)])])
    for preds in ([], str(tmp_path / "empty_det")):
        (tmp_path / "empty_det").mkdir(exist_ok=True)
        (tmp_path / "empty_det" / f"comp4_det_test_{DOG}.txt").write_text("")
        res = evaluate(str(base), preds, protocol="voc07", imageset="test", device="cpu")
        assert res.stats == {"mAP": 0.0, "AP50": 0.0}


# --------------------------------------------------------------------------- the IoU kernel


def _numpy_devkit(g: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The devkit's IoU, written as voc_eval writes it, row by row."""
    with np.errstate(invalid="ignore"):
        iw = np.maximum(np.minimum(g[:, 2], d[:, 2]) - np.maximum(g[:, 0], d[:, 0]) + 1.0, 0.0)
        ih = np.maximum(np.minimum(g[:, 3], d[:, 3]) - np.maximum(g[:, 1], d[:, 1]) + 1.0, 0.0)
        inter = iw * ih
        return inter / ((d[:, 2] - d[:, 0] + 1.0) * (d[:, 3] - d[:, 1] + 1.0)
                        + (g[:, 2] - g[:, 0] + 1.0) * (g[:, 3] - g[:, 1] + 1.0) - inter)


def test_kernel_is_bit_identical_to_the_devkit_formula():
    rng = np.random.default_rng(7)
    n = 20000
    g = np.round(rng.uniform(1, 60, (n, 2)), int(rng.integers(0, 3)))
    g = np.concatenate([g, g + np.floor(rng.uniform(0, 40, (n, 2)))], 1)
    kind = rng.integers(0, 3, n)
    d = np.where(kind[:, None] == 0, g + rng.integers(-3, 4, (n, 4)), g + rng.normal(0, 2, (n, 4)))
    d = np.where(kind[:, None] == 2, coco_to_voc_corners(np.stack([g[:, 0] - 1 + rng.random(n) / 3, g[:, 1] - 1,
                                                                   g[:, 2] - g[:, 0] + 1, (g[:, 3] - g[:, 1] + 1) / 2], 1)), d)
    d[:, 2:] = np.maximum(d[:, 2:], d[:, :2] - 1)
    d[:5] = [[3, 3, 2, 2]] * 5  # zero-area detections, against a zero-area GT too
    g[0] = [7, 7, 6, 6]
    ref = _numpy_devkit(g, d)
    idx = np.arange(n)
    for on in (np.asarray, torch.from_numpy):  # the kernel on numpy arrays and on torch tensors
        ours = np.asarray(voc_iou_pairs(CornerBoxes.from_corners(on(d)), CornerBoxes.from_corners(on(g)), on(idx),
                                        on(idx)))
        assert np.array_equal(ours, ref, equal_nan=True)
        assert math.isnan(ours[0]) and (ours == 0.5).sum() > 10  # threshold-exact values do occur


def test_nan_iou_in_a_group_makes_the_detection_a_false_positive():
    """A GT with a negative devkit area -2 and a detection of area +2: 0 / 0 for that pair, so the devkit's
    np.max over the image's IoUs is NaN and the detection is a false positive although GT 1 is a perfect
    match. The loaders refuse such corners; the candidate step still follows the devkit."""
    gt_box = np.array([[0.0, 0.0, -2.0, 1.0], [0.0, 0.0, 1.0, 0.0]])
    dt_box = np.array([[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 0.0]])

    class Table:  # the columns build_groups reads
        img_ids, cat_ids = np.array([0]), np.array([0])
        ann_img, ann_cat = np.array([0, 0]), np.array([0, 0])
        img, cat, score = np.array([0, 0]), np.array([0, 0]), np.array([0.9, 0.8])

    params = EvalParams(metric="voc", iou_thrs=(0.5,), max_dets=(1 << 62,), area_ranges=((0.0, math.inf),),
                        area_labels=("all",), cat_ids=(0,))
    groups = build_groups(Table, Table, params)
    for device in ("numpy", torch.device("cpu")):
        cands = voc_box_candidates(groups, gt_box[groups.gt_row], dt_box[groups.dt_row], [0.5], True, device)
        assert len(cands.det) == 0
    recs = {"a": [{"name": DOG, "difficult": 0, "bbox": list(b)} for b in gt_box]}
    rec, _, ap = vocref.voc_eval(recs, [("a", 0.9, list(dt_box[0]))], DOG, 0.5, True)
    assert ap == 0.0 and rec[-1] == 0.0


def test_box_convention_round_trip():
    assert voc_to_coco_box(48, 240, 195, 371) == (47.0, 239.0, 148.0, 132.0)
    assert coco_to_voc_corners(np.array([[47.0, 239.0, 148.0, 132.0]])).tolist() == [[48.0, 240.0, 195.0, 371.0]]


# --------------------------------------------------------------------------- bad input


@pytest.fixture()
def scene(tmp_path):
    images, dets = vocgen.make_scene(5)
    base = vocgen.write_vocdevkit(tmp_path / "VOCdevkit", images)
    vocgen.write_comp4(tmp_path / "det", dets)
    return base, images, dets, tmp_path


def test_folder_without_imageset_names_the_splits(scene):
    base, _, _, tmp = scene
    with pytest.raises(ParameterError, match=r"needs an image set.*--imageset test"):
        evaluate(str(base), str(tmp / "det"), protocol="voc07", device="cpu")
    with pytest.raises(InputFileError, match=r"val\.txt.*does not exist"):
        evaluate(str(base), str(tmp / "det"), protocol="voc07", imageset="val", device="cpu")
    with pytest.raises(InputFileError, match=r"has no Annotations/.*VOC2007"):
        evaluate(str(tmp / "VOCdevkit"), str(tmp / "det"), protocol="voc07", imageset="test", device="cpu")


def test_detection_on_an_unknown_image(scene):
    base, images, dets, tmp = scene
    path = next((tmp / "det").glob("comp4_det_test_*.txt"))
    n = len(path.read_text().splitlines())
    with path.open("a") as fh:
        fh.write("not_in_the_set 0.5 1 1 10 10\n")
    with pytest.raises(UnknownIdError, match=rf"{path.name}, line {n + 1}.*not_in_the_set"):
        evaluate(str(base), str(tmp / "det"), protocol="voc07", imageset="test", device="cpu")
    results = vocgen.coco_results(images, dets) + [{"image_id": 999, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]
    with pytest.raises(UnknownIdError, match=rf"record #{len(results) - 1}.*999"):
        evaluate(str(base), results, protocol="voc07", imageset="test", device="cpu")
    named = [{"image_name": "nope.jpg", "category": DOG, "bbox": [0, 0, 1, 1], "score": 1}]
    with pytest.raises(UnknownIdError, match="nope"):
        evaluate(str(base), named, protocol="voc07", imageset="test", device="cpu")


@pytest.mark.parametrize("line,message", [
    ("a 0.5 1 2 3", "has 5 tokens, a detection line has 6"),
    ("a 0.5 1 2 x 4", "'x' is not a number"),
    ("a nan 1 2 3 4", "NaN or infinity"),
    ("a 0.5 10 10 5 20", "xmax < xmin - 1"),
])
def test_malformed_comp4_line_is_located(scene, line, message):
    base, images, _, tmp = scene
    name = images[0][0]
    path = tmp / "det" / f"comp4_det_test_{DOG}.txt"
    old = path.read_text() if path.exists() else ""
    path.write_text(old + line.replace("a ", f"{name} ", 1) + "\n")
    with pytest.raises(RecordError, match=rf"{path.name}, line {len(old.splitlines()) + 1}.*{message}"):
        evaluate(str(base), str(tmp / "det"), protocol="voc07", imageset="test", device="cpu")


def test_bad_xml_in_the_ground_truth_is_located(scene):
    base, images, _, tmp = scene
    name = next(im[0] for im in images if im[3])
    path = base / "Annotations" / f"{name}.xml"
    path.write_text(path.read_text().replace("<xmin>", "<xmin>12a", 1))
    with pytest.raises(RecordError, match=rf"{name}\.xml, object #0.*<bndbox>/<xmin> is not a number"):
        evaluate(str(base), str(tmp / "det"), protocol="voc07", imageset="test", device="cpu")


def test_bad_options(scene):
    base, _, _, tmp = scene
    run = lambda **kw: evaluate(str(base), str(tmp / "det"), imageset="test", device="cpu", **kw)  # noqa: E731
    with pytest.raises(ParameterError, match="evaluates boxes"):
        run(protocol="voc07", metric="segm")
    with pytest.raises(ParameterError, match="voc07 uses 11points AP"):
        run(protocol="voc07", eval_mode="area")
    with pytest.raises(ParameterError, match="max_dets"):
        run(protocol="voc12", max_dets=[1, 10, 100])
    with pytest.raises(ParameterError, match="repeats"):
        run(protocol="voc12", iou_thrs=[0.5, 0.5])
    with pytest.raises(ParameterError, match="repeats dog"):
        run(protocol="voc12", classes=[DOG, DOG])


def test_bad_json_ground_truth(tmp_path):
    gt = {"images": [{"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}], "categories": [{"id": 1, "name": DOG}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": 0,
                           "difficult": "yes"}]}
    with pytest.raises(RecordError, match=r"record #0.*'difficult' is 'yes'"):
        evaluate(gt, [], protocol="voc07", device="cpu")
    gt["annotations"][0]["difficult"] = 0
    with pytest.raises(ParameterError, match="no categor.*'cat'.*choose among dog"):
        evaluate(gt, [], protocol="voc07", classes=["cat"], device="cpu")
    with pytest.raises(UnknownIdError, match="category.*7"):
        evaluate(gt, [{"image_id": 1, "category_id": 7, "bbox": [0, 0, 1, 1], "score": 1}], protocol="voc07",
                 device="cpu")


def test_difficult_field_wins_over_iscrowd():
    """``difficult`` decides when present (coco-from-voc --keep-difficult: difficult 1, iscrowd 0); else iscrowd."""
    def run(**fields):
        gt = {"images": [{"id": 1, "file_name": "a.jpg", "width": 99, "height": 99}],
              "categories": [{"id": 1, "name": DOG}],
              "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 9, 9], "area": 81, **fields},
                              {"id": 2, "image_id": 1, "category_id": 1, "bbox": [50, 50, 9, 9], "area": 81}]}
        res = evaluate(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 9, 9], "score": 1.0}],
                       protocol="voc07", device="cpu")
        return res.per_class_rows[0]["n_ignored"]
    assert run(difficult=1, iscrowd=0) == 1
    assert run(difficult=0, iscrowd=1) == 0
    assert run(iscrowd=1) == 1
    assert run() == 0


# --------------------------------------------------------------------------- command line


def test_cli_voc_protocol(scene):
    base, _, _, tmp = scene
    out = tmp / "res.json"
    res = _runner().invoke(evaluate_command, [str(tmp / "det"), "--gt", str(base), "--protocol", "voc07",
                                              "--imageset", "test", "--device", "cpu", "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    lib = evaluate(str(base), str(tmp / "det"), protocol="voc07", imageset="test", device="cpu")
    assert res.stdout.strip() == lib.summary()
    assert res.stdout.startswith("PASCAL VOC2007 rules: box IoU > 0.5") and f"{lib.stats['mAP']:.4f}" in res.stdout
    data = json.loads(out.read_text())
    assert data["protocol"] == "voc07" and data["stats"]["mAP"] == lib.stats["mAP"]
    assert [r["name"] for r in data["per_class"]] == list(VOC_CLASSES)
    res = _runner().invoke(cli, ["evaluate", str(tmp / "det"), "--gt", str(base), "--protocol", "voc12",
                                 "--imageset", "test", "--iou-thrs", "0.5,0.75", "-q"])
    assert res.exit_code == 0 and "AP50" in res.stdout and "AP75" in res.stdout


def test_cli_voc_usage_and_input_errors(scene):
    base, _, _, tmp = scene
    args = [str(tmp / "det"), "--gt", str(base), "--protocol", "voc07", "--imageset", "test", "-q"]
    res = _runner().invoke(evaluate_command, args + ["--max-dets", "1,10,100"])
    assert res.exit_code == 2 and "--max-dets" in res.stderr
    res = _runner().invoke(evaluate_command, args + ["--eval-mode", "area"])
    assert res.exit_code == 2 and "--eval-mode" in res.stderr
    res = _runner().invoke(evaluate_command, args + ["--metric", "segm"])
    assert res.exit_code == 2
    res = _runner().invoke(evaluate_command, [str(tmp / "det"), "--gt", str(base), "--protocol", "voc07", "-q"])
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: ") and "--imageset test" in lines[0]


def test_dense_and_sweep_pairs_give_the_same_candidates():
    """All same-group pairs or only the x-overlapping ones (the sweep): the same candidates, IoUs included."""
    images, dets = vocgen.make_scene(11, n_images=(30, 31))
    recs = vocgen.recs(images)
    names = list(recs)
    gt_rows = [(names.index(n), VOC_CLASSES.index(o["name"]), o["bbox"]) for n in names for o in recs[n]]
    dt_rows = [(names.index(n), VOC_CLASSES.index(c), s, vocgen.corners(b)) for c, lst in dets.items() for n, s, b in lst]

    class Table:
        img_ids, cat_ids = np.arange(len(names)), np.arange(20)
        ann_img, ann_cat = np.array([r[0] for r in gt_rows]), np.array([r[1] for r in gt_rows])
        img, cat = np.array([r[0] for r in dt_rows]), np.array([r[1] for r in dt_rows])
        score = np.array([r[2] for r in dt_rows])

    params = EvalParams(metric="voc", iou_thrs=(0.5,), max_dets=(1 << 62,), area_ranges=((0.0, math.inf),),
                        area_labels=("all",), cat_ids=tuple(range(20)))
    groups = build_groups(Table, Table, params)
    g = np.array([r[2] for r in gt_rows], float)[groups.gt_row]
    d = np.array([r[3] for r in dt_rows], float)[groups.dt_row]
    out = []
    for how in ("dense", "sweep"):
        for device in ("numpy", torch.device("cpu")):
            c = voc_box_candidates(groups, g, d, [0.1, 0.5], True, device, pairs=how)
            det, gt, iou = (np.asarray(a) for a in (c.det, c.gt, c.iou))
            order = np.lexsort((gt, det))
            out.append(np.stack([det[order], gt[order], iou[order]]))
    assert out[0].shape[1] > 50 and all(np.array_equal(out[0], o) for o in out[1:])


def test_results_may_name_images_and_classes(scene):
    """COCO results naming the image (``image_name``, or a string ``image_id`` such as "000123": never read as
    the number 123) and the class (``category``) give the numbers of the id form."""
    base, images, dets, _ = scene
    by_id = vocgen.coco_results(images, dets)
    names = {k: im[0] for k, im in enumerate(images, 1)}
    by_name = [{"image_id": names[r["image_id"]], "category": VOC_CLASSES[r["category_id"] - 1], "score": r["score"],
                "bbox": r["bbox"]} for r in by_id]
    file_named = [{**{k: v for k, v in r.items() if k != "image_id"}, "image_name": names[r["image_id"]] + ".jpg"}
                  for r in by_id]
    run = lambda preds: evaluate(str(base), preds, protocol="voc12", imageset="test", device="cpu")  # noqa: E731
    want = run(by_id)
    assert run(by_name).per_class_rows == want.per_class_rows == run(file_named).per_class_rows


def test_string_image_id_is_a_name_not_a_number(tmp_path):
    """Images '000002' then '000001' (ids 1 and 2): a detection of image_id "000001" is on the second image;
    reading the string as the number 1 would put it on the first."""
    images = [("000002", 100, 100, [(DOG, 50, 50, 60, 60, 0)]), ("000001", 100, 100, [(DOG, 1, 1, 10, 10, 0)])]
    base = vocgen.write_vocdevkit(tmp_path, images)
    det = [{"image_id": "000001", "category_id": VOC_CLASSES.index(DOG) + 1, "bbox": [0, 0, 10, 10], "score": 0.9}]
    res = evaluate(str(base), det, protocol="voc12", imageset="test", device="cpu", classes=[DOG])
    assert res.stats["mAP"] == 0.5  # one of the two dogs found, at precision 1
    det[0]["image_id"] = 2
    assert evaluate(str(base), det, protocol="voc12", imageset="test", device="cpu", classes=[DOG]).stats["mAP"] == 0.5
    det[0]["image_id"] = 1
    assert evaluate(str(base), det, protocol="voc12", imageset="test", device="cpu", classes=[DOG]).stats["mAP"] == 0.0


def test_evaluator_feeds_voc_in_parts(tmp_path):
    """``Evaluator(gt_json, protocol="voc07")`` fed in two parts == one ``evaluate`` call."""
    from converters.voc import VocConvertOptions, convert_voc
    from evaluators import Evaluator

    images, dets = vocgen.make_scene(8)
    vocgen.write_vocdevkit(tmp_path / "VOCdevkit", images)
    convert_voc(tmp_path / "VOCdevkit", tmp_path / "ann", VocConvertOptions(splits=("test",)))
    gt = str(tmp_path / "ann" / "voc07_test.json")
    results = vocgen.coco_results(images, dets)
    ev = Evaluator(gt, protocol="voc07", device="cpu")
    ev.update(results[: len(results) // 2]).update(results[len(results) // 2:])
    assert ev.compute().per_class_rows == evaluate(gt, results, protocol="voc07", device="cpu").per_class_rows
