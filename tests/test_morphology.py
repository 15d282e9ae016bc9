import cv2
import numpy as np
import pytest

from adamatte.matting.morphology import dilate, dilate_disk, dilate_where, disk


def masks(rng: np.random.Generator) -> list[np.ndarray]:
    """Empty, full, a blob in the middle, blobs touching each edge and corner, and scattered specks (uint8 0/1)."""
    h, w = 90, 130
    out = [np.zeros((h, w), np.uint8), np.ones((h, w), np.uint8)]
    blob = np.zeros((h, w), np.uint8)
    cv2.circle(blob, (70, 40), 12, 1, -1)
    out.append(blob)
    for cy, cx in ((0, 60), (h - 1, 60), (45, 0), (45, w - 1), (0, 0), (h - 1, w - 1)):
        edge = np.zeros((h, w), np.uint8)
        cv2.circle(edge, (cx, cy), 9, 1, -1)
        out.append(edge)
    out.append((rng.random((h, w)) < 0.002).astype(np.uint8))
    out.append((rng.random((h, w)) > 0.3).astype(np.uint8))  # mostly set: the box is the frame
    return out


@pytest.mark.parametrize("kernel", [disk(1), disk(4), disk(13), disk(24), np.ones((3, 3), np.uint8), np.ones((9, 9), np.uint8)],
                         ids=["disk1", "disk4", "disk13", "disk24", "square3", "square9"])
def test_dilation_around_the_mask_or_the_pixels_asked_is_cv2s_on_the_whole_frame(kernel):
    every = masks(np.random.default_rng(0))
    for mask in every:
        whole = cv2.dilate(mask, kernel)
        assert np.array_equal(dilate(mask, kernel), whole)
        assert np.array_equal(dilate(mask.astype(bool), kernel), whole)
        for where in every:  # asked at a blob, at the edges, at specks, everywhere, nowhere
            assert np.array_equal(dilate_where(mask.astype(bool), kernel, where.astype(bool)), (whole > 0) & (where > 0))


def test_dilate_disk_grows_by_the_radius_and_refuses_an_uncentred_kernel():
    mask = np.zeros((40, 40), bool)
    mask[20, 20] = True
    grown = dilate_disk(mask, 5)
    assert grown.dtype == bool and grown[20, 25] and grown[15, 20] and not grown[20, 26] and not grown[16, 16]
    assert dilate_disk(mask, 0) is mask
    with pytest.raises(ValueError, match="odd"):
        dilate(mask, np.ones((4, 4), np.uint8))
