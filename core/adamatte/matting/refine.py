"""Classical matting solved inside the adapted band: KNN matting (Chen et al., "KNN Matting",
2013), closed-form matting (Levin et al., "A Closed-Form Solution to Natural Image Matting",
2008), or the two mixed: the systems built with scipy's sparse matrices and k-d trees, KNN's and
mixed's conjugate gradients run in torch (on the GPU when the network is there).

Trimap adaptation narrows the unknown region; solving a classical matting system only there,
with the adapted trimap's background and foreground as hard constraints and (optionally) the
network's alpha as a soft prior, combines the network's semantics with the solver's edges.
Both systems are built only around the band, so the cost follows the band, not the frame.

    alpha = refine_alpha(image, band_labels, network_alpha, method="knn")
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import cv2
import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import scipy.spatial
import torch

from adamatte.interrupt import uninterrupted
from adamatte.matting.trimap import BACKGROUND, FOREGROUND, UNKNOWN

EPSILON = 1e-7  # Levin et al.'s regulariser of the window covariance
# KNN passes (neighbours, weight of x/y, each scaled 0-1 over the frame): a spatially tight
# match and Chen et al.'s nonlocal colour match. pymatting's weights; 10 tight neighbours
# instead of its 20 measured better and faster on our training photos (benchmarks/refine_band.py).
KNN_PASSES = ((10, 2.0), (10, 0.1))
KNN_REACH = 10  # px around the band whose known pixels join the KNN graph (10-40 measured alike)
KNN_EPS = 1.0  # approximate neighbours (a found one at most 2x farther than the true k-th): 94-96% the same, SAD alike on the training photos (benchmarks/refine_band.py), the search ~35% faster


# Two pixels of one 3×3 window lie at most 2 px apart: L has 25 diagonals, (dy, dx) in [-2, 2]².
NEIGHBOURS = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)]
WINDOW = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
# for pixels a, b of a window: which of the 25 diagonals their entry L[a, b] is on
PAIR_DIAGONAL = np.array([[NEIGHBOURS.index((yb - ya, xb - xa)) for yb, xb in WINDOW] for ya, xa in WINDOW])


def band_system(image: np.ndarray, free: np.ndarray, known: np.ndarray, epsilon: float = EPSILON
                ) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """The closed-form system over the `free` pixels: (L_ff, −L_fk·known), m×m and m for m free pixels.

    L is the matting Laplacian summed over the 3×3 windows that touch `free`. Window entries are
    summed per free pixel and diagonal (25 of them) with one bincount, and the CSR matrix is laid
    out directly from those sums; summing the ~81 entries per window as COO duplicates instead
    costs several times more.
    image: H×W×3 float in 0-1. free: H×W bool. known: H×W alpha (0-1) of the other pixels.
    """
    h, w = free.shape
    touched = cv2.dilate(free.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    touched[[0, -1], :] = False
    touched[:, [0, -1]] = False
    index = np.flatnonzero(touched)[:, None] + np.array([dy * w + dx for dy, dx in WINDOW])[None, :]  # n×9 pixels
    colours = torch.from_numpy(image.reshape(-1, 3)[index].astype(np.float64))  # n×9×3, gathered before widening: not the whole frame
    centred = colours - colours.mean(dim=1, keepdim=True)
    covariance = torch.matmul(centred.transpose(1, 2), centred) / 9.0
    inverse = torch.linalg.inv(covariance + (epsilon / 9.0) * torch.eye(3, dtype=torch.float64))
    # value(a, b) = δ_ab − (1 + (I_a − μ)ᵀ Σ⁻¹ (I_b − μ)) / 9. Stacked matmuls beat broadcast products 5-8x, and
    # torch's, on every core, took this function from 0.31-0.65 s to 0.26-0.30 on a 1080p band (numpy's: one core).
    values = torch.matmul(torch.matmul(centred, inverse), centred.transpose(1, 2)).add_(1.0).mul_(-1.0 / 9.0).numpy()
    values.reshape(-1, 81)[:, ::10] += 1.0  # δ_ab: the 9×9 diagonals

    pixels = np.flatnonzero(free)
    m = len(pixels)
    number = np.full(h * w, m, np.int64)  # known pixels all map to a spare column m of each diagonal, dropped
    number[pixels] = np.arange(m)
    row = number[index]  # n×9
    slot = PAIR_DIAGONAL[None] * (m + 1) + row[:, :, None]
    diagonals = np.bincount(slot.ravel(), weights=values.ravel(), minlength=25 * (m + 1)).reshape(25, m + 1)[:, :m]

    ys, xs = np.divmod(pixels, w)
    other_y = ys[None, :] + np.array([dy for dy, _ in NEIGHBOURS])[:, None]  # 25×m
    other_x = xs[None, :] + np.array([dx for _, dx in NEIGHBOURS])[:, None]
    inside = (other_y >= 0) & (other_y < h) & (other_x >= 0) & (other_x < w)
    other = np.where(inside, other_y * w + other_x, 0)
    column = number[other]
    in_matrix = inside & (column < m)
    rhs = -(diagonals * np.where(inside & (column == m), known.ravel()[other], 0.0)).sum(axis=0)
    keep = in_matrix.T  # m×25, row-major: each row's columns ascend with the diagonal's offset
    indptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))])
    matrix = scipy.sparse.csr_matrix((diagonals.T[keep], column.T[keep], indptr), shape=(m, m))
    return matrix, rhs


def dilate_disk(mask: np.ndarray, radius: int) -> np.ndarray:
    """mask (H×W bool) grown by a disk of `radius` px."""
    if radius <= 0:
        return mask
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    return cv2.dilate(mask.astype(np.uint8), disk).astype(bool)


def knn_system(image: np.ndarray, free: np.ndarray, known: np.ndarray, reach: int | None = KNN_REACH,
               passes: tuple[tuple[int, float], ...] = KNN_PASSES) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """The KNN matting system over the `free` pixels: (L_ff, −L_fk·known), m×m and m for m free pixels.

    The graph's nodes are the free pixels and the pixels within `reach` px of them (None: the
    whole frame). Each node links to its k nearest nodes in (r, g, b, s·x, s·y) for every
    (k, s) of `passes`, links are made symmetric with binary weights, and L = D − W; dividing by the
    mean degree keeps a prior's weight comparable with closed-form's. With every pixel a node
    this is pymatting's KNN Laplacian up to its row scaling, which hard constraints do not see.
    image: H×W×3 float in 0-1. free: H×W bool. known: H×W alpha (0-1) of the other pixels.
    """
    h, w = free.shape
    nodes = np.flatnonzero(np.ones_like(free) if reach is None else dilate_disk(free, reach))
    n = len(nodes)
    ys, xs = np.divmod(nodes, w)
    colours = image.reshape(-1, 3)[nodes].astype(np.float64)
    found = []
    for k, spatial in passes:
        k = min(k, n)
        features = np.column_stack([colours, spatial * xs / max(w - 1, 1), spatial * ys / max(h - 1, 1)])
        with uninterrupted():
            _, neighbours = scipy.spatial.cKDTree(features).query(features, k=k, workers=-1, eps=KNN_EPS)
        found.append(np.asarray(neighbours, np.int32).reshape(n, k))  # int32 halves the memory of a 4K band's links
    links = np.concatenate(found, axis=1)  # n×K: node i links to each of links[i]; W = A + Aᵀ
    real = links != np.arange(n, dtype=np.int32)[:, None]  # self-links cancel in D − W
    degree = real.sum(axis=1) + np.bincount(links[real], minlength=n)  # a link counts at both ends
    # Only links that touch a free node enter the system: free-free ones as matrix entries (both
    # ways), free-known ones as the known alpha on the right-hand side. Kept as the n×K table of
    # neighbours, row by row: no list of all links is ever sorted (that cost more than the search).
    is_free = free.ravel()[nodes]
    m = int(is_free.sum())
    number = np.full(n, -1, np.int32)
    number[is_free] = np.arange(m, dtype=np.int32)
    alpha = known.ravel()[nodes]
    free_links, known_links = links[is_free], links[~is_free]
    to = number[free_links]  # m×K free numbers of the free rows' neighbours; −1: a known node
    inner = real[is_free] & (to >= 0)
    a_ff = scipy.sparse.csr_matrix((np.ones(int(inner.sum())), to[inner], np.concatenate([[0], np.cumsum(inner.sum(axis=1))])),
                                   shape=(m, m))
    scale = degree.mean()  # dividing by the mean degree keeps a prior's weight comparable with closed-form's
    matrix = (scipy.sparse.diags(degree[is_free].astype(np.float64)) - (a_ff + a_ff.T)).tocsr() / scale
    outward = real[is_free] & (to < 0)  # a free row's known neighbours
    rhs = np.where(outward, alpha[free_links], 0.0).sum(axis=1)
    into = number[known_links]
    inward = real[~is_free] & (into >= 0)  # a known row's free neighbours
    rhs += np.bincount(into[inward], weights=np.broadcast_to(alpha[~is_free][:, None], into.shape)[inward], minlength=m)
    return matrix, rhs / scale


def solve_direct(matrix: scipy.sparse.csr_matrix, rhs: np.ndarray, guess: np.ndarray, device: str = "cpu") -> np.ndarray:
    """A sparse LU solve: on closed-form's banded 25-diagonal systems, several times faster than CG.
    It runs on the CPU whatever `device` says (there is no sparse LU in torch)."""
    return scipy.sparse.linalg.spsolve(matrix.tocsc(), rhs)


CG_RTOL = 1e-4  # relative residual; 1e-6 changed SAD by 0.003 on the validation split
CG_MAXITER = 2000
CG_CHECK_EVERY = 8  # steps between checks of the residual


def solve_cg(matrix: scipy.sparse.csr_matrix, rhs: np.ndarray, guess: np.ndarray, device: str = "cpu") -> np.ndarray:
    """Jacobi-preconditioned conjugate gradients from `guess` (KNN graphs fill in badly under LU), on
    torch tensors in float32 on `device`, so that on a GPU the solve runs beside the network.

    matrix: m×m symmetric positive definite CSR, built in float64; rhs, guess: m float. Stops when the
    residual is under CG_RTOL of |rhs|, checked every CG_CHECK_EVERY steps (each check syncs a GPU).
    Returns m float64. On the CPU, torch's CSR products with int32 indices run on every core and move less
    memory than scipy's (one core): on 1080p bands the solve took 2.2-3.5x less time than scipy's float32 CG,
    mean |Δα| under 2e-5 (benchmarks/journal/performance.md).
    """
    with warnings.catch_warnings():  # "sparse CSR support is in beta": matrix-vector products are all we ask of it
        warnings.simplefilter("ignore", UserWarning)
        a = torch.sparse_csr_tensor(torch.from_numpy(matrix.indptr.astype(np.int32)), torch.from_numpy(matrix.indices.astype(np.int32)),
                                    torch.from_numpy(matrix.data.astype(np.float32)), size=matrix.shape, device=device,
                                    check_invariants=False)
    b = torch.as_tensor(rhs, dtype=torch.float32, device=device)
    x = torch.as_tensor(guess, dtype=torch.float32, device=device).clone()
    inverse_diagonal = torch.as_tensor(1.0 / matrix.diagonal(), dtype=torch.float32, device=device)
    r = b - a @ x
    z = inverse_diagonal * r
    p = z.clone()
    rz = torch.dot(r, z)
    stop = CG_RTOL * torch.linalg.vector_norm(b)
    for i in range(CG_MAXITER):
        if i % CG_CHECK_EVERY == 0 and torch.linalg.vector_norm(r) <= stop:
            break
        ap = a @ p
        step = rz / torch.dot(p, ap)
        x += step * p
        r -= step * ap
        z = inverse_diagonal * r
        rz_next = torch.dot(r, z)
        p = z + (rz_next / rz) * p
        rz = rz_next
    return x.double().cpu().numpy()


MIXED_KNN = 0.1  # KNN's weight beside closed-form's in the mixed system (0.1 and 0.3 measured alike on the training photos)
# KNN's passes in the mixed system: the nonlocal colour match alone. Closed-form's windows already link each pixel to
# its neighbours, and KNN's spatially tight pass beside them only blurred: held out, photos given / tight SAD
# 4.80 / 3.09 -> 4.29 / 2.98 without it, and its k-d tree search is half of KNN's time (benchmarks/journal/model.md).
MIXED_PASSES = ((10, 0.1),)


def mixed_system(image: np.ndarray, free: np.ndarray, known: np.ndarray, knn_weight: float = MIXED_KNN
                 ) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """Closed-form's local affinities plus `knn_weight` × KNN's nonlocal ones (MIXED_PASSES) over the `free` pixels:
    (L_ff, −L_fk·known), m×m and m. Information-flow matting (Aksoy et al. 2017) mixes local and nonlocal
    flows the same way: the 3×3 windows hold solid edges and a band that is already tight, where KNN
    alone bleeds; the colour neighbours carry hair and fur across the band, which the windows lose.
    Both systems number the free pixels in raster order, so they add entry for entry.
    image: H×W×3 float in 0-1. free: H×W bool. known: H×W alpha (0-1) of the other pixels."""
    local, local_rhs = band_system(image, free, known)
    nonlocal_, nonlocal_rhs = knn_system(image, free, known, passes=MIXED_PASSES)
    return local + knn_weight * nonlocal_, local_rhs + knn_weight * nonlocal_rhs


SYSTEMS = {"knn": (knn_system, solve_cg), "closed-form": (band_system, solve_direct), "mixed": (mixed_system, solve_cg)}


def refine_alpha(
    image: np.ndarray,
    labels: np.ndarray,
    prior: np.ndarray | None = None,
    *,
    method: str = "knn",
    margin: int = 0,
    prior_weight: float | np.ndarray = 0.0,
    timings: dict[str, float] | None = None,
    device: str = "cpu",
    **system_options: Any,
) -> np.ndarray:
    """Alpha from classical matting (`method`: 'knn', 'closed-form' or 'mixed') inside the unknown band of `labels`.

    image: H×W×3 float, display-encoded 0-1. labels: H×W uint8 {0 bg, 1 unknown, 2 fg} (the
    adapted trimap); its unknown region is grown by `margin` px. prior: H×W alpha in 0-1 (the
    network's), pulled toward with `prior_weight` (a number, or H×W ≥ 0 per pixel; 0: not at all) and, for KNN and
    mixed, the conjugate gradients' starting point. system_options: passed to the system's builder (knn_system:
    reach, passes; mixed_system: knn_weight).
    timings: when given, gets the seconds of its stages: 'band', 'graph' (the system) and 'solve'.
    device: where the conjugate gradients of KNN and mixed run ('cuda': on the GPU, in torch); the systems,
    and closed-form's LU solve, stay on the CPU.
    Returns H×W float32 alpha: 0 / 1 on the known regions, the solution inside the band.
    """
    if method not in SYSTEMS:
        raise ValueError(f"unknown refiner {method!r}; choose from {', '.join(SYSTEMS)}")
    h, w = labels.shape
    clock = [time.perf_counter()]
    timings = {} if timings is None else timings

    def lap(stage: str) -> None:
        clock.append(time.perf_counter())
        timings[stage] = clock[-1] - clock[-2]

    unknown = dilate_disk(labels == UNKNOWN, margin)
    known_alpha = np.where(labels == FOREGROUND, 1.0, 0.0)
    alpha = np.where(labels == BACKGROUND, 0.0, np.where(labels == FOREGROUND, 1.0, prior if prior is not None else 0.5))
    if not unknown.any():
        return alpha.astype(np.float32)
    free = np.flatnonzero(unknown)
    build, solve = SYSTEMS[method]
    lap("band")
    matrix, rhs = build(image, unknown, known_alpha, **system_options)
    # the prior (or, without one, a vanishing pull to 0.5) also keeps islands cut off from known pixels solvable
    target = (prior if prior is not None else np.full((h, w), 0.5)).ravel()[free].astype(np.float64)
    if np.ndim(prior_weight) and prior is not None:  # a weight per pixel (H×W)
        weight = np.maximum(np.asarray(prior_weight, np.float64).ravel()[free], 1e-8)
        matrix = matrix + scipy.sparse.diags(weight, format="csr")
    else:
        weight = max(prior_weight if prior is not None else 0.0, 1e-8)
        matrix = matrix + weight * scipy.sparse.identity(len(free), format="csr")
    lap("graph")
    solution = solve(matrix, rhs + weight * target, target, device)
    lap("solve")
    out = alpha.ravel().astype(np.float64)
    out[free] = solution
    return np.clip(out, 0.0, 1.0).reshape(h, w).astype(np.float32)
