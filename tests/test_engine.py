import copy

import numpy as np
import pytest
import torch
from torch import nn

import adamatte.matting.engine as engine_module
from adamatte.matting.engine import DRAWN_ROOM, TIGHT_BAND, Guide, MattingEngine, feather, region_of_interest, tile_windows
from adamatte.matting.morphology import dilate_disk
from adamatte.matting.refine import refine_alpha
from adamatte.matting.trimap import band_width, mask_to_trimap, normalize_trimap, trimap_to_labels
from adamatte.errors import InputError
from adamatte.model import AdaMatting, AdaOutput, load_model_config


@pytest.fixture(scope="module")
def lite_model():
    torch.manual_seed(0)
    return AdaMatting(load_model_config("lite"))


def frame(h, w, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.random((h, w, 3), dtype=np.float32)
    trimap = np.zeros((h, w), np.uint8)
    trimap[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = 128
    trimap[3 * h // 8: 5 * h // 8, 3 * w // 8: 5 * w // 8] = 255
    return image, trimap


@pytest.mark.parametrize("h, w", [(251, 317), (32, 32), (17, 45)])
def test_any_size_is_padded_and_cropped_back(lite_model, h, w):
    result = MattingEngine(lite_model, device="cpu").matte(*frame(h, w))
    assert result.alpha.shape == (h, w) and result.alpha.dtype == np.float32
    assert result.labels.shape == (h, w) and result.labels.dtype == np.uint8
    assert result.probs.shape == (h, w, 3)
    np.testing.assert_allclose(result.probs.sum(axis=2), 1.0, atol=1e-5)
    assert {"network", "total"} <= set(result.timings)


def test_padding_does_not_leak_into_the_crop(lite_model):
    # the same content at an aligned size and padded from an odd size agrees away from the padded edge
    image, trimap = frame(256, 320)
    engine = MattingEngine(lite_model, device="cpu")
    full = engine.matte(image, trimap)
    cropped = engine.matte(image[:250, :310], trimap[:250, :310])
    assert np.abs(full.probs[:150, :200] - cropped.probs[:150, :200]).mean() < 1e-3


def test_cpu_is_deterministic(lite_model):
    engine = MattingEngine(lite_model, device="cpu")
    a, b = engine.matte(*frame(96, 128)), engine.matte(*frame(96, 128))
    np.testing.assert_array_equal(a.alpha, b.alpha)
    np.testing.assert_array_equal(a.labels, b.labels)


def test_trimap_conventions_agree(lite_model):
    engine = MattingEngine(lite_model, device="cpu")
    image, trimap = frame(64, 64)
    as_float = engine.matte(image, trimap.astype(np.float32) / 255.0)
    as_bytes = engine.matte(image, trimap)
    np.testing.assert_array_equal(as_float.alpha, as_bytes.alpha)


def test_respect_trimap_clamps_known_regions(lite_model):
    image, trimap = frame(64, 96)
    result = MattingEngine(lite_model, device="cpu", respect_trimap=True).matte(image, trimap)
    assert (result.alpha[trimap == 0] == 0).all() and (result.alpha[trimap == 255] == 1).all()
    assert (result.labels[trimap == 0] == 0).all() and (result.labels[trimap == 255] == 2).all()


def test_mismatched_trimap_is_refused(lite_model):
    image, _ = frame(64, 64)
    with pytest.raises(InputError, match="trimap is 32x32 but the image is 64x64"):
        MattingEngine(lite_model, device="cpu").matte(image, np.zeros((32, 32), np.uint8))


def test_feathers_of_neighbouring_tiles_sum_to_one():
    length, overlap = 1000, 40
    total = np.zeros(length, np.float32)
    for start, stop, _, _ in tile_windows(length, 3, overlap):
        total[start:stop] += feather(start, stop, length, overlap)
    np.testing.assert_allclose(total, 1.0, atol=1e-6)


class LocalNet(nn.Module):
    """A stand-in with a 5x5 receptive field: tiling with enough overlap must be exact."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.t = nn.Conv2d(4, 3, 3, padding=1)
        self.a = nn.Conv2d(4, 1, 3, padding=1)
        self.smooth = nn.Conv2d(1, 1, 3, padding=1)

    def forward(self, image, trimap):
        x = torch.cat([image, trimap], 1)
        logits = self.t(x)
        alpha = torch.sigmoid(self.smooth(self.a(x)))
        return AdaOutput(logits, alpha, alpha)


def test_tiling_is_exact_for_a_local_network():
    image, trimap = frame(300, 410)
    whole = MattingEngine(LocalNet(), device="cpu", max_megapixels=1.0).matte(image, trimap)
    tiled_engine = MattingEngine(LocalNet(), device="cpu", max_megapixels=0.04, overlap=16)
    tiled = tiled_engine.matte(image, trimap)
    np.testing.assert_allclose(tiled.alpha, whole.alpha, atol=1e-5)
    np.testing.assert_array_equal(tiled.labels, whole.labels)


def test_the_region_of_interest_boxes_the_band_and_the_class_edges():
    trimap = np.zeros((300, 400), np.float32)
    trimap[100:121, 150:201] = 0.5
    rows, cols = region_of_interest(trimap, 64)  # grown 64 px, out to the 32 px grid
    assert (rows.start, rows.stop, cols.start, cols.stop) == (32, 192, 64, 288)
    mask = np.zeros((300, 400), np.float32)
    mask[200:, 300:] = 1.0  # a hard mask has no band: its edge is what the network adapts
    rows, cols = region_of_interest(mask, 10)
    assert (rows.start, rows.stop, cols.start, cols.stop) == (160, 300, 288, 400)
    assert region_of_interest(np.ones((50, 60), np.float32), 64) is None


class SpyNet(LocalNet):
    """LocalNet that records the size of every input it is given."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, image, trimap):
        self.seen.append(tuple(image.shape[2:]))
        return super().forward(image, trimap)


def test_the_network_sees_only_the_region_of_interest():
    image, trimap = frame(300, 410)  # band rows 75-225, columns 102-307
    net = SpyNet()
    boxed = MattingEngine(net, device="cpu", roi_margin=16).matte(image, trimap)
    assert net.seen == [(224, 288)]  # rows 32-256, columns 64-352
    outside = np.ones((300, 410), bool)
    outside[32:256, 64:352] = False
    assert (boxed.labels[outside] == 0).all() and (boxed.alpha[outside] == 0).all()
    assert (boxed.probs[outside] == [1, 0, 0]).all()
    # the network's receptive field (5 px) is inside the margin: the band is as the whole frame's
    whole = MattingEngine(LocalNet(), device="cpu", roi_margin=None).matte(image, trimap)
    band = trimap == 128
    np.testing.assert_allclose(boxed.alpha[band], whole.alpha[band], atol=1e-5)
    np.testing.assert_array_equal(boxed.labels[band], whole.labels[band])


def test_a_trimap_of_one_class_skips_the_network():
    net = SpyNet()
    image, _ = frame(64, 96)
    result = MattingEngine(net, device="cpu", refine="knn").matte(image, np.zeros((64, 96), np.uint8))
    assert net.seen == [] and (result.alpha == 0).all() and (result.labels == 0).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(lite_model):
    image, trimap = frame(251, 317)
    cpu = MattingEngine(lite_model, device="cpu", precision="fp32").matte(image, trimap)
    for precision in ("fp32", "fp16", "bf16"):
        result = MattingEngine(copy.deepcopy(lite_model), device="cuda", precision=precision).matte(image, trimap)
        assert np.abs(result.probs - cpu.probs).mean() < (1e-4 if precision == "fp32" else 2e-2), precision


def test_auto_precision_on_a_cpu_is_bf16_only_where_it_has_bf16_hardware(lite_model, monkeypatch):
    cpu = torch.device("cpu")
    for hardware in (True, False):
        monkeypatch.setattr(engine_module, "cpu_has_bf16", lambda: hardware)
        assert engine_module.autocast_dtype(cpu, "auto") == (torch.bfloat16 if hardware else None)
        assert engine_module.autocast_dtype(cpu, "fp32") is None and engine_module.autocast_dtype(cpu, "fp16") is None
        assert engine_module.autocast_dtype(cpu, "bf16") == torch.bfloat16


def test_bf16_on_the_cpu_is_close_to_fp32(lite_model):
    image, trimap = frame(251, 317)
    fp32 = MattingEngine(lite_model, device="cpu", precision="fp32").matte(image, trimap)
    bf16 = MattingEngine(lite_model, device="cpu", precision="bf16").matte(image, trimap)
    assert np.abs(bf16.probs - fp32.probs).mean() < 2e-2 and np.abs(bf16.alpha - fp32.alpha).mean() < 2e-2
    assert 0 < np.abs(bf16.alpha - fp32.alpha).max()  # it did run in bf16


def test_cuda_refused_without_a_gpu(lite_model):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(InputError, match="no CUDA GPU"):
        MattingEngine(lite_model, device="cuda")


def test_a_reduced_trimap_keeps_a_one_pixel_band():
    from adamatte.matting.engine import shrink_trimap

    trimap = np.zeros((64, 96), np.float32)
    trimap[:, 48:] = 1.0
    trimap[:, 47] = 0.5
    small = shrink_trimap(trimap, (48, 32))
    assert small.shape == (32, 48) and set(np.unique(small)) == {0.0, 0.5, 1.0}
    assert (small[:, 23] == 0.5).all() and (small[:, :23] == 0).all() and (small[:, 24:] == 1).all()


def test_the_analysis_scale_is_automatic_above_4k(lite_model):
    engine = MattingEngine(lite_model, device="cpu")
    assert engine.scale_for(540, 960) == engine.scale_for(2160, 3840) == 1.0
    assert engine.scale_for(4320, 7680) == pytest.approx((9e6 / (7680 * 4320)) ** 0.5)
    assert MattingEngine(lite_model, device="cpu", analysis_scale=0.5).scale_for(540, 960) == 0.5
    with pytest.raises(InputError, match="analysis-scale"):
        MattingEngine(lite_model, device="cpu", analysis_scale=1.5)


def test_a_reduced_analysis_keeps_the_edge_at_full_resolution():
    """The network sees half the pixels; the KNN solve in the upsampled band restores a sharp edge."""
    from standin import ColourKeyNet

    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    truth = np.clip((np.hypot(yy - 60, xx - 80) - 30) / -1.5 + 0.5, 0, 1).astype(np.float32)  # a 1.5 px soft disk
    image = (truth[..., None] * np.array([0.9, 0.3, 0.41]) + (1 - truth[..., None]) * np.array([0.2, 0.3, 0.2])).astype(np.float32)
    trimap = np.where(truth >= 1, 1.0, np.where(truth <= 0, 0.0, 0.5)).astype(np.float32)
    trimap = np.where(np.abs(np.hypot(yy - 60, xx - 80) - 30) < 6, 0.5, trimap).astype(np.float32)
    full = MattingEngine(ColourKeyNet(), device="cpu", refine="knn", analysis_scale=1.0).matte(image, trimap)
    half = MattingEngine(ColourKeyNet(), device="cpu", refine="knn", analysis_scale=0.5).matte(image, trimap)
    none = MattingEngine(ColourKeyNet(), device="cpu", refine="none", analysis_scale=0.5).matte(image, trimap)
    assert half.alpha.shape == half.labels.shape == (h, w) and half.probs.shape == (h, w, 3)
    err = {name: np.abs(r.alpha - truth).mean() for name, r in (("full", full), ("half", half), ("none", none))}
    assert err["half"] < 5e-3 and err["half"] < 0.2 * err["none"], err


class RampNet(nn.Module):
    """A sure stand-in that narrows any band to a line: unknown where the image's red is 0.45-0.55,
    foreground above, background below."""

    def forward(self, image, trimap):
        red = image[:, :1]
        unknown = (red - 0.5).abs() < 0.05
        logits = 10.0 * torch.cat([(red < 0.5) & ~unknown, unknown, (red >= 0.5) & ~unknown], 1).float()
        return AdaOutput(logits, red, red)


def test_a_drawn_band_gives_the_solve_room_around_the_networks_unknown(monkeypatch):
    image, trimap = frame(64, 96)
    image[..., 0] = np.linspace(0, 1, 96, dtype=np.float32)  # the network's line: columns 43-52
    solved = []  # the band each solve is given

    def recording(image, band, *args, **kwargs):
        solved.append(band.copy())
        return refine_alpha(image, band, *args, **kwargs)

    monkeypatch.setattr(engine_module, "refine_alpha", recording)
    engine = MattingEngine(RampNet(), device="cpu", refine="knn", drawn_band="adapt")  # the band is tight: auto would keep it
    result = engine.matte(image, trimap)
    line = result.labels == 1
    user_band = trimap == 128
    np.testing.assert_array_equal(solved[-1] == 1, line | (dilate_disk(line, DRAWN_ROOM["knn"]) & user_band))
    assert (solved[-1] == 1).sum() > line.sum()
    engine.matte(image, trimap, drawn=False)  # a propagated band: the network's unknown alone
    np.testing.assert_array_equal(solved[-1] == 1, line)


def test_what_the_veto_holds_off_softly_is_solved_and_what_it_holds_off_firmly_stays_background(monkeypatch):
    image, trimap = frame(64, 96)
    image[..., 0] = np.linspace(0, 1, 96, dtype=np.float32)  # RampNet: foreground from column 53 on
    image[..., 1:] = 0.5  # a smooth picture: what is held off softly looks like the foreground around it
    vetoed, firm = np.zeros((64, 96), bool), np.zeros((64, 96), bool)
    vetoed[:, 60:70] = True  # inside the network's foreground: top half held off softly, bottom half firmly
    firm[32:, 60:70] = True
    solved = []  # the band each solve is given

    def recording(image, band, *args, **kwargs):
        solved.append(band.copy())
        return refine_alpha(image, band, *args, **kwargs)

    monkeypatch.setattr(engine_module, "refine_alpha", recording)
    guide = Guide(veto=lambda labels, alpha: (vetoed, firm))
    result = MattingEngine(RampNet(), device="cpu", refine="auto").matte(image, trimap, guide, drawn=False)
    assert (result.labels[vetoed] == 0).all() and (result.vetoed == vetoed).all()
    assert (solved[-1][vetoed & ~firm] == 1).all() and (solved[-1][firm] == 0).all()
    assert (result.alpha[firm] == 0).all(), "a firm veto is final"
    edges = result.alpha[2:30][:, [60, 69]]  # beside the foreground the network kept
    assert 0.3 < edges.min() and edges.max() < 1.0, "the solve weighs the solid foreground beside it against the pull to background"
    assert result.alpha[2:30, 64:66].max() < edges.min(), "farther in, the pull to background wins"


class UnsureNet(nn.Module):
    """A stand-in that keeps the trimap's background and leaves the rest unknown at alpha 0.5: the translucent
    guess of a network given a wide band."""

    def forward(self, image, trimap):
        background = trimap == 0
        logits = 10.0 * torch.cat([background, ~background, torch.zeros_like(background)], 1).float()
        half = torch.where(background, 0.0, 0.5)
        return AdaOutput(logits, half, half)


class FadedNet(UnsureNet):
    """UnsureNet whose guess inside the band is mostly background (alpha 0.2): where the subject has moved away."""

    def forward(self, image, trimap):
        out = super().forward(image, trimap)
        faded = torch.where(trimap == 0, 0.0, 0.2)
        return AdaOutput(out.trimap_logits, faded, faded)


def test_the_carried_alpha_holds_what_it_carried_solid_while_the_network_still_sees_the_subject(monkeypatch):
    inside = disk_mask(64, 96, 20) > 0
    yy, xx = np.mgrid[0:64, 0:96]
    radius = np.hypot(yy - 32, xx - 48)
    ramp = np.clip((25 - radius) / 5, 0, 1)  # the subject's colour, fading into the background's over 5 px past its edge
    image = np.repeat(0.3 + 0.4 * ramp[..., None], 3, axis=2).astype(np.float32)
    trimap = np.full((64, 96), 0.5, np.float32)
    trimap[[0, -1], :] = trimap[:, [0, -1]] = 0.0  # only the frame's edge is known background
    guide = Guide(alpha=inside.astype(np.float32), weight=np.full((64, 96), 0.05, np.float32))  # --temporal's default, flow sure
    engine = MattingEngine(UnsureNet(), device="cpu", refine="auto")
    held = engine.matte(image, trimap, guide, drawn=False).alpha
    assert held[inside].mean() > 0.9, "the subject, carried solid and still half foreground to the network, is held to its edge"
    assert held[radius >= 25].max() < 0.1, "past its colour, nothing is held"
    released = MattingEngine(FadedNet(), device="cpu", refine="auto").matte(image, trimap, guide, drawn=False).alpha
    assert released[inside].mean() < 0.5, "where the network sees background now, the carried solid lets go (no ghost)"
    monkeypatch.setattr(engine_module, "SOLID_PULL", 0.0)  # agreement alone: the network's 0.5 is 0.5 from the carried 1
    assert engine.matte(image, trimap, guide, drawn=False).alpha[inside].mean() < 0.1, "without it the subject fades"


def disk_mask(height: int, width: int, radius: float) -> np.ndarray:
    """H×W float32: 1 inside a disk of `radius` px at the frame's centre, 0 outside."""
    yy, xx = np.mgrid[0:height, 0:width]
    return (np.hypot(yy - height / 2, xx - width / 2) < radius).astype(np.float32)


def test_band_width_reads_a_bands_solid_edges():
    disk = disk_mask(200, 240, 60)
    for band in (3, 6, 12):
        assert abs(band_width(mask_to_trimap(disk, band)) - 2 * band) <= 2, band
    tufted = mask_to_trimap(disk, 3)
    tufted[20:60, 100:140] = 0.5  # a wide patch of hair on a tight band: still a tight band
    assert band_width(tufted) <= 8
    assert band_width(np.ones((20, 20), np.float32)) == 0.0


def test_drawn_band_auto_keeps_a_tight_band_whole_and_adapts_a_wide_one(lite_model):
    tight = frame(64, 96)  # a band 8-12 px across
    wide = frame(192, 288)  # 24-36 px
    assert band_width(normalize_trimap(tight[1])) <= TIGHT_BAND < band_width(normalize_trimap(wide[1]))
    engines = {mode: MattingEngine(lite_model, device="cpu", refine="knn", drawn_band=mode) for mode in ("auto", "keep", "adapt")}
    for (image, trimap), kept_by_auto in ((tight, True), (wide, False)):
        band = trimap == 128
        results = {mode: engine.matte(image, trimap) for mode, engine in engines.items()}
        labels = {mode: result.labels for mode, result in results.items()}
        # keep: the drawn trimap stands as drawn, its whole band solved and its classes final
        np.testing.assert_array_equal(labels["keep"], trimap_to_labels(normalize_trimap(trimap)))
        assert (results["keep"].alpha[trimap == 255] == 1).all() and (results["keep"].alpha[trimap == 0] == 0).all()
        assert (labels["adapt"][band] != 1).any(), "adapt: the network narrows the band"
        np.testing.assert_array_equal(labels["auto"], labels["keep" if kept_by_auto else "adapt"])
    adapted = engines["adapt"].matte(*tight).labels
    for mode in ("auto", "keep"):  # a propagated band is always the network's to narrow
        np.testing.assert_array_equal(engines[mode].matte(*tight, drawn=False).labels, adapted)
    alone = MattingEngine(lite_model, device="cpu", refine="none").matte(*tight)
    np.testing.assert_array_equal(alone.labels, adapted)  # auto keeps a band only for a solve to solve


def test_drawn_band_auto_allows_a_wider_band_on_a_larger_frame(lite_model):
    engine = MattingEngine(lite_model, device="cpu", refine="auto")

    def disk_trimap(height: int, width: int, band: int) -> np.ndarray:
        return mask_to_trimap(disk_mask(height, width, height / 3), band)

    # a 24 px band: wide on a 960x540 frame, tight on a 1920x1080 one (limit 16 px x sqrt(2.07 MP / 0.6 MP))
    assert not engine.keeps_band(disk_trimap(540, 960, 12))
    assert engine.keeps_band(disk_trimap(1080, 1920, 12))
    assert not engine.keeps_band(disk_trimap(1080, 1920, 20))  # 40 px: wide there too


def test_refine_auto_solves_with_mixed_a_kept_band_grown_a_pixel_and_an_adapted_one_as_knn_would(lite_model, monkeypatch):
    calls = []  # (method, margin, band) of each solve

    def recording(image, band, *args, method, margin, **kwargs):
        calls.append((method, margin, band.copy()))
        return refine_alpha(image, band, *args, method=method, margin=margin, **kwargs)

    monkeypatch.setattr(engine_module, "refine_alpha", recording)
    engine = MattingEngine(lite_model, device="cpu", refine="auto")
    engine.matte(*frame(64, 96))  # tight: kept
    engine.matte(*frame(192, 288))  # wide: adapted
    engine.matte(*frame(64, 96), drawn=False)  # propagated: adapted
    image, trimap = frame(64, 96)
    engine.matte(image, np.where(trimap == 128, 0, trimap).astype(np.uint8))  # no band: nothing kept
    assert [(method, margin) for method, margin, _ in calls] == [("mixed", 1), ("mixed", 0), ("mixed", 0), ("mixed", 0)]
    MattingEngine(lite_model, device="cpu", refine="knn", drawn_band="adapt").matte(*frame(64, 96), drawn=False)
    assert calls[-1][:2] == ("knn", 0)
    np.testing.assert_array_equal(calls[-1][2], calls[2][2])  # auto's adapted band is KNN's (REFINE_BAND)


def test_the_most_likely_class_is_argmax_with_its_ties_and_its_probability_the_max():
    rng = np.random.default_rng(0)
    probs = rng.random((40, 50, 3)).astype(np.float32)
    probs[:10] = 0.5  # three-way ties: the first class, as argmax
    probs[10:20, :, 1:] = 0.7  # ties of the last two
    probs[20:30, :, ::2] = 0.9  # ties of the first and last
    labels, best = engine_module.most_likely(probs)
    assert labels.dtype == np.uint8 and np.array_equal(labels, probs.argmax(axis=2))
    assert np.array_equal(best, probs.max(axis=2))
