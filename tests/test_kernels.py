"""Unit tests of the engine stages against pycocotools' own C routines and loops."""
import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils

from evaluators.kernels.box_iou import Boxes, box_iou_pairs
from evaluators.kernels.mask_iou import RunTable, mask_iou_pairs
from evaluators.kernels.rle import decode_compressed, masks_to_runs


def _random_masks(rng, n, h, w):
    out = []
    for i in range(n):
        m = np.zeros((h, w), np.uint8)
        kind = i % 4
        if kind == 0:
            m = (rng.random((h, w)) < rng.random()).astype(np.uint8)
        elif kind == 1:
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            m[y0:y0 + rng.integers(1, h), x0:x0 + rng.integers(1, w)] = 1
        elif kind == 2:
            m[:] = 1 if i % 8 == 2 else 0
        else:
            m[:, rng.integers(0, w)] = 1
        out.append(mask_utils.encode(np.asfortranarray(m)))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_decode_compressed_matches_pycocotools(seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(1, 60, 2)
    rles = _random_masks(rng, 40, h, w)
    counts = decode_compressed([r["counts"] for r in rles])
    runs = masks_to_runs(counts)
    for i, rle in enumerate(rles):
        flat = mask_utils.decode(rle).flatten(order="F")
        rebuilt = np.zeros_like(flat)
        for j in range(runs.offsets[i], runs.offsets[i + 1]):
            rebuilt[runs.start[j]:runs.start[j] + runs.length[j]] = 1
        assert np.array_equal(rebuilt, flat)
        assert runs.area[i] == mask_utils.area(rle)
        assert runs.total[i] == h * w


def test_counts_with_negative_deltas_and_empty_masks():
    # a mask whose later counts are smaller than the ones two places before (negative deltas)
    m = np.zeros((9, 4), np.uint8)
    m[0:8, 0] = 1
    m[3:4, 1] = 1
    m[0:9, 2] = 1
    rles = [mask_utils.encode(np.asfortranarray(m)), mask_utils.encode(np.zeros((3, 3), np.uint8, order="F"))]
    runs = masks_to_runs(decode_compressed([r["counts"] for r in rles]))
    assert runs.area.tolist() == [int(m.sum()), 0]
    assert runs.start[: runs.offsets[1]].tolist() == [0, 12, 18]
    assert runs.length[: runs.offsets[1]].tolist() == [8, 1, 9]


@pytest.mark.parametrize("seed", range(5))
def test_box_iou_bit_identical_to_pycocotools(seed):
    rng = np.random.default_rng(seed)
    g = np.round(rng.random((30, 4)) * 50, rng.integers(0, 3))
    d = np.round(rng.random((40, 4)) * 50, rng.integers(0, 3))
    d[:5] = g[:5]  # identical boxes
    d[5:10, 2:] = 0  # zero-size detections
    crowd = rng.random(30) < 0.3
    ref = mask_utils.iou(d.tolist(), g.tolist(), crowd.astype(np.uint8).tolist())
    di, gi = np.meshgrid(np.arange(40), np.arange(30), indexing="ij")
    ours = box_iou_pairs(Boxes.from_xywh(torch.as_tensor(d)), Boxes.from_xywh(torch.as_tensor(g)),
                         torch.as_tensor(di.ravel()), torch.as_tensor(gi.ravel()),
                         torch.as_tensor(crowd[gi.ravel()])).numpy().reshape(40, 30)
    assert np.array_equal(ours, ref)


def test_box_iou_exactly_half():
    one = torch.tensor([0])
    iou = box_iou_pairs(Boxes.from_xywh(torch.tensor([[0.0, 0.0, 10.0, 5.0]])),
                        Boxes.from_xywh(torch.tensor([[0.0, 0.0, 10.0, 10.0]])), one, one, torch.tensor([False]))
    assert iou.item() == 0.5


@pytest.mark.parametrize("seed", range(4))
def test_mask_iou_bit_identical_to_pycocotools(seed):
    rng = np.random.default_rng(100 + seed)
    h, w = rng.integers(5, 50, 2)
    rles = _random_masks(rng, 30, h, w)
    runs = masks_to_runs(decode_compressed([r["counts"] for r in rles]))
    table = RunTable(runs.start, runs.length, runs.prefix, runs.offsets, runs.area, torch.device("cpu"))
    a = rng.integers(0, 30, 300)
    b = rng.integers(0, 30, 300)
    crowd = rng.random(300) < 0.3
    ours = mask_iou_pairs(table, torch.as_tensor(a), torch.as_tensor(b), torch.as_tensor(crowd)).numpy()
    ref = np.array([mask_utils.iou([rles[i]], [rles[j]], [int(c)])[0, 0] for i, j, c in zip(a, b, crowd)])
    assert np.array_equal(ours, ref)
