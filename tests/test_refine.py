import cv2
import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg
import torch

from adamatte.matting.engine import AUTO_SOLVER, MattingEngine
from adamatte.params import BY_NAME
from adamatte.matting import refine
from adamatte.matting.closed_form import EPSILON, band_system
from adamatte.matting.refine import KNN_PASSES, MIXED_PASSES, SYSTEMS, knn_system, mixed_system, refine_alpha, solve_cg
from adamatte.matting.trimap import trimap_to_labels

from standin import ColourKeyNet
from synthetic import matting_sample


def framed_sample() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A sample whose trimap is exact (unknown only where 0 < alpha < 1) with a background frame."""
    image, alpha, _ = matting_sample(80, 96, seed=3)
    trimap = np.full(alpha.shape, 0.5)
    trimap[alpha == 0], trimap[alpha == 1] = 0.0, 1.0
    trimap[:4], trimap[-4:], trimap[:, :4], trimap[:, -4:] = 0.0, 0.0, 0.0, 0.0
    return image, alpha, trimap


def test_closed_form_matches_pymatting():
    pymatting = pytest.importorskip("pymatting")
    image, _, trimap = framed_sample()
    theirs = pymatting.estimate_alpha_cf(image.astype(np.float64), trimap)
    ours = refine_alpha(image, trimap_to_labels(trimap.astype(np.float32)), method="closed-form")
    unknown = trimap == 0.5
    assert np.abs(ours - np.clip(theirs, 0, 1))[unknown].mean() < 1e-3
    assert (ours[trimap == 0] == 0).all() and (ours[trimap == 1] == 1).all()


def test_knn_over_the_whole_frame_matches_pymatting(monkeypatch):
    """With exact neighbours, pymatting's KNN matting; the default approximate search stays close to it,
    and no farther from the truth."""
    pymatting = pytest.importorskip("pymatting")
    image, alpha, trimap = framed_sample()
    passes = {"n_neighbors": [k for k, _ in KNN_PASSES], "distance_weights": [s for _, s in KNN_PASSES]}
    theirs = np.clip(pymatting.estimate_alpha_knn(image.astype(np.float64), trimap, laplacian_kwargs=passes), 0, 1)
    labels, unknown = trimap_to_labels(trimap.astype(np.float32)), trimap == 0.5
    approximate = refine_alpha(image, labels, method="knn", reach=None)
    monkeypatch.setattr(refine, "KNN_EPS", 0.0)
    exact = refine_alpha(image, labels, method="knn", reach=None)
    assert np.abs(exact - theirs)[unknown].mean() < 1e-3
    assert 0 < np.abs(approximate - theirs)[unknown].mean() < 1e-2
    assert np.abs(approximate - alpha)[unknown].mean() <= np.abs(exact - alpha)[unknown].mean() + 2e-3
    assert (exact[trimap == 0] == 0).all() and (exact[trimap == 1] == 1).all()


def test_knn_graph_around_the_band_solves_like_the_whole_frame(monkeypatch):
    monkeypatch.setattr(refine, "KNN_EPS", 0.0)  # the same neighbours both ways: only the graph's reach differs
    image, alpha, trimap = framed_sample()
    labels = trimap_to_labels(trimap.astype(np.float32))
    free = labels == 1
    known = (labels == 2).astype(np.float64)
    local, _ = knn_system(image, free, known, reach=4)
    assert local.shape == (free.sum(),) * 2
    near = refine_alpha(image, labels, method="knn")
    whole = refine_alpha(image, labels, method="knn", reach=None)
    assert np.abs(near - whole)[free].mean() < 0.01
    assert np.abs(near - alpha)[free].mean() <= np.abs(whole - alpha)[free].mean() + 1e-3


@pytest.mark.parametrize("system", [knn_system, mixed_system])
def test_the_torch_solver_matches_scipys(system):
    """Our float32 conjugate gradients in torch against scipy's in float64, solved far past our tolerance."""
    image, alpha, trimap = framed_sample()
    labels = trimap_to_labels(trimap.astype(np.float32))
    matrix, rhs = system(image, labels == 1, (labels == 2).astype(np.float64))
    guess = np.full(len(rhs), 0.5)
    matrix = matrix + 1e-8 * scipy.sparse.identity(len(rhs), format="csr")
    theirs, info = scipy.sparse.linalg.cg(matrix, rhs, x0=guess, rtol=1e-8, maxiter=5000)
    assert info == 0
    ours = solve_cg(matrix, rhs, guess)
    assert np.abs(np.clip(ours, 0, 1) - np.clip(theirs, 0, 1)).mean() < 1e-3


def test_a_band_with_nothing_but_background_to_hold_to_solves_to_zero_not_nan():
    """A band touching only background, its prior 0 (all of it held off by the veto): the right-hand side is 0, and
    conjugate gradients must not divide 0 by 0 once the residual is exactly 0."""
    image, alpha, trimap = framed_sample()
    labels = trimap_to_labels(trimap.astype(np.float32))
    labels[labels == 2] = 0  # no foreground constraint anywhere
    for method in ("knn", "mixed"):
        out = refine_alpha(image, labels, np.zeros(labels.shape), method=method, prior_weight=0.25)
        assert np.isfinite(out).all() and np.abs(out).max() < 1e-6, method
    matrix, rhs = knn_system(image, labels == 1, np.zeros(labels.shape))
    ours = solve_cg(matrix + 1e-8 * scipy.sparse.identity(len(rhs), format="csr"), rhs, np.full(len(rhs), 0.5))
    assert np.isfinite(ours).all() and np.abs(ours).max() < 1e-3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_knn_refinement_on_cuda_matches_the_cpu():
    image, alpha, trimap = framed_sample()
    labels = trimap_to_labels(trimap.astype(np.float32))
    prior = np.clip(alpha + 0.1, 0, 1)
    gpu = refine_alpha(image, labels, prior, method="knn", prior_weight=0.05, device="cuda")
    cpu = refine_alpha(image, labels, prior, method="knn", prior_weight=0.05)
    assert np.abs(gpu - cpu)[labels == 1].mean() < 1e-3


def matting_laplacian(image: np.ndarray, epsilon: float) -> np.ndarray:
    """Levin et al.'s L as written in the paper, dense, window by window (the reference for band_system)."""
    h, w, _ = image.shape
    laplacian = np.zeros((h * w, h * w))
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            pixels = np.array([(y + dy) * w + x + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
            colours = image.reshape(-1, 3)[pixels].astype(np.float64)
            centred = colours - colours.mean(axis=0)
            inverse = np.linalg.inv(centred.T @ centred / 9 + epsilon / 9 * np.eye(3))
            laplacian[np.ix_(pixels, pixels)] += np.eye(9) - (1 + centred @ inverse @ centred.T) / 9
    return laplacian


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_band_system_is_the_matting_laplacians_free_rows(dtype):
    """Including grey windows, whose covariance is nearly singular and where a careless 3×3 inverse loses digits."""
    image, alpha, _ = matting_sample(14, 17, seed=5)
    image[2:8, 3:10] = 0.5
    image[8:13, 9:16] = np.linspace(0.2, 0.8, 7)[None, :, None]
    image = image.astype(dtype)
    free = np.random.default_rng(0).random(alpha.shape) < 0.6
    free[0, :] = free[:, -1] = True  # the frame's edge, where no window is centred
    known = (alpha > 0.5).astype(np.float64)
    laplacian = matting_laplacian(image, EPSILON)
    f = free.ravel()
    matrix, rhs = band_system(image, free, known)
    np.testing.assert_allclose(matrix.toarray(), laplacian[f][:, f], rtol=0, atol=1e-9 * np.abs(laplacian).max())
    np.testing.assert_allclose(rhs, -laplacian[f][:, ~f] @ known.ravel()[~f], rtol=0, atol=1e-9 * np.abs(laplacian).max())
    assert np.all(np.diff(matrix.indices[matrix.indptr[0]:matrix.indptr[1]]) > 0)  # columns ascend within a row


def test_the_mixed_system_is_closed_form_plus_weighted_knn_pixel_for_pixel():
    """Both systems must number the free pixels alike, or the sum links the wrong pixels."""
    image, alpha, trimap = framed_sample()
    labels = trimap_to_labels(trimap.astype(np.float32))
    free, known = labels == 1, (labels == 2).astype(np.float64)
    local, local_rhs = band_system(image, free, known)
    nonlocal_, nonlocal_rhs = knn_system(image, free, known, passes=MIXED_PASSES)
    mixed, mixed_rhs = mixed_system(image, free, known, knn_weight=0.3)
    np.testing.assert_allclose(mixed.toarray(), (local + 0.3 * nonlocal_).toarray(), atol=1e-12)
    np.testing.assert_allclose(mixed_rhs, local_rhs + 0.3 * nonlocal_rhs, atol=1e-12)
    errors = {method: np.abs(refine_alpha(image, labels, method=method) - alpha)[free].mean() for method in SYSTEMS}
    assert errors["mixed"] < min(errors["closed-form"], errors["knn"])  # on an exact band, better than either alone


@pytest.mark.parametrize("method", ["knn", "closed-form", "mixed"])
def test_prior_pulls_toward_the_network(method):
    image, alpha, trimap = matting_sample(64, 64, seed=1)
    labels = trimap_to_labels(trimap)
    prior = np.where(labels == 1, 0.5, alpha).astype(np.float32)
    free = refine_alpha(image, labels, prior, method=method, prior_weight=0.0)
    held = refine_alpha(image, labels, prior, method=method, prior_weight=100.0)
    band = labels == 1
    assert np.abs(held - 0.5)[band].mean() < np.abs(free - 0.5)[band].mean()


def test_an_empty_band_returns_the_labels():
    image, _, _ = matting_sample(32, 32, seed=4)
    labels = np.zeros((32, 32), np.uint8)
    labels[8:24, 8:24] = 2
    out = refine_alpha(image, labels, method="knn")
    np.testing.assert_array_equal(out, labels / 2.0)


def test_unknown_refiner_is_refused():
    image, _, trimap = matting_sample(32, 32, seed=4)
    with pytest.raises(ValueError, match="unknown refiner"):
        refine_alpha(image, trimap_to_labels(trimap), method="bayesian")


def test_the_shared_parameter_offers_the_engines_refiners():
    assert BY_NAME["refine"].choices == ("none", "auto", *SYSTEMS)
    assert BY_NAME["refine"].default == "auto" and AUTO_SOLVER in SYSTEMS


@pytest.mark.parametrize("method", ["knn", "closed-form", "mixed"])
def test_engine_refines_inside_the_adapted_band(method):
    image, alpha, trimap = matting_sample(96, 96, seed=2)
    plain = MattingEngine(ColourKeyNet(), device="cpu").matte(image, trimap)
    refined = MattingEngine(ColourKeyNet(), device="cpu", refine=method).matte(image, trimap)
    far = cv2.erode((plain.labels != 1).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)  # beyond the 2 px margin
    np.testing.assert_array_equal(refined.alpha[far], plain.alpha[far])
    assert refined.timings["refine"] > 0
    assert np.abs(refined.alpha - alpha).mean() < 0.02

