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
