import dataclasses

import pytest
import torch

from adamatte.model import AdaMatting, load_model_config
from adamatte.model.adamatting import compose_alpha
from adamatte.model.weights import parameter_breakdown


@pytest.fixture(scope="module")
def lite():
    torch.manual_seed(0)
    return AdaMatting(load_model_config("lite")).eval()


def test_paper_is_resnet50_class():
    model = AdaMatting(load_model_config("paper"))
    counts = parameter_breakdown(model)
    # torchvision's ResNet-50 without its fc layer has 23,508,032 weights; the stem's 4th input channel adds 64*7*7
    assert counts["encoder"] == 23_508_032 + 64 * 7 * 7
    assert [len(layer) for layer in (model.encoder.layer1, model.encoder.layer2, model.encoder.layer3, model.encoder.layer4)] == [3, 4, 6, 3]


def test_outputs_and_shapes(lite):
    image, trimap = torch.rand(2, 3, 64, 96), torch.full((2, 1, 64, 96), 0.5)
    with torch.inference_mode():
        out = lite(image, trimap)
    assert out.trimap_logits.shape == (2, 3, 64, 96)
    for alpha in (out.alpha_coarse, out.alpha_refined, out.alpha):
        assert alpha.shape == (2, 1, 64, 96) and alpha.min() >= 0 and alpha.max() <= 1


def test_propagation_unit_recurs_with_shared_weights(lite):
    unit = lite.propagation
    assert unit.steps == 3 and len(unit.resblocks) == 2
    calls = []
    handle = unit.lstm.register_forward_hook(lambda *a: calls.append(1))
    with torch.inference_mode():
        lite(torch.rand(1, 3, 32, 32), torch.full((1, 1, 32, 32), 0.5))
    handle.remove()
    assert len(calls) == 3


@pytest.mark.parametrize("unshuffle", [1, 4])
def test_propagation_unit_is_its_formula(unshuffle):
    """Each step: the entry (1×1 conv, BN, ReLU) over [image, trimap, alpha], 2 ResBlocks, the ConvLSTM,
    and a correction in logit space; the forward computes the entry's image and trimap share once."""
    torch.manual_seed(1)
    config = dataclasses.replace(load_model_config("lite"), prop_unshuffle=unshuffle)
    unit = AdaMatting(config).propagation.eval()
    torch.nn.init.normal_(unit.head.weight, std=0.1)
    image, probs, alpha = torch.rand(1, 3, 32, 32), torch.softmax(torch.rand(1, 3, 32, 32), 1), torch.rand(1, 1, 32, 32)
    expected, state = alpha, None
    with torch.inference_mode():
        for _ in range(3):
            x = torch.cat([image, probs, expected], dim=1)
            x = torch.nn.functional.pixel_unshuffle(x, unshuffle) if unshuffle > 1 else x
            state = unit.lstm(unit.resblocks(unit.entry(x)), state)
            delta = unit.head(state[0])
            delta = torch.nn.functional.pixel_shuffle(delta, unshuffle) if unshuffle > 1 else delta
            expected = torch.sigmoid(torch.logit(expected, eps=1e-4) + delta)
        torch.testing.assert_close(unit(image, probs, alpha), expected, atol=1e-5, rtol=0)
        assert (expected - alpha).abs().mean() > 1e-3  # the head is not zero: the steps do something


def test_untrained_propagation_head_is_identity(lite):
    image, probs, alpha = torch.rand(1, 3, 32, 32), torch.softmax(torch.rand(1, 3, 32, 32), 1), torch.rand(1, 1, 32, 32) * 0.9 + 0.05
    with torch.inference_mode():
        torch.testing.assert_close(lite.propagation(image, probs, alpha), alpha, atol=1e-4, rtol=0)


def test_compose_takes_known_regions_from_the_adapted_trimap():
    logits = torch.zeros(1, 3, 1, 3)
    logits[0, 0, 0, 0] = logits[0, 1, 0, 1] = logits[0, 2, 0, 2] = 5.0  # bg, unknown, fg
    alpha = torch.full((1, 1, 1, 3), 0.3)
    assert compose_alpha(logits, alpha).flatten().tolist() == pytest.approx([0.0, 0.3, 1.0])


def test_gradients_reach_every_parameter(lite):
    model = AdaMatting(load_model_config("lite")).train()
    torch.nn.init.normal_(model.propagation.head.weight, std=0.01)  # a zero head would block the LSTM's gradient
    out = model(torch.rand(2, 3, 64, 64), torch.full((2, 1, 64, 64), 0.5))
    (out.trimap_logits.mean() + out.alpha_refined.mean()).backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None]
    assert not dead


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_propagation_unit_keeps_finite_gradients_under_autocast_where_alpha_is_sure(dtype):
    """Mixed-precision training (bf16 on the CPU, fp16 on CUDA): a coarse alpha of exactly 0 or 1 must not
    make the logit infinite (1 - 1e-4 rounds to 1 in both) and the gradients NaN."""
    if dtype == torch.float16 and not torch.cuda.is_available():
        pytest.skip("fp16 autocast runs on CUDA")
    device = "cuda" if dtype == torch.float16 else "cpu"
    torch.manual_seed(2)
    unit = AdaMatting(load_model_config("lite")).propagation.to(device).train()
    torch.nn.init.normal_(unit.head.weight, std=0.1)
    alpha = torch.rand(1, 1, 32, 32, device=device)
    alpha[..., :8, :] = 1.0
    alpha[..., -8:, :] = 0.0
    image, probs = torch.rand(1, 3, 32, 32, device=device), torch.softmax(torch.rand(1, 3, 32, 32, device=device), 1)
    with torch.autocast(device, dtype=dtype):
        out = unit(image, probs, alpha.to(dtype))  # as the network hands it on: a sigmoid computed under autocast
    out.float().mean().backward()
    assert all(torch.isfinite(p.grad).all() for p in unit.parameters() if p.grad is not None)
