"""The batch labelTxt reader (``load_label_columns``) equals the line-by-line parser on every file.

Seeded folders mix what real and hand-made label files hold: ``imagesource:``/``gsd:`` headers, 9- and
10-token lines in one file, odd difficulty tokens, ``-0``, exponents, CRLF, a BOM, no final newline,
blank lines, trailing spaces, empty and header-only files, classes outside the evaluated list. The
columns must equal ``parse_label_text`` per file bit for bit (sign of zero included), and a bad line
must give the careful parser's located error.
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from evaluators.data.dota import load_label_columns, parse_label_text
from evaluators.errors import RecordError

NAMES = ("plane", "ship", "small-vehicle", "harbor", "unknown-thing")
NUMBERS = ("0", "-0", "12", "-3", "7.5", "1e2", ".5", "5.", "2.2250738585072011e-308", "1234.5678901234567",
           "0.1000000000000000055511151231257827", "+4", "-0.0")
DIFFICULTY = ("0", "1", "2", "-1", "10", "01", "+1")


def _label_line(rng: random.Random, tokens: int) -> str:
    parts = [rng.choice(NUMBERS) if rng.random() < 0.4 else f"{rng.uniform(-50, 3000):.{rng.randint(0, 4)}f}"
             for _ in range(8)]
    parts.append(rng.choice(NAMES))
    if tokens == 10:
        parts.append(rng.choice(DIFFICULTY))
    return " ".join(parts)


def _label_file(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.05:
        return b""
    lines = []
    if rng.random() < 0.6:
        lines += ["imagesource:GoogleEarth", f"gsd:{rng.choice(['0.146343590398', 'null'])}"]
    if kind < 0.1:
        return ("\n".join(lines) + "\n").encode()
    for _ in range(rng.randint(1, 12)):
        line = _label_line(rng, 10 if rng.random() < 0.85 else 9)
        quirk = rng.random()
        if quirk < 0.03:
            line += " "  # trailing space: stripped by the devkit
        elif quirk < 0.05:
            lines.append("")  # a blank line in the middle
        lines.append(line)
    newline = "\r\n" if rng.random() < 0.1 else "\n"
    text = newline.join(lines) + (newline if rng.random() < 0.9 else "")
    data = text.encode()
    return b"\xef\xbb\xbf" + data if rng.random() < 0.03 else data


def _careful_columns(folder: Path, names):
    image, poly, name, difficulty, line = [], [], [], [], []
    for i, stem in enumerate(names):
        path = folder / f"{stem}.txt"
        for ob in parse_label_text(path.read_text(encoding="utf-8-sig"), str(path)):
            image.append(i); poly.append(ob.poly); name.append(ob.name); difficulty.append(ob.difficulty)
            line.append(ob.line)
    return (np.asarray(image, np.int64), np.asarray(poly, np.float64).reshape(-1, 8), name,
            np.asarray(difficulty, np.int64), np.asarray(line, np.int64))


@pytest.mark.parametrize("seed", range(40))
def test_batch_reader_equals_the_careful_parser(tmp_path, seed, monkeypatch):
    import evaluators.data.dota as dota

    careful_calls = []
    real = dota.parse_label_text
    monkeypatch.setattr(dota, "parse_label_text", lambda *a: careful_calls.append(a[1]) or real(*a))
    rng = random.Random(seed)
    folder = tmp_path / "labelTxt"
    folder.mkdir()
    for k in range(rng.randint(1, 30)):
        (folder / f"P{k:04d}.txt").write_bytes(_label_file(rng))
    cols = load_label_columns(folder)
    names = sorted(p.stem for p in folder.glob("*.txt"))
    assert cols.images == names
    image, poly, name, difficulty, line = _careful_columns(folder, names)
    assert np.array_equal(cols.image, image)
    assert np.array_equal(cols.poly.view(np.int64), poly.view(np.int64))  # bit for bit: -0.0 stays -0.0
    assert cols.name.tolist() == name
    assert np.array_equal(cols.difficulty, difficulty)
    assert np.array_equal(cols.line, line)
    n_files = len(names)
    assert len(careful_calls) < n_files or n_files <= 2  # the batch path took part (quirky files go careful)


def test_clean_folder_keeps_signed_zero_and_exact_values(tmp_path, monkeypatch):
    """Clean files take the batch parse (the line-by-line parser is not called) with exact values."""
    import evaluators.data.dota as dota

    monkeypatch.setattr(dota, "parse_label_text", lambda *a: pytest.fail("clean files took the careful parser"))
    folder = tmp_path / "labelTxt"
    folder.mkdir()
    (folder / "A.txt").write_text("imagesource:GoogleEarth\ngsd:null\n-0 1e2 .5 5. 0.1 2 3 4 plane 1\n"
                                  "1 2 3 4 5 6 7 8 ship\n")
    (folder / "B.txt").write_text("9 9 9 9 9 9 9 9 harbor 01\n")
    cols = load_label_columns(folder)
    assert np.signbit(cols.poly[0, 0]) and cols.poly[0, 1] == 100.0 and cols.poly[0, 4] == 0.1
    assert cols.name.tolist() == ["plane", "ship", "harbor"]
    assert cols.difficulty.tolist() == [1, 0, 1]
    assert cols.line.tolist() == [3, 4, 1]
    assert cols.image.tolist() == [0, 0, 1]
    assert cols.where(2).endswith("B.txt, line 1")


@pytest.mark.parametrize("bad, needle", [
    ("1 2 3 4 5 6 7 8", "has 8 tokens"),
    ("1 2 3 4 5 6 7 8 plane 0 7", "has 11 tokens"),
    ("1 2 3 4 5 6 7 x plane 0", "'x' is not a number"),
    ("1 2 3 4 5 6 7 nan plane 0", "NaN or infinity"),
    ("1 2 3 4 5 6 7 8 plane 1.0", "difficulty '1.0' is not an integer"),
])
def test_bad_line_gives_the_located_error(tmp_path, bad, needle):
    folder = tmp_path / "labelTxt"
    folder.mkdir()
    (folder / "A.txt").write_text("1 2 3 4 5 6 7 8 plane 0\n")
    (folder / "B.txt").write_text("imagesource:x\n1 2 3 4 5 6 7 8 ship 0\n" + bad + "\n")
    with pytest.raises(RecordError) as err:
        load_label_columns(folder)
    assert "B.txt, line 3" in str(err.value) and needle in str(err.value)


def test_imageset_order_and_missing_label_file(tmp_path):
    folder = tmp_path / "labelTxt"
    folder.mkdir()
    (folder / "A.txt").write_text("1 2 3 4 5 6 7 8 plane 0\n")
    (folder / "B.txt").write_text("1 2 3 4 5 6 7 8 ship 0\n")
    cols = load_label_columns(folder, ["B", "A"])
    assert cols.images == ["B", "A"] and cols.name.tolist() == ["ship", "plane"]
    with pytest.raises(Exception, match="listed in the image set"):
        load_label_columns(folder, ["A", "C"])


def test_class_names_that_look_like_numbers_stay_as_written(tmp_path):
    folder = tmp_path / "labelTxt"
    folder.mkdir()
    (folder / "A.txt").write_text("1 2 3 4 5 6 7 8 007 0\n1 2 3 4 5 6 7 8 1e3 1\n")
    assert load_label_columns(folder).name.tolist() == ["007", "1e3"]


def test_task1_image_names_that_look_like_numbers_stay_as_written():
    """pandas infers numeric categories for names such as "00012": the reader must not turn them into 12."""
    from evaluators.data.dota import image_codes
    from evaluators.data.text_rows import read_name_number_rows

    data = b"00012 0.9 1 2 3 4 5 6 7 8\n1e3 0.8 1 2 3 4 5 6 7 8\n00012 0.7 1 2 3 4 5 6 7 8\n"
    names, values, lines = read_name_number_rows(data, 9, categorical_names=True)
    distinct, inverse = image_codes(names)
    assert distinct.tolist() == ["00012", "1e3"] and inverse.tolist() == [0, 1, 0]
    assert values[:, 0].tolist() == [0.9, 0.8, 0.7] and lines.tolist() == [1, 2, 3]


def test_numeric_image_names_evaluate(tmp_path):
    """A dataset whose images are numbered (HRSC / DIOR style names) evaluates through the folders."""
    from evaluators import evaluate

    gt, det = tmp_path / "labelTxt", tmp_path / "det"
    gt.mkdir()
    det.mkdir()
    (gt / "00012.txt").write_text("0 0 10 0 10 10 0 10 plane 0\n")
    (gt / "00013.txt").write_text("0 0 10 0 10 10 0 10 plane 0\n")
    (det / "Task1_plane.txt").write_text("00012 0.9 0 0 10 0 10 10 0 10\n00013 0.8 20 20 30 20 30 30 20 30\n")
    r = evaluate(str(gt), str(det), metric="rotated", classes=["plane"], device="cpu")
    assert r.per_class_rows[0]["AP"] == pytest.approx(0.5454545454545454, abs=1e-12)  # 1 of 2 found: 11-pt AP


def test_degenerate_polygons_are_located_in_the_warning(tmp_path, capsys):
    """A zero-area ground truth (folder: file and line; JSON: record) and detection are named on stderr."""
    import json

    from evaluators import evaluate

    gt, det = tmp_path / "labelTxt", tmp_path / "det"
    gt.mkdir()
    det.mkdir()
    (gt / "P1.txt").write_text("imagesource:x\n0 0 10 0 10 10 0 10 plane 0\n0 0 5 5 10 10 0 0 plane 0\n")
    (det / "Task1_plane.txt").write_text("P1 0.9 0 0 10 0 10 10 0 10\nP1 0.8 1 1 1 1 1 1 1 1\n")
    evaluate(str(gt), str(det), metric="rotated", classes=["plane"], device="cpu")
    err = capsys.readouterr().err
    assert f"{gt / 'P1.txt'}, line 3" in err and f"{det / 'Task1_plane.txt'}, line 2" in err
    ann = {"images": [{"id": 7, "file_name": "P1.png"}], "categories": [{"id": 1, "name": "plane"}],
           "annotations": [{"id": 1, "image_id": 7, "category_id": 1, "poly": [0, 0, 10, 0, 10, 10, 0, 10]},
                           {"id": 2, "image_id": 7, "category_id": 1, "poly": [0, 0, 5, 5, 10, 10, 0, 0]}]}
    (tmp_path / "gt.json").write_text(json.dumps(ann))
    evaluate(str(tmp_path / "gt.json"), str(det), metric="rotated", device="cpu")
    assert "gt.json 'annotations' record #1" in capsys.readouterr().err
