"""Closed-form matting's system over a band (Levin et al., "A Closed-Form Solution to Natural Image
Matting", 2008): the matting Laplacian's rows of the free pixels, compiled with numba.

    matrix, rhs = band_system(image, free, known)   # L_ff (m×m CSR) and −L_fk·known (m)

L sums, over every 3×3 window w, δ_ab − (1 + (I_a − μ_w)ᵀ (Σ_w + ε/9·I)⁻¹ (I_b − μ_w)) / 9 for each pair
of pixels a, b in w; windows are centred one pixel or more inside the frame, as pymatting's are. Only
the windows that touch a free pixel are visited, so the cost follows the band, not the frame.
"""

from __future__ import annotations

import cv2
import numba
import numpy as np
import scipy.sparse

EPSILON = 1e-7  # Levin et al.'s regulariser of the window covariance


def band_system(image: np.ndarray, free: np.ndarray, known: np.ndarray, epsilon: float = EPSILON
                ) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """The closed-form system over the `free` pixels: (L_ff, −L_fk·known), m×m float64 CSR and m float64,
    for m free pixels numbered in raster order. Each row holds its free neighbours within 2 px (two pixels of
    one 3×3 window), columns ascending.
    image: H×W×3 float in 0-1. free: H×W bool. known: H×W alpha (0-1) of the other pixels.
    """
    h, w = free.shape
    touched = cv2.dilate(free.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    touched[[0, -1], :] = False
    touched[:, [0, -1]] = False
    centres = np.flatnonzero(touched)
    window = np.full(h * w, -1, np.int32)  # each pixel's window number, −1 where no window is centred
    window[centres] = np.arange(len(centres), dtype=np.int32)
    image = np.ascontiguousarray(image.reshape(h, w, 3))
    mean, inverse = _window_statistics(image, centres, epsilon)
    pixels = np.flatnonzero(free)
    number = np.full(h * w, -1, np.int32)  # each free pixel's row, −1 for the others
    number[pixels] = np.arange(len(pixels), dtype=np.int32)
    indptr, indices, data, rhs = _free_rows(image, pixels, number, window, mean, inverse, np.ascontiguousarray(known, np.float64).ravel())
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(len(pixels),) * 2), rhs


@numba.njit(cache=True)
def _window_statistics(image: np.ndarray, centres: np.ndarray, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """For the 3×3 window round each centre (n flat indices into image, H×W×3): its mean colour (n×3) and the
    inverse of its regularised covariance Σ + ε/9·I (n×3×3), in float64."""
    n, w = len(centres), image.shape[1]
    mean = np.empty((n, 3))
    inverse = np.empty((n, 3, 3))
    for i in range(n):
        y, x = centres[i] // w, centres[i] % w
        mu = np.zeros(3)
        for dy in range(-1, 2):
            for dx in range(-1, 2):
                for a in range(3):
                    mu[a] += image[y + dy, x + dx, a]
        mu /= 9.0
        c = np.zeros((3, 3))  # from centred colours: one-pass sums cancel in the grey windows where Σ is near singular
        for dy in range(-1, 2):
            for dx in range(-1, 2):
                for a in range(3):
                    ca = image[y + dy, x + dx, a] - mu[a]
                    for b in range(a + 1):
                        c[a, b] += ca * (image[y + dy, x + dx, b] - mu[b])
        # Cholesky C = L Lᵀ and C⁻¹ = L⁻ᵀ L⁻¹: stable where a grey window makes C nearly singular (cofactors cancel)
        e = epsilon / 9.0
        l00 = np.sqrt(c[0, 0] / 9.0 + e)
        l10 = c[1, 0] / 9.0 / l00
        l20 = c[2, 0] / 9.0 / l00
        l11 = np.sqrt(c[1, 1] / 9.0 + e - l10 * l10)
        l21 = (c[2, 1] / 9.0 - l20 * l10) / l11
        l22 = np.sqrt(c[2, 2] / 9.0 + e - l20 * l20 - l21 * l21)
        m00, m11, m22 = 1.0 / l00, 1.0 / l11, 1.0 / l22  # M = L⁻¹, lower triangular
        m10 = -l10 * m00 * m11
        m21 = -l21 * m11 * m22
        m20 = -(l20 * m00 + l21 * m10) * m22
        mean[i] = mu
        inverse[i, 0, 0] = m00 * m00 + m10 * m10 + m20 * m20
        inverse[i, 1, 1] = m11 * m11 + m21 * m21
        inverse[i, 2, 2] = m22 * m22
        inverse[i, 0, 1] = inverse[i, 1, 0] = m10 * m11 + m20 * m21
        inverse[i, 0, 2] = inverse[i, 2, 0] = m20 * m22
        inverse[i, 1, 2] = inverse[i, 2, 1] = m21 * m22
    return mean, inverse


@numba.njit(cache=True)
def _free_rows(image: np.ndarray, pixels: np.ndarray, number: np.ndarray, window: np.ndarray, mean: np.ndarray,
               inverse: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """L's rows of the free pixels as CSR (indptr, indices, data) and −L_fk·known: each free pixel p's entries
    with the pixels q within 2 px, summed over the windows holding both; a free q is a matrix entry, a known
    one moves to the right-hand side."""
    h, w = image.shape[0], image.shape[1]
    m = len(pixels)
    indptr = np.zeros(m + 1, np.int64)
    indices = np.empty(25 * m, np.int32)
    data = np.empty(25 * m)
    rhs = np.zeros(m)
    row = np.empty(25)  # p's entries on the 25 diagonals, (dy, dx) in [-2, 2]² in raster order
    nnz = 0
    for i in range(m):
        y, x = pixels[i] // w, pixels[i] % w
        row[:] = 0.0
        for cy in range(max(y - 1, 1), min(y + 2, h - 1)):
            for cx in range(max(x - 1, 1), min(x + 2, w - 1)):
                k = window[cy * w + cx]
                p0, p1, p2 = image[y, x, 0] - mean[k, 0], image[y, x, 1] - mean[k, 1], image[y, x, 2] - mean[k, 2]
                u0 = inverse[k, 0, 0] * p0 + inverse[k, 0, 1] * p1 + inverse[k, 0, 2] * p2  # Σ⁻¹ (I_p − μ)
                u1 = inverse[k, 1, 0] * p0 + inverse[k, 1, 1] * p1 + inverse[k, 1, 2] * p2
                u2 = inverse[k, 2, 0] * p0 + inverse[k, 2, 1] * p1 + inverse[k, 2, 2] * p2
                for qy in range(cy - 1, cy + 2):
                    for qx in range(cx - 1, cx + 2):
                        q0, q1, q2 = image[qy, qx, 0] - mean[k, 0], image[qy, qx, 1] - mean[k, 1], image[qy, qx, 2] - mean[k, 2]
                        row[(qy - y + 2) * 5 + qx - x + 2] -= (1.0 + u0 * q0 + u1 * q1 + u2 * q2) / 9.0
                row[12] += 1.0  # δ_pp, once per window
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                qy, qx = y + dy, x + dx
                if qy < 0 or qy >= h or qx < 0 or qx >= w:
                    continue
                q = qy * w + qx
                value = row[(dy + 2) * 5 + dx + 2]
                if number[q] >= 0:
                    indices[nnz] = number[q]
                    data[nnz] = value
                    nnz += 1
                else:
                    rhs[i] -= value * known[q]
        indptr[i + 1] = nnz
    return indptr, indices[:nnz].copy(), data[:nnz].copy(), rhs
