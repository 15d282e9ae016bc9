import numpy as np

from adamatte.io.colour import ColourConverter, compress_highlights, default_colorspace


def srgb_encode(x):
    """IEC 61966-2-1 encoding."""
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(np.maximum(x, 0), 1 / 2.4) - 0.055)


def test_linear_to_working_space_matches_srgb_formula():
    lin = np.linspace(0.0, 0.78, 300, dtype=np.float32)  # below the highlight knee
    rgb = np.stack([lin, lin, lin], axis=1)[None]
    out = ColourConverter(default_colorspace(".exr"))(rgb)
    np.testing.assert_allclose(out[0, :, 0], srgb_encode(lin), atol=2e-4)


def test_highlights_roll_off_instead_of_clipping():
    lin = np.array([0.9, 1.0, 2.0, 8.0, 100.0], np.float32)
    out = ColourConverter("lin_rec709_srgb")(np.stack([lin] * 3, axis=1)[None])[0, :, 0]
    assert np.all(np.diff(out) > 0), "distinct highlights stay distinct"
    assert out.max() < 1.0


def test_display_encoded_input_is_left_alone():
    px = np.random.default_rng(1).random((4, 5, 3), dtype=np.float32)
    np.testing.assert_array_equal(ColourConverter(default_colorspace(".png"))(px), px)


def test_compress_highlights_is_continuous_at_the_knee():
    x = np.array([[[0.899999, 0.9, 0.900001]]], np.float32)
    y = compress_highlights(x.copy())
    np.testing.assert_allclose(y, x, atol=1e-6)


def _per_pixel(converter, rgb):
    """What the converter does without its half-float table: OCIO on every pixel, then the roll-off."""
    return converter._finish(converter._apply(rgb))


def test_half_float_table_matches_ocio_per_pixel():
    converter = ColourConverter("lin_rec709_srgb")
    assert converter._half_table is not None, "a per-channel transform is baked into a table"
    rng = np.random.default_rng(2)
    half = (rng.random((64, 64, 3)) * 20 - 1).astype(np.float16)
    np.testing.assert_array_equal(converter(half), _per_pixel(converter, half.astype(np.float32)))
    full = (rng.random((64, 64, 3)) * 4).astype(np.float32)  # float plates are rounded to half first
    np.testing.assert_allclose(converter(full), _per_pixel(converter, full), atol=5e-4)


def test_half_float_table_survives_nan_and_inf():
    converter = ColourConverter("lin_rec709_srgb")
    out = converter(np.array([[[np.nan, np.inf, -np.inf]]], np.float32))
    assert np.all(np.isfinite(out)) and out[0, 0, 0] == 0 and 0.99 < out[0, 0, 1] < 1 and out[0, 0, 2] == 0


def test_transforms_that_mix_channels_are_applied_per_pixel():
    converter = ColourConverter("ACEScg")  # a matrix: no per-channel table can express it
    assert converter._half_table is None
    rgb = np.array([[[0.18, 0.05, 0.02]]], np.float32)
    out = converter(rgb)
    assert out[0, 0, 0] > out[0, 0, 1] > out[0, 0, 2] and np.all((out >= 0) & (out < 1))
