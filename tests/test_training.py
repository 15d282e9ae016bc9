import itertools
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from adamatte.cli import main
from adamatte.matting.engine import cpu_has_bf16
from adamatte.model import AdaMatting, ModelConfig
from adamatte.model.weights import load_weights
from adamatte.train.checkpoint import read_checkpoint
from adamatte.train.config import load_train_config
from adamatte.train.data import MattingDataset
from adamatte.train.loss import UncertaintyLoss
from adamatte.train.trainer import NEGLIGIBLE, Trainer
from adamatte.train.transforms import paper_pipeline
from adamatte.matting.trimap import BACKGROUND, FOREGROUND, UNKNOWN

from synthetic import matting_sample, write_matting_folder, write_merged_folder


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    return write_merged_folder(tmp_path_factory.mktemp("merged"), 6, size=96)


def smoke_config(data, out, **kw):
    return load_train_config("smoke", data_root=str(data), output_dir=str(out), **kw)


def test_pipeline_invariants(merged, tmp_path):
    cfg = smoke_config(merged, tmp_path, crop_size=64, crop_min=64, crop_max=96)
    pipeline = paper_pipeline(64, 64, 96)
    dataset = MattingDataset(cfg, pipeline, show_progress=False)
    for index in range(len(dataset)):
        rng = np.random.default_rng([0, 0, index])
        item = dataset.items[index]
        fg, own = (dataset.decoded.read(path) for path in dataset.cache.paths(item))
        sample = {"fg": fg, "alpha": dataset.decoded.read(item.alpha, matte=True), "bg": own, "spatial": ["fg", "alpha", "bg"]}
        for transform in pipeline:
            sample = transform(sample, rng)
            h, w = sample["alpha"].shape
            for key in sample["spatial"]:
                assert sample[key].shape[:2] == (h, w), (type(transform).__name__, key)
            if type(transform).__name__ == "CropAroundUnknown":
                assert (h, w) == (64, 64)
                assert ((sample["alpha"] > 0) & (sample["alpha"] < 1)).any(), "a crop must contain unknown pixels"
        assert set(np.unique(sample["trimap"])) <= {0.0, 0.5, 1.0}
        labels, alpha = sample["labels"], sample["alpha"]
        assert (labels[alpha == 0] == BACKGROUND).all() and (labels[alpha == 1] == FOREGROUND).all()
        assert (labels[(alpha > 0) & (alpha < 1)] == UNKNOWN).all()
        assert (sample["trimap"][labels == UNKNOWN] == 0.5).all(), "the training trimap covers T_opt's unknown region"
        assert sample["image"].min() >= 0 and sample["image"].max() <= 1
        batch = dataset[index]
        assert batch["image"].shape == (3, 64, 64) and batch["trimap"].shape == (1, 64, 64) and batch["labels"].dtype == torch.int64


def test_samples_are_reproducible(merged, tmp_path):
    dataset = MattingDataset(smoke_config(merged, tmp_path), paper_pipeline(64, 64, 96), show_progress=False)
    a, b = dataset[3], dataset[3]
    assert all(torch.equal(a[k], b[k]) for k in a)
    dataset.set_epoch(1)
    assert not torch.equal(dataset[3]["image"], a["image"])


def test_images_decoded_once_give_the_same_samples_and_cannot_be_written_into(merged, tmp_path):
    kept = MattingDataset(smoke_config(merged, tmp_path), paper_pipeline(64, 64, 96), show_progress=False)
    read_each_time = MattingDataset(smoke_config(merged, tmp_path, decoded_cache_mb=0), paper_pipeline(64, 64, 96), show_progress=False)
    for epoch in (0, 1):  # the second pass runs on the kept arrays
        kept.set_epoch(epoch)
        read_each_time.set_epoch(epoch)
        for index in range(len(kept)):
            a, b = kept[index], read_each_time[index]
            assert all(torch.equal(a[k], b[k]) for k in a), (epoch, index)
    assert kept.decoded.used > 0 and read_each_time.decoded.used == 0
    array = kept.decoded.read(kept.items[0].alpha, matte=True)
    assert array is kept.decoded.read(kept.items[0].alpha, matte=True)
    with pytest.raises(ValueError):
        array[0, 0] = 0.5  # a transform writing into it would change every later sample


def test_overfits_one_sample():
    """A tiny model on one sample: the task losses (L_T + L_α) fall by more than 90%."""
    torch.manual_seed(0)
    cfg = ModelConfig(variant="tiny", stem_width=8, block_widths=(8, 8, 8, 8), blocks=(1, 1, 1, 1),
                      decoder_widths=(16, 16, 8, 8), gcn_kernel=3, prop_width=8, prop_hidden=8, prop_unshuffle=1)
    model, loss = AdaMatting(cfg), UncertaintyLoss()
    image, alpha, trimap = matting_sample(64, 64)
    labels = np.full(alpha.shape, UNKNOWN)
    labels[alpha == 0], labels[alpha == 1] = BACKGROUND, FOREGROUND
    x, t = torch.from_numpy(image.transpose(2, 0, 1))[None], torch.from_numpy(trimap)[None, None]
    ga, gl = torch.from_numpy(alpha)[None, None], torch.from_numpy(labels)[None]
    optimizer = torch.optim.Adam(list(model.parameters()) + list(loss.parameters()), 3e-3)
    history = []
    for _ in range(150):
        total, parts = loss(model(x, t), ga, gl)
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        history.append(parts["loss_t"] + parts["loss_a"])
    assert min(history[-10:]) < 0.1 * history[0], history[::15]


def test_sigma_learns_in_log_space():
    loss = UncertaintyLoss(4.0)
    assert loss.sigmas == pytest.approx((4.0, 4.0))
    # for fixed task losses the optimum is σ1 = sqrt(L_T), σ2 = L_α (d/dσ of the objective = 0)
    optimizer = torch.optim.Adam(loss.parameters(), 0.05)
    for _ in range(2000):
        s1, s2 = loss.log_sigma_t, loss.log_sigma_a
        total = 0.04 * 0.5 * torch.exp(-2 * s1) + 0.1 * torch.exp(-s2) + s1 + s2
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
    assert loss.sigmas == pytest.approx((0.2, 0.1), rel=0.02)


def train_cli(data, out, *extra):
    return main(["train", "--config", "smoke", "--data", str(data), "--output-dir", str(out), "--no-progress", *extra])


def test_resume_equals_one_run(merged, tmp_path):
    assert train_cli(merged, tmp_path, "--name", "whole", "--max-steps", "4") == 0
    assert train_cli(merged, tmp_path, "--name", "split", "--max-steps", "4", "--until", "2") == 0
    assert read_checkpoint(str(tmp_path / "split" / "checkpoint"))[1]["step"] == 2
    assert train_cli(merged, tmp_path, "--name", "split", "--max-steps", "4", "--resume") == 0
    whole, meta_whole = read_checkpoint(str(tmp_path / "whole" / "checkpoint"))
    split, meta_split = read_checkpoint(str(tmp_path / "split" / "checkpoint"))
    assert meta_whole["step"] == meta_split["step"] == 4
    # the optimiser's moments travel as bfloat16 (checkpoints stay small), so the resumed run is close, not bit-equal
    assert split["optim.0.exp_avg"].dtype == torch.bfloat16
    for key, value in whole.items():
        if key.startswith(("model.", "loss.")) and value.is_floating_point():
            torch.testing.assert_close(value, split[key], rtol=1e-3, atol=1e-4, msg=key)
        elif key.startswith("model."):
            assert torch.equal(value, split[key]), key


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU computes bf16 only in emulation")
def test_a_cpu_with_bf16_hardware_trains_in_mixed_precision(merged, tmp_path):
    trainer = Trainer(smoke_config(merged, tmp_path, amp=True, max_steps=3), progress=False)
    assert trainer.autocast == torch.bfloat16
    first = trainer.run(until=1)
    last = trainer.run()
    assert trainer.step == 3 and np.isfinite([first["loss"], last["loss"]]).all()
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())


def test_each_step_zeroes_the_negligible_weights_of_the_model_and_its_average(merged, tmp_path):
    """Weights near 1e-38 add nothing, but a CPU computes the subnormal numbers they make many times slower."""
    trainer = Trainer(smoke_config(merged, tmp_path, max_steps=2, ema_decay=0.5), progress=False)
    negligible = [p for p in trainer.model.parameters() if p.dim() == 4 and p.shape[0] >= 6][:3]
    with torch.no_grad():
        for p in negligible:
            p[:6, 0, 0, 0] = torch.tensor([1e-39, -3e-37, 1e-33, 2e-31, 0.0, 1e-3])  # subnormal, tiny normal ones, and one that counts
    trainer.run(until=1)
    for module in (trainer.model, trainer.ema):
        for p in itertools.chain(module.parameters(), module.buffers()):
            if p.is_floating_point():
                assert not ((p != 0) & (p.abs() < NEGLIGIBLE)).any()
    assert len(negligible) == 3 and all(p[5, 0, 0, 0] != 0 for p in negligible), "a small weight that counts is kept"


def test_resuming_on_another_schedule_warns(merged, tmp_path, capsys):
    assert train_cli(merged, tmp_path, "--name", "sched", "--max-steps", "4", "--until", "2") == 0
    capsys.readouterr()
    assert train_cli(merged, tmp_path, "--name", "sched", "--max-steps", "4", "--resume", "--until", "3") == 0
    assert "warning" not in capsys.readouterr().err
    assert train_cli(merged, tmp_path, "--name", "sched", "--max-steps", "5", "--resume") == 0
    assert "scheduled for 4 steps and now runs a 5-step" in capsys.readouterr().err


def test_existing_run_needs_resume(merged, tmp_path):
    assert train_cli(merged, tmp_path, "--name", "once") == 0
    assert train_cli(merged, tmp_path, "--name", "once") == 2


def test_export_and_eval(merged, tmp_path, capsys):
    assert train_cli(merged, tmp_path, "--name", "exp") == 0
    weights = str(tmp_path / "exp.safetensors")
    assert main(["weights", "export", str(tmp_path / "exp"), "-o", weights]) == 0
    model, info = load_weights(weights)
    assert info.meta["training"]["steps"] == 2 and info.meta["training"]["config"] == "exp"

    folder = write_matting_folder(tmp_path / "am", 2, size=64, trimap_dirs=2)
    capsys.readouterr()
    assert main(["eval", "--data", str(folder), "--weights", weights, "--device", "cpu", "--classical", "closed-form"]) == 0
    table = capsys.readouterr().out
    assert table.count("MEAN") == 2 and "closed-form" in table and "trimap2" in table

    # saved predictions: the ground truth scores zero on every metric
    assert main(["eval", "--pred", str(folder / "alpha"), "--gt", str(folder / "alpha"), "--trimap", str(folder / "trimap1")]) == 0
    mean = [line for line in capsys.readouterr().out.splitlines() if "MEAN" in line][0]
    assert [float(v) for v in mean.split()[2:6]] == [0.0, 0.0, 0.0, 0.0]


def test_two_process_gloo_ddp(merged, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "adamatte", "train", "--config", "smoke", "--data", str(merged), "--output-dir", str(tmp_path),
         "--name", "ddp", "--no-progress"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("trained ddp") == 1, "only rank 0 reports and writes"
    _, meta = read_checkpoint(str(tmp_path / "ddp" / "checkpoint"))
    assert meta["step"] == 2


def test_foreground_layout_in_dim_composition_order(tmp_path):
    from adamatte.io import write_image
    from adamatte.train.data import pair_files

    for name in ("a", "b"):
        image, alpha, _ = matting_sample(64, 64, seed=ord(name))
        write_image(str(tmp_path / "fg" / f"{name}.png"), image, ["R", "G", "B"], pixel_type="uint8")
        write_image(str(tmp_path / "alpha" / f"{name}.png"), alpha, ["Y"], pixel_type="uint8")
    for i in range(4):
        write_image(str(tmp_path / "bg" / f"bg{i}.png"), np.full((80, 90, 3), i / 4, np.float32), ["R", "G", "B"], pixel_type="uint8")
    (tmp_path / "fg_names.txt").write_text("a.png\nb.png\n")
    (tmp_path / "bg_names.txt").write_text("bg0.png\nbg1.png\nbg2.png\nbg3.png\n")
    cfg = load_train_config("smoke", data_root=str(tmp_path), output_dir=str(tmp_path / "runs"), backgrounds="bg/*.png",
                            train=[{"layout": "foreground", "foreground": "fg/*.png", "alpha": "alpha/*.png",
                                    "fg_names": "fg_names.txt", "bg_names": "bg_names.txt"}])
    items = pair_files(cfg, cfg.train[0])
    # two backgrounds per foreground line, in file order
    assert [(i.key, os.path.basename(i.background)) for i in items] == [("a", "bg0.png"), ("a", "bg1.png"), ("b", "bg2.png"), ("b", "bg3.png")]
    sample = MattingDataset(cfg, paper_pipeline(64, 64, 64), show_progress=False)[2]
    assert sample["image"].shape == (3, 64, 64)


def test_minutes_stops_a_burst_with_a_checkpoint_that_resumes(merged, tmp_path):
    """A fixed-time burst (a borrowed GPU's minutes): it stops at the first check past the deadline, saved."""
    assert train_cli(merged, tmp_path, "--name", "burst", "--max-steps", "40", "--minutes", "0.0001") == 0
    _, meta = read_checkpoint(str(tmp_path / "burst" / "checkpoint"))
    assert meta["step"] == 10 and meta["extra"]["total_steps"] == 40
    assert train_cli(merged, tmp_path, "--name", "burst", "--max-steps", "40", "--resume", "--until", "12") == 0
    assert read_checkpoint(str(tmp_path / "burst" / "checkpoint"))[1]["step"] == 12


def test_tight_trimap_is_t_opt_dilated_by_the_radius():
    from adamatte.matting.trimap import tight_trimap

    alpha = np.zeros((40, 40), np.float32)
    alpha[10:30, 10:30] = 1.0
    alpha[10:30, 20] = 0.5  # one semi-transparent column
    trimap = tight_trimap(alpha, 2)
    unknown_cols = np.flatnonzero((trimap == 0.5).any(axis=0))
    assert list(unknown_cols) == [18, 19, 20, 21, 22]
    assert trimap[15, 12] == 1.0 and trimap[2, 2] == 0.0
    assert (trimap[10:30, 18:23] == 0.5).all() and (trimap[:, :18] != 0.5).all()


def test_every_trimap_kind_covers_t_opt_and_the_propagated_kind_opens_the_known_regions():
    from adamatte.errors import InputError
    from adamatte.train.transforms import MakeTrimap

    alpha = np.zeros((160, 160), np.float32)
    alpha[40:120, 40:120] = 1.0
    alpha[40:120, 119] = 0.5  # a soft right edge
    truly_unknown = (alpha > 0) & (alpha < 1)
    for i, kind in enumerate(MakeTrimap.KINDS):
        mix = np.eye(len(MakeTrimap.KINDS))[i]
        for seed in range(5):
            trimap = MakeTrimap(mix=tuple(mix))({"alpha": alpha}, np.random.default_rng(seed))["trimap"]
            assert (trimap[truly_unknown] == 0.5).all(), kind
            assert (trimap[alpha == 1] != 0.0).all() and (trimap[alpha == 0] != 1.0).all(), f"{kind}: known labels are the truth"
    # the propagated kind: a band around the edge as it was a few px away, plus blobs of unknown in the known regions
    opened = [MakeTrimap(mix=(0, 0, 0, 0, 1))({"alpha": alpha}, np.random.default_rng(seed))["trimap"] for seed in range(20)]
    far = np.zeros_like(truly_unknown)
    far[:20, :] = far[-20:, :] = True  # 20+ px from the square: beyond any erosion band
    assert any((t[far] == 0.5).any() for t in opened), "no blob of unknown ever opened the known background"
    assert np.median([(t[60:100, 60:100] == 1.0).mean() for t in opened]) > 0.9, "the subject's core stays mostly known"
    # an older config's 4-weight mix leaves the propagated kind out
    assert MakeTrimap(mix=(0.3, 0.4, 0.15, 0.15)).mix[-1] == 0.0
    with pytest.raises(InputError, match="trimap_mix"):
        MakeTrimap(mix=(1, 0, 0, 0, 0, 1))


def test_a_distractor_stands_behind_the_subject_across_its_edge_and_the_truth_stays_the_subjects():
    from adamatte.train.transforms import Composite, Distractor

    from synthetic import soft_disk

    alpha = soft_disk(64, 64, 32, 32, 16, softness=4)
    subject_edge = (alpha > 0.05) & (alpha < 0.95)
    other = soft_disk(40, 40, 20, 20, 12, softness=4)
    for seed in range(8):
        sample = {"fg": np.full((64, 64, 3), 0.2, np.float32), "alpha": alpha, "bg": np.zeros((64, 64, 3), np.float32),
                  "spatial": ["fg", "alpha", "bg"], "distractor": (np.ones((40, 40, 3), np.float32), other)}
        rng = np.random.default_rng(seed)
        sample = Composite()(Distractor()(sample, rng), rng)
        assert "distractor" not in sample and sample["alpha"] is alpha, "the truth is the subject's alpha alone"
        behind = sample["bg"][..., 0]
        assert behind.max() > 0.9, "the distractor's solid core is in the background"
        # it crosses the subject's band: some of its soft edge lies on the subject's
        assert ((behind > 0.05) & (behind < 0.95) & subject_edge).any(), seed
        assert np.allclose(sample["image"], alpha[..., None] * 0.2 + (1 - alpha[..., None]) * sample["bg"])


def test_the_dataset_gives_a_share_of_samples_a_distractor_reproducibly(merged, tmp_path):
    plain = MattingDataset(smoke_config(merged, tmp_path), paper_pipeline(64, 64, 96), show_progress=False)
    with_one = MattingDataset(smoke_config(merged, tmp_path, distractor=1.0), paper_pipeline(64, 64, 96), show_progress=False)
    a, b = with_one[2], with_one[2]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert a["image"].shape == (3, 64, 64)
    drawn = [with_one._distractor(i, np.random.default_rng(i)) for i in range(len(with_one))]
    assert all(d is not None and d[1].shape == d[0].shape[:2] for d in drawn)
    # a config without distractors keeps its exact samples (no extra draws from the sample's generator)
    assert all(torch.equal(plain[3][k], MattingDataset(smoke_config(merged, tmp_path), paper_pipeline(64, 64, 96),
                                                        show_progress=False)[3][k]) for k in a)
    assert not torch.equal(plain[2]["image"], a["image"])
