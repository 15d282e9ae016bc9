"""Classical matting solved inside the adapted band: KNN matting (Chen et al., "KNN Matting",
2013), closed-form matting (Levin et al., "A Closed-Form Solution to Natural Image Matting",
2008), or the two mixed. The systems are built on the CPU by loops compiled with numba (closed-form's in
matting.closed_form; KNN's links found by scipy's k-d tree); KNN's and mixed's conjugate gradients run in
torch (on the GPU when the network is there).

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

import numba
import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import scipy.spatial
import torch

from adamatte.interrupt import uninterrupted
from adamatte.matting.closed_form import band_system
from adamatte.matting.morphology import dilate_disk
from adamatte.matting.trimap import BACKGROUND, FOREGROUND, UNKNOWN

# KNN passes (neighbours, weight of x/y, each scaled 0-1 over the frame): a spatially tight
# match and Chen et al.'s nonlocal colour match. pymatting's weights; 10 tight neighbours
# instead of its 20 measured better and faster on our training photos (benchmarks/refine_band.py).
KNN_PASSES = ((10, 2.0), (10, 0.1))
KNN_REACH = 10  # px around the band whose known pixels join the KNN graph (10-40 measured alike)
KNN_EPS = 1.0  # approximate neighbours (a found one at most 2x farther than the true k-th): 94-96% the same, SAD alike on the training photos (benchmarks/refine_band.py), the search ~35% faster


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
    is_free = free.ravel()[nodes]
    number = np.full(n, -1, np.int32)  # the free nodes' rows
    number[is_free] = np.arange(int(is_free.sum()), dtype=np.int32)
    indptr, indices, data, rhs = _knn_rows(links, number, known.ravel()[nodes].astype(np.float64))
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(len(rhs),) * 2), rhs


@numba.njit(cache=True)
def _knn_rows(links: np.ndarray, number: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """L = D − (A + Aᵀ) of the KNN graph, A[i, links[i, k]] = 1 (n×K int32; self-links cancel), divided by the mean
    degree, over the free nodes (`number`: each node's row, −1 for a known one): their rows as canonical CSR (indptr,
    indices, data; columns ascending, one entry each), and −L_fk·known with the known nodes' `alpha` (n).
    Only links that touch a free node enter: free-free ones as matrix entries both ways, free-known ones as the known
    alpha on the right-hand side."""
    n, k = links.shape
    m = 0
    for i in range(n):
        m += number[i] >= 0
    degree = np.zeros(n)
    count = np.ones(m, np.int64)  # each row's entries before duplicates merge; the diagonal's first
    for i in range(n):
        for j in links[i]:
            if j != i:
                degree[i] += 1.0
                degree[j] += 1.0
                if number[i] >= 0 and number[j] >= 0:
                    count[number[i]] += 1
                    count[number[j]] += 1
    scale = degree.mean()  # dividing by the mean degree keeps a prior's weight comparable with closed-form's
    start = np.zeros(m + 1, np.int64)
    start[1:] = np.cumsum(count)
    columns = np.empty(start[m], np.int32)
    values = np.empty(start[m])
    fill = start[:m].copy()
    rhs = np.zeros(m)
    for i in range(n):
        if number[i] >= 0:
            columns[fill[number[i]]] = number[i]
            values[fill[number[i]]] = degree[i]
            fill[number[i]] += 1
    for i in range(n):
        a, fa = i, number[i]
        for b in links[i]:
            fb = number[b]
            if b == a or (fa < 0 and fb < 0):
                continue
            if fa >= 0 and fb >= 0:
                columns[fill[fa]], values[fill[fa]] = fb, -1.0
                fill[fa] += 1
                columns[fill[fb]], values[fill[fb]] = fa, -1.0
                fill[fb] += 1
            elif fa >= 0:
                rhs[fa] += alpha[b]
            else:
                rhs[fb] += alpha[a]
    indptr = np.zeros(m + 1, np.int64)
    nnz = 0
    for r in range(m):  # sort each row's columns, merging repeats (a link found both ways, or by two passes)
        lo, hi = start[r], start[r + 1]
        order = np.argsort(columns[lo:hi], kind="mergesort")
        row_columns, row_values = columns[lo:hi][order], values[lo:hi][order]
        for e in range(hi - lo):
            if nnz > indptr[r] and columns[nnz - 1] == row_columns[e]:
                values[nnz - 1] += row_values[e]
            else:
                columns[nnz], values[nnz] = row_columns[e], row_values[e]
                nnz += 1
        indptr[r + 1] = nnz
    return indptr, columns[:nnz].copy(), values[:nnz] / scale, rhs / scale


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
    zero = torch.zeros((), dtype=torch.float32, device=device)
    for i in range(CG_MAXITER):
        if i % CG_CHECK_EVERY == 0 and torch.linalg.vector_norm(r) <= stop:
            break
        ap = a @ p
        # once the residual is exactly 0 (a right-hand side of 0: nothing but background constraints and no prior),
        # p·Ap and r·z are 0 and their ratios NaN; the steps stay 0 instead (no sync: a GPU keeps running)
        curvature = torch.dot(p, ap)
        step = torch.where(curvature > 0, rz / curvature, zero)
        x += step * p
        r -= step * ap
        z = inverse_diagonal * r
        rz_next = torch.dot(r, z)
        p = z + torch.where(rz > 0, rz_next / rz, zero) * p
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
