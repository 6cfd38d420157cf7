"""`ampp init-secrets`' arguments and values (what it does to a real API server: e2e/test_chart.py)."""

from __future__ import annotations

import argparse

import pytest
from ampp_operator.secretinit import ALPHABET, LENGTH, SecretSpec, generate

pytestmark = pytest.mark.unit


def test_secret_specs() -> None:
    assert SecretSpec.parse("db:password") == SecretSpec("db", ("password",))
    assert SecretSpec.parse("keys: admin, prometheus ") == SecretSpec("keys", ("admin", "prometheus"))
    for bad in ("db", "db:", ":password", "db:,"):
        with pytest.raises(argparse.ArgumentTypeError, match="expected NAME:KEY"):
            SecretSpec.parse(bad)


def test_generated_values_are_long_url_safe_and_different() -> None:
    values = {generate() for _ in range(50)}
    assert len(values) == 50
    assert all(len(v) == LENGTH and set(v) <= set(ALPHABET) for v in values)
