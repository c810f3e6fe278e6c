"""Seeded generator of small PASCAL VOC-like scenes for the differential tests, and their file writers.

A scene has a few images (some without objects) with integer 1-based GT corners (1-pixel-wide boxes
included), difficult flags, duplicated GT boxes, a class whose only GT is difficult, and per-class
detections made in COCO space (``[x, y, w, h]``): jittered copies of GT on integer, half-integer and
continuous coordinates, boxes whose devkit IoU with a GT is exactly 0.5 or 0.75 (the height cut by that
factor), exact duplicates, zero-width boxes, background boxes, a class with detections and no GT, and
scores that are often quantised (ties). Devkit corners of a detection are ``[x + 1, y + 1, x + w, y + h]``
(the evaluator's convention), written to comp4 files with ``repr`` so that both sides read the same floats.

  images = [(name, width, height, [(class, xmin, ymin, xmax, ymax, difficult), ...]), ...]
  dets   = {class: [(image name, score, (x, y, w, h)), ...]}   (input order)
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from evaluators.data.voc import VOC_CLASSES

Obj = Tuple[str, int, int, int, int, int]
Image = Tuple[str, int, int, List[Obj]]
Dets = Dict[str, List[Tuple[str, float, Tuple[float, float, float, float]]]]


def make_scene(seed: int, n_images: Tuple[int, int] = (3, 12)) -> Tuple[List[Image], Dets]:
    """Scene ``seed`` (deterministic)."""
    rng = np.random.default_rng([seed, 0x70C])
    order = rng.permutation(len(VOC_CLASSES))
    gt_classes = [VOC_CLASSES[k] for k in order[: int(rng.integers(2, 6))]]
    hard_only = VOC_CLASSES[order[6]]  # its objects are all difficult
    det_only = VOC_CLASSES[order[7]]  # detections, never GT
    quantised = rng.random() < 0.6
    images: List[Image] = []
    dets: Dets = {}

    def score() -> float:
        return float(rng.integers(0, 6)) / 5.0 if quantised else float(rng.random())

    def add(cls: str, name: str, box: Tuple[float, float, float, float], s: float = None) -> None:
        dets.setdefault(cls, []).append((name, score() if s is None else s, tuple(float(v) for v in box)))

    for i in range(int(rng.integers(*n_images))):
        name = f"{2007 + int(rng.integers(0, 6))}_{seed:03d}{i:03d}" if seed % 2 else f"{seed:03d}{i:03d}"
        width, height = int(rng.integers(120, 500)), int(rng.integers(120, 500))
        objects: List[Obj] = []
        n_obj = 0 if rng.random() < 0.2 else int(rng.integers(1, 7))
        for _ in range(n_obj):
            if objects and rng.random() < 0.12:
                c, x1, y1, x2, y2, _d = objects[int(rng.integers(0, len(objects)))]
                objects.append((c, x1, y1, x2, y2, int(rng.random() < 0.3)))  # same box again
                continue
            cls = hard_only if rng.random() < 0.08 else gt_classes[int(rng.integers(0, len(gt_classes)))]
            x1, y1 = int(rng.integers(1, width - 10)), int(rng.integers(1, height - 10))
            x2 = min(width, x1 + int(rng.integers(0, 90)))
            y2 = min(height, y1 + int(rng.integers(0, 90)))
            objects.append((cls, x1, y1, x2, y2, int(cls == hard_only or rng.random() < 0.18)))
        images.append((name, width, height, objects))
        for cls, x1, y1, x2, y2, _d in objects:
            x, y, w, h = x1 - 1.0, y1 - 1.0, x2 - x1 + 1.0, y2 - y1 + 1.0
            for _ in range(int(rng.integers(0, 4))):
                kind = rng.integers(0, 5)
                if kind == 0:  # integer jitter
                    box = (x + rng.integers(-4, 5), y + rng.integers(-4, 5), max(0, w + rng.integers(-4, 5)),
                           max(0, h + rng.integers(-4, 5)))
                elif kind == 1:  # half-pixel jitter
                    box = (x + rng.integers(-6, 7) / 2, y + rng.integers(-6, 7) / 2,
                           max(0.0, w + rng.integers(-6, 7) / 2), max(0.0, h + rng.integers(-6, 7) / 2))
                elif kind == 2:  # continuous
                    box = (x + rng.normal(0, 3), y + rng.normal(0, 3), w * rng.uniform(0.6, 1.4), h * rng.uniform(0.6, 1.4))
                elif kind == 3:  # devkit IoU exactly 0.5 or 0.75 with this GT
                    box = (x, y, w, h * (0.5 if rng.random() < 0.5 else 0.75))
                else:  # the GT box itself
                    box = (x, y, w, h)
                add(cls, name, box)
                if rng.random() < 0.15:  # an exact duplicate (same box, same score)
                    add(cls, name, box, dets[cls][-1][1])
        for cls in gt_classes + [det_only]:
            for _ in range(int(rng.integers(0, 3))):
                bx, by = rng.uniform(-5, width), rng.uniform(-5, height)
                bw = 0.0 if rng.random() < 0.1 else rng.uniform(1, 120)
                add(cls, name, (bx, by, bw, rng.uniform(1, 120)))
    return images, dets


def scene_features(images: Sequence[Image], dets: Dets) -> Dict[str, bool]:
    """Which interesting situations a scene contains."""
    objs = [o for _, _, _, ob in images for o in ob]
    gt_classes = {o[0] for o in objs}
    easy = {o[0] for o in objs if not o[5]}
    boxes = [(o[0],) + o[1:5] for o in objs]
    scores = [s for lst in dets.values() for _, s, _ in lst]
    return {
        "difficult": any(o[5] for o in objs),
        "difficult_only_class": bool(gt_classes - easy),
        "det_only_class": bool(set(dets) - gt_classes),
        "empty_image": any(not ob for _, _, _, ob in images),
        "duplicate_gt": len(set(boxes)) < len(boxes),
        "one_pixel_gt": any(o[1] == o[3] or o[2] == o[4] for o in objs),
        "tied_scores": len(set(scores)) < len(scores),
        "zero_width_det": any(b[2] == 0 for lst in dets.values() for _, _, b in lst),
    }


def corners(box: Sequence[float]) -> List[float]:
    """Devkit corners of a COCO box: ``[x + 1, y + 1, x + w, y + h]``."""
    x, y, w, h = box
    return [x + 1.0, y + 1.0, x + w, y + h]


def recs(images: Sequence[Image]) -> Dict[str, List[dict]]:
    """The reference's GT: ``{name: [{name, difficult, bbox}]}`` in image order."""
    return {name: [{"name": c, "difficult": d, "bbox": [x1, y1, x2, y2]} for c, x1, y1, x2, y2, d in objs]
            for name, _, _, objs in images}


def ref_dets(dets: Dets, cls: str):
    """The reference's detections of one class, in devkit corners."""
    return [(name, s, corners(b)) for name, s, b in dets.get(cls, [])]


# --------------------------------------------------------------------------- writers


def annotation_xml(name: str, width: int, height: int, objects: Sequence[Obj], year: str = "2007") -> str:
    """A VOC annotation file as the devkit's are laid out (tabs, one element per line)."""
    parts = ["<annotation>", f"\t<folder>VOC{year}</folder>", f"\t<filename>{name}.jpg</filename>",
             "\t<source>", "\t\t<database>The VOC Database</database>", "\t</source>",
             "\t<size>", f"\t\t<width>{width}</width>", f"\t\t<height>{height}</height>", "\t\t<depth>3</depth>",
             "\t</size>", "\t<segmented>0</segmented>"]
    for cls, x1, y1, x2, y2, d in objects:
        parts += ["\t<object>", f"\t\t<name>{cls}</name>", "\t\t<pose>Unspecified</pose>",
                  "\t\t<truncated>0</truncated>", f"\t\t<difficult>{d}</difficult>", "\t\t<bndbox>",
                  f"\t\t\t<xmin>{x1}</xmin>", f"\t\t\t<ymin>{y1}</ymin>", f"\t\t\t<xmax>{x2}</xmax>",
                  f"\t\t\t<ymax>{y2}</ymax>", "\t\t</bndbox>", "\t</object>"]
    parts.append("</annotation>")
    return "\n".join(parts) + "\n"


def write_vocdevkit(root: Path, images: Sequence[Image], year: str = "2007", split: str = "test") -> Path:
    """``root/VOC<year>/{Annotations,ImageSets/Main/<split>.txt}``; returns the year folder."""
    base = Path(root) / f"VOC{year}"
    (base / "Annotations").mkdir(parents=True, exist_ok=True)
    (base / "ImageSets" / "Main").mkdir(parents=True, exist_ok=True)
    for name, w, h, objs in images:
        (base / "Annotations" / f"{name}.xml").write_text(annotation_xml(name, w, h, objs, year))
    (base / "ImageSets" / "Main" / f"{split}.txt").write_text("".join(f"{im[0]}\n" for im in images))
    return base


def write_comp4(folder: Path, dets: Dets, split: str = "test") -> Path:
    """``comp4_det_<split>_<class>.txt`` per class with detections: ``image score xmin ymin xmax ymax``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for cls, lst in dets.items():
        lines = [" ".join([name, repr(float(s))] + [repr(v) for v in corners(b)]) for name, s, b in lst]
        (folder / f"comp4_det_{split}_{cls}.txt").write_text("".join(f"{ln}\n" for ln in lines))
    return folder


def coco_results(images: Sequence[Image], dets: Dets, shuffle_classes: bool = True) -> List[dict]:
    """COCO results for the ids coco-from-voc writes (images 1..N in order, VOC classes 1..20); classes in
    reversed order when ``shuffle_classes`` (order within a class kept)."""
    img_id = {im[0]: k for k, im in enumerate(images, 1)}
    cat_id = {c: k for k, c in enumerate(VOC_CLASSES, 1)}
    classes = list(dets)[::-1] if shuffle_classes else list(dets)
    return [{"image_id": img_id[name], "category_id": cat_id[cls], "score": s, "bbox": [float(v) for v in b]}
            for cls in classes for name, s, b in dets[cls]]
