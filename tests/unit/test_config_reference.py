"""The README's config reference is what the config model says: every key, its default, its
meaning and its environment variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from ampp.config.layers import env_name
from ampp.config.reference import END, START, documented_sections, reference, replaced

from tests.unit.test_config_layers import leaves

pytestmark = pytest.mark.unit

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_reference_is_generated_from_the_model() -> None:
    text = README.read_text()
    assert replaced(text) == text, "run: python -m ampp.config.reference --write README.md"


def test_every_key_is_in_it_with_a_meaning() -> None:
    block = reference()
    assert block.startswith(START) and block.endswith(END)
    for section, model in documented_sections().items():
        for path in leaves(model):
            key = ".".join((section, *path))
            row = next((line for line in block.splitlines() if line.startswith(f"| `{key}` |")), None)
            assert row is not None, key
            assert env_name((section, *path)) in row, row
            meaning = row.split(" | ")[2]
            assert len(meaning.split()) > 2, f"{key} has no meaning: {row}"


def test_the_fields_of_listed_blocks_are_in_it_too() -> None:
    """``auth.api_keys[].key``, ``auth.users.<name>.role``: each with a meaning, no variable."""
    block = reference()
    for key in (
        "auth.api_keys[].key_file",
        "auth.users.<name>.password_hash",
        "webhook.sources.<name>.labels",
    ):
        row = next((line for line in block.splitlines() if line.startswith(f"| `{key}` |")), None)
        assert row is not None and len(row.split(" | ")[2].split()) > 2 and "AMPP_" not in row, key
    assert "| `security.rate_limits.ingest.per_ip` | `1000` |" in block, "the ingest budget's own default"
    assert "| `security.cors.max_age` | `10m` |" in block, "durations as config.yaml spells them"
