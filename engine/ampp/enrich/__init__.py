"""AI enrichment of alert groups with the user's own LLM key (the ``ai:`` settings)."""

from __future__ import annotations

from .metrics import EnrichMetrics
from .model import ANSWER_SCHEMA, Enrichment
from .service import Enricher
from .stage import EnrichStage

__all__ = ["ANSWER_SCHEMA", "EnrichMetrics", "EnrichStage", "Enricher", "Enrichment"]
