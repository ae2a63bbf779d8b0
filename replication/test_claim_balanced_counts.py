"""Claim `balanced_counts` (lionrepro/claims/claims.toml): its paper-arithmetic and measured checks, recorded
and gated."""

import pytest

from lionrepro.claims import measured as measured_claims
from lionrepro.claims import paper_arithmetic

pytestmark = pytest.mark.claims


def test_paper_arithmetic(gate):
    gate(paper_arithmetic.CHECKS["balanced_counts"]())


def test_measured(gate):
    gate(measured_claims.CHECKS["balanced_counts"]())
