"""The decoding step's faster pieces on their own: each computes what the plain module or attention computes."""

from __future__ import annotations

import torch

from lionrepro.asr.decode_step_pieces import MergedProjections, gqa_decode_attention


def test_a_merged_projection_computes_once_and_shares_by_input():
    torch.manual_seed(0)
    block = torch.nn.Module()
    block.q_proj, block.k_proj, block.v_proj = (
        torch.nn.Linear(8, n, bias=b) for n, b in ((8, True), (4, False), (4, True))
    )
    x, other = torch.randn(2, 3, 8), torch.randn(2, 3, 8)
    expected = [block.q_proj(x), block.k_proj(x), block.v_proj(x), block.k_proj(other)]
    merged = MergedProjections(block)
    with merged.applied():
        got = [block.q_proj(x), block.k_proj(x), block.v_proj(x), block.k_proj(other)]  # `other`: its own weights
        shared = block.k_proj(x)
    for ours, theirs in zip(got, expected, strict=True):
        torch.testing.assert_close(ours, theirs)
    assert shared.data_ptr() == got[0].data_ptr() + 8 * shared.element_size()  # a view of the one product
    with torch.no_grad():
        block.k_proj.weight.zero_()
    torch.testing.assert_close(block.k_proj(x), torch.zeros(2, 3, 4))  # restored: reads its own weights again


def test_grouped_query_attention_equals_repeated_heads():
    torch.manual_seed(0)
    query, key, value = torch.randn(3, 8, 1, 16), torch.randn(3, 2, 9, 16), torch.randn(3, 2, 9, 16)
    mask = torch.rand(3, 1, 1, 9) > 0.3
    mask[..., 0] = True
    module = torch.nn.Module()
    module.num_key_value_groups, module.is_causal, module.training = 4, False, False
    ours, _ = gqa_decode_attention(module, query, key, value, mask, scaling=0.25)
    repeated = [t.repeat_interleave(4, dim=1) for t in (key, value)]
    expected = torch.nn.functional.scaled_dot_product_attention(query, *repeated, attn_mask=mask, scale=0.25)
    torch.testing.assert_close(ours, expected.transpose(1, 2))
