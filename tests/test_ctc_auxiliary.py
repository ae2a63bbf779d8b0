"""The base's pretraining aids: the auxiliary CTC loss (learns, is never saved in the model, resumes exactly, off
changes nothing) and SpecAugment (deterministic masks inside each clip's frames)."""

from __future__ import annotations

import json
import shutil

import torch
from test_train import FAST, _curve_steps, _train, base, rows  # noqa: F401 (fixtures)

from lionrepro.asr.ctc_auxiliary import HybridCtcAttention, ctc_targets
from lionrepro.asr.finetune_format import collate
from lionrepro.asr.model import build_model, load_checkpoint
from lionrepro.asr.spec_augment import SpecAugment
from lionrepro.asr.training_loop import CHECKPOINTS, CURVE, TrainConfig, latest_checkpoint, run_fingerprint, train


def test_the_ctc_loss_is_finite_and_falls_in_a_few_steps(base, rows):  # noqa: F811
    model, processor = load_checkpoint(base)
    net = HybridCtcAttention(model.train(), weight=0.3, seed=0)
    batch = {**collate(rows[:8], processor, tags=True), **ctc_targets(rows[:8], processor.tokenizer)}
    assert int(batch["ctc_target_lengths"].min()) > 0
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(12):
        _, ctc_sum = net(**batch)
        assert torch.isfinite(ctc_sum)
        losses.append(float(ctc_sum.detach()) / 8)
        optimizer.zero_grad()
        ctc_sum.backward()
        optimizer.step()
    assert losses[-1] < 0.7 * losses[0]


def test_ctc_training_saves_a_pure_qwen3_asr_and_resumes_exactly(base, rows, tmp_path):  # noqa: F811
    settings = {"steps": 4, "checkpoint_every": 2, "ctc_weight": 0.3}
    reference, result = _train(base, rows, tmp_path / "whole", **settings)
    assert result.fingerprint["settings"]["ctc_weight"] == 0.3
    curve = [json.loads(line) for line in (tmp_path / "whole" / CURVE).read_text().splitlines()]
    assert all(line["ctc_loss"] > 0 for line in curve)

    model, processor = load_checkpoint(tmp_path / "whole" / "model")  # refuses unexpected weights (a CTC head)
    plain = build_model("tiny", processor)
    assert model.state_dict().keys() == plain.state_dict().keys()
    state = torch.load(latest_checkpoint(tmp_path / "whole") / "training_state.pt", weights_only=False)
    assert set(state["auxiliary"]) == {"weight", "bias"}

    out = tmp_path / "resumed"
    _train(base, rows, out, **settings)
    for checkpoint in sorted((out / CHECKPOINTS).glob("step-*"))[1:]:  # back to step 2, as after a kill
        shutil.rmtree(checkpoint)
    assert latest_checkpoint(out).name == "step-0000002"
    resumed, again = _train(base, rows, out, **settings)
    assert again.resumed_from == 2 and resumed == reference
    assert _curve_steps(out) == [1, 2, 3, 4]


def test_off_leaves_training_and_its_fingerprint_as_they_were(base, rows, tmp_path):  # noqa: F811
    model, processor = load_checkpoint(base)
    fingerprint = run_fingerprint(TrainConfig(**FAST, steps=2), rows, model)
    assert "ctc_weight" not in fingerprint["settings"] and "spec_augment" not in fingerprint["settings"]
    default, result = _train(base, rows, tmp_path / "default", steps=2)
    explicit, _ = _train(base, rows, tmp_path / "off", steps=2, ctc_weight=0.0, spec_augment={})
    assert default == explicit and result.fingerprint == fingerprint
    assert "ctc_loss" not in (tmp_path / "default" / CURVE).read_text()


def test_spec_augment_masks_inside_each_clip_and_is_deterministic(base, rows):  # noqa: F811
    _, processor = load_checkpoint(base)
    batch = collate(rows[:4], processor, tags=True)
    features, mask = batch["input_features"], batch["input_features_mask"]
    augment = SpecAugment(freq_masks=2, freq_width=20, time_masks=2, time_width=0.2)
    first = augment(features, mask, seed=0, micro_batch=3, positions=[0, 1, 2, 3])
    assert torch.equal(first, augment(features, mask, seed=0, micro_batch=3, positions=[0, 1, 2, 3]))
    assert torch.equal(first[2:], augment(features[2:], mask[2:], seed=0, micro_batch=3, positions=[2, 3]))
    assert not torch.equal(first, augment(features, mask, seed=0, micro_batch=4, positions=[0, 1, 2, 3]))
    assert not torch.equal(first, features)
    padded = mask[:, None, :].expand_as(features) == 0
    assert torch.all(first[padded] == 0)  # padding stays zero


def test_a_run_with_spec_augment_records_it_and_trains(base, rows, tmp_path):  # noqa: F811
    spec = {"freq_masks": 1, "freq_width": 10, "time_masks": 1, "time_width": 0.1}
    model, processor = load_checkpoint(base)
    result = train(TrainConfig(**FAST, steps=2, spec_augment=spec), model, processor, rows, tmp_path)
    assert result.fingerprint["settings"]["spec_augment"] == spec and result.steps == 2
