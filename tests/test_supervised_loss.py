"""The training loss with logits only at supervised positions equals transformers' own causal-LM loss, value and
gradient, on a real batch of the tiny Qwen3-ASR (prompt, audio placeholders, right padding, rows of unequal length)."""

from __future__ import annotations

import torch
from test_train import base, rows  # noqa: F401 (fixtures)

from lionrepro.asr.finetune_format import IGNORE_INDEX, collate
from lionrepro.asr.model import load_checkpoint
from lionrepro.asr.supervised_loss import AttentionLoss


def _gradients(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    grads = {name: param.grad.clone() for name, param in model.named_parameters() if param.grad is not None}
    model.zero_grad(set_to_none=True)
    return grads


def test_the_loss_and_its_gradient_equal_transformers_causal_lm_loss(base, rows):  # noqa: F811
    model, processor = load_checkpoint(base)
    model.train()
    batch = collate(rows[:8], processor, tags=False)
    lengths = batch["attention_mask"].sum(dim=1)
    assert len(set(lengths.tolist())) > 1  # padding present: the gathered positions differ per row
    tokens = (batch["labels"][:, 1:] != IGNORE_INDEX).sum()

    reference = model(**batch, num_items_in_batch=tokens).loss
    reference.backward()
    expected = _gradients(model)

    loss = AttentionLoss(model)(**batch, num_items_in_batch=tokens)
    loss.backward()
    got = _gradients(model)

    torch.testing.assert_close(loss, reference, rtol=1e-5, atol=1e-6)
    assert got.keys() == expected.keys() and len(got) == len(list(model.parameters()))
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=1e-4, atol=1e-6, msg=name)
