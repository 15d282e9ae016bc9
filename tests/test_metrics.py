"""Each metric against a value worked out by hand."""

import numpy as np
import pytest

from adamatte.scoring.metrics import connectivity_error, gaussian_gradient_kernel, gradient_error, mse, sad

UNKNOWN = 128


def test_sad_and_mse_count_only_the_unknown_region():
    pred = np.array([[0.5, 1.0], [0.2, 0.0]])
    gt = np.zeros((2, 2))
    trimap = np.array([[UNKNOWN, UNKNOWN], [0, UNKNOWN]], np.uint8)
    assert sad(pred, gt, trimap) == pytest.approx((0.5 + 1.0 + 0.0) / 1000)
    assert mse(pred, gt, trimap) == pytest.approx((0.25 + 1.0 + 0.0) / 3)


def test_gradient_kernel_is_matlab_gaussgradient():
    hx = gaussian_gradient_kernel(1.4)
    assert hx.shape == (9, 9)  # halfsize = ceil(1.4 * sqrt(-2 ln(sqrt(2π)·1.4·0.01))) = 4
    assert (hx ** 2).sum() == pytest.approx(1.0)
    assert np.allclose(hx[:, 4], 0) and np.allclose(hx, -hx[:, ::-1])  # odd in x, zero at the centre column


def test_gradient_error_of_an_impulse():
    # gt is constant (mat2gray -> 0, no gradient); pred is one bright pixel. Its gradient maps are
    # the two unit-norm kernels themselves, so Σ(|∇p| - 0)² = Σgx² + Σgy² = 1 + 1 = 2, then / 1000.
    pred = np.zeros((21, 21))
    pred[10, 10] = 0.7
    gt = np.full((21, 21), 0.3)
    trimap = np.full((21, 21), UNKNOWN, np.uint8)
    assert gradient_error(pred, gt, trimap) == pytest.approx(2 / 1000, rel=1e-9)
    assert gradient_error(gt, gt, trimap) == 0


def test_connectivity_error_by_hand():
    # gt = [1, 1], pred = [1, 0.35]. For t <= 0.3 both pixels are connected; at t = 0.4 pixel 1
    # drops out, so its level is 0.3; pixel 0 stays connected up to t = 1, level 1.
    # pred_d = [0, 0.05] (< θ, so φ = 1); gt_d = [0, 0.7] (φ = 0.3). Σ|Δφ| = 0.7, / 1000.
    pred = np.array([[1.0, 0.35]])
    gt = np.array([[1.0, 1.0]])
    trimap = np.full((1, 2), UNKNOWN, np.uint8)
    assert connectivity_error(pred, gt, trimap) == pytest.approx(0.7 / 1000)
    assert connectivity_error(gt, gt, trimap) == 0


def test_float_trimaps_work_like_8_bit():
    pred, gt = np.random.default_rng(0).random((2, 8, 8))
    t8 = np.full((8, 8), UNKNOWN, np.uint8)
    assert sad(pred, gt, t8) == sad(pred, gt, t8 / 255.0)


def test_temporal_metrics_by_hand():
    from adamatte.scoring.metrics import dtssd_e2, mad_e3, messddt_e3, mse_e3

    gt_prev, gt = np.zeros((4, 4)), np.zeros((4, 4))
    pred_prev, pred = np.zeros((4, 4)), np.zeros((4, 4))
    pred[0, 0] = 0.4  # flicker on one of 16 pixels
    assert mad_e3(pred, gt) == pytest.approx(0.4 / 16 * 1e3)
    assert mse_e3(pred, gt) == pytest.approx(0.16 / 16 * 1e3)
    assert dtssd_e2(pred, pred_prev, gt, gt_prev) == pytest.approx(np.sqrt(0.16 / 16) * 1e2)
    # static ground truth: no motion, so MESSDdt is |0.16 − 0| on one pixel of 16
    assert messddt_e3(pred, pred_prev, gt, gt_prev) == pytest.approx(0.16 / 16 * 1e3, rel=1e-5)
    assert dtssd_e2(pred, pred, gt, gt) == 0


def test_eval_video_cli(tmp_path, capsys):
    from adamatte.cli import main
    from adamatte.io import write_image

    for f in (1001, 1002, 1003):
        write_image(str(tmp_path / "gt" / f"a.{f}.exr"), np.zeros((8, 8), np.float32), ["A"])
        write_image(str(tmp_path / "pred" / f"a.{f}.exr"), np.full((8, 8), 0.1 if f == 1002 else 0.0, np.float32), ["A"])
    assert main(["eval-video", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].split()[0] == "clip" and float(lines[-1].split()[1]) == pytest.approx(100 / 3, rel=1e-2)
