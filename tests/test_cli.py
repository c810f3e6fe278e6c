"""The `evaluate` and `dataprep evaluate` commands, through click's runner."""
import json
from pathlib import Path

from click.testing import CliRunner

from dataprep.cli import cli
from evaluators.cli import evaluate_command

SAMPLES = Path(__file__).resolve().parents[1] / "evaluators" / "samples"
GT = str(SAMPLES / "instances_val2014_100.json")
DETS = str(SAMPLES / "instances_val2014_fakebbox100_results.json")
FIRST_LINE = " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.505"


def _runner():
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 always separates stderr
        return CliRunner()


def test_summary_on_stdout_progress_on_stderr_and_json_output(tmp_path):
    out = tmp_path / "res" / "results.json"
    res = _runner().invoke(evaluate_command, [DETS, "--gt", GT, "--metric", "bbox", "--device", "cpu", "-o", str(out)])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0] == FIRST_LINE and len(lines) == 12
    assert lines[11] == " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.564"
    assert "[evaluate] done: 100 images, 734 detections" in res.stderr
    data = json.loads(out.read_text())
    assert data["metric"] == "bbox"
    assert data["stats"]["AP"] == 0.5045806987249628
    assert len(data["per_class"]) == 80 and data["per_class"][0]["name"] == "person"
    assert not list(out.parent.glob(".*.tmp"))  # atomic write left no temp file


def test_per_class_table_and_quiet():
    res = _runner().invoke(evaluate_command, [DETS, "--gt", GT, "--per-class", "--quiet", "--device", "cpu"])
    assert res.exit_code == 0
    assert "| id | name | AP | AP50 | AP75 | APs | APm | APl | AR100 | n_gt | n_dets |" in res.stdout
    assert "| 1 | person | 0.533 |" in res.stdout
    assert res.stderr == ""


def test_proposal_metric_and_options():
    res = _runner().invoke(evaluate_command, [DETS, "--gt", GT, "--metric", "proposal", "-q", "--device", "cpu"])
    assert res.exit_code == 0
    assert " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=1000 ] = 0.678" in res.stdout
    res = _runner().invoke(evaluate_command, [DETS, "--gt", GT, "--iou-thrs", "0.5", "--max-dets", "1,10,100", "-q",
                                              "--device", "cpu"])
    assert res.exit_code == 0
    assert " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.697" in res.stdout
    assert "IoU=0.75      | area=   all | maxDets=100 ] = -1.000" in res.stdout


def test_bad_input_exits_1_with_one_line(tmp_path):
    bad = tmp_path / "preds.json"
    bad.write_text('[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]')
    res = _runner().invoke(evaluate_command, [str(bad), "--gt", GT, "-q"])
    assert res.exit_code == 1
    assert res.stderr.count("\n") == 1
    assert res.stderr.startswith("error: predictions ") and "image id(s)" in res.stderr and "Fix:" in res.stderr


def test_usage_error_exits_2():
    res = _runner().invoke(evaluate_command, [DETS, "--gt", GT, "--metric", "keypoints"])
    assert res.exit_code == 2
    res = _runner().invoke(evaluate_command, [DETS, "--gt", GT, "--max-dets", "a,b"])
    assert res.exit_code == 2


def test_dataprep_group_exposes_evaluate():
    res = _runner().invoke(cli, ["evaluate", DETS, "--gt", GT, "-q", "--device", "cpu"])
    assert res.exit_code == 0 and res.stdout.splitlines()[0] == FIRST_LINE
    assert _runner().invoke(cli, ["--version"]).stdout.startswith("dataprep, version")


def _tiny_lvis(tmp_path):
    gt = {
        "images": [{"id": 1, "height": 50, "width": 50, "neg_category_ids": [2], "not_exhaustive_category_ids": []},
                   {"id": 2, "height": 50, "width": 50, "neg_category_ids": [], "not_exhaustive_category_ids": [1]}],
        "categories": [{"id": 1, "name": "a", "frequency": "f"}, {"id": 2, "name": "b", "frequency": "r"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100},
                        {"id": 2, "image_id": 2, "category_id": 1, "bbox": [5, 5, 20, 20], "area": 400}],
    }
    dets = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
            {"image_id": 1, "category_id": 2, "bbox": [30, 30, 5, 5], "score": 0.8},  # negative category: a FP
            {"image_id": 2, "category_id": 2, "bbox": [0, 0, 5, 5], "score": 0.7}]    # neither: not evaluated
    (tmp_path / "lvis.json").write_text(json.dumps(gt))
    (tmp_path / "dets.json").write_text(json.dumps(dets))
    return str(tmp_path / "dets.json"), str(tmp_path / "lvis.json")


def test_lvis_file_is_recognised_and_said(tmp_path):
    dets, gt = _tiny_lvis(tmp_path)
    res = _runner().invoke(evaluate_command, [dets, "--gt", gt, "-q", "--device", "cpu", "--per-class"])
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "# LVIS protocol (lvis-api 0.5.3 rules), recognised from the annotation file"
    # lvis-api 0.5.3's print_results() for the same input (the negative-category detection is a FP, the
    # one of a category neither present nor negative is dropped, image 2's GT is small)
    assert lines[1:14] == [
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=300 catIds=all] = 0.505",
        " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=300 catIds=all] = 0.505",
        " Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=300 catIds=all] = 0.505",
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area=     s | maxDets=300 catIds=all] = 0.505",
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area=     m | maxDets=300 catIds=all] = -1.000",
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area=     l | maxDets=300 catIds=all] = -1.000",
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=300 catIds=  r] = -1.000",
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=300 catIds=  c] = -1.000",
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=300 catIds=  f] = 0.505",
        " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=300 catIds=all] = 0.500",
        " Average Recall     (AR) @[ IoU=0.50:0.95 | area=     s | maxDets=300 catIds=all] = 0.500",
        " Average Recall     (AR) @[ IoU=0.50:0.95 | area=     m | maxDets=300 catIds=all] = -1.000",
        " Average Recall     (AR) @[ IoU=0.50:0.95 | area=     l | maxDets=300 catIds=all] = -1.000",
    ]
    assert "| 1 | a | f | 0.505 |" in res.stdout and "| 2 | b | r | nan |" in res.stdout
    res = _runner().invoke(evaluate_command, [dets, "--gt", gt, "-q", "--device", "cpu", "--protocol", "coco"])
    assert res.exit_code == 0 and res.stdout.splitlines()[0].startswith(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]")
