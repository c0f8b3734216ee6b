"""Per-cell scores: what a monitor's changes are computed from, without reading answers."""

from __future__ import annotations

from django.db import models

from records.models.executions import TestRecord
from records.models.monitors import Prompt


class CellScore(models.Model):
    """One brand in one cell (prompt × platform; a ``{brandName}`` prompt is one cell per
    substituted brand) of one execution: additive counts over the cell's valid answers, so the
    repeats of a cell, and the executions of a period, pool by summing
    (records.analysis.trends.CellCounts). Materialised with BrandScore; re-analyse rebuilds it."""

    record = models.ForeignKey(
        TestRecord,
        on_delete=models.CASCADE,
        related_name="cell_scores",
        db_index=False,  # cellscore_unique_cell leads with record_id.
    )
    brand = models.CharField(max_length=100)
    platform = models.CharField(max_length=30)
    # The monitor prompt the question came from (TestRecord.prompt_ids); null for one-off tests.
    # Its current ``branded`` flag is what ``branded=`` filters on.
    prompt = models.ForeignKey(
        Prompt, on_delete=models.SET_NULL, null=True, blank=True, related_name="cell_scores"
    )
    question_index = models.PositiveIntegerField()
    # The brand substituted into a {brandName} question; for other questions the main brand.
    subject = models.CharField(max_length=100, blank=True)
    n_valid = models.PositiveIntegerField(default=0)
    n_mentioned = models.PositiveIntegerField(default=0)
    rr_sum = models.FloatField(default=0.0)
    n_top1 = models.PositiveIntegerField(default=0)
    sentiment_sum = models.FloatField(default=0.0)
    sentiment_n = models.PositiveIntegerField(default=0)
    n_all_mentions = models.PositiveIntegerField(default=0)
    n_sourced = models.PositiveIntegerField(default=0)
    n_owned_cited = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["record", "brand", "platform", "question_index", "subject"]
        constraints = [
            # One row per execution × brand × cell. Its index serves the change query:
            # WHERE record_id IN (the two periods' executions) [AND brand IN (...)].
            models.UniqueConstraint(
                fields=["record", "brand", "platform", "question_index", "subject"],
                name="cellscore_unique_cell",
            ),
        ]

    def __str__(self) -> str:
        counts = f"{self.n_mentioned}/{self.n_valid}"
        return f"{self.brand}@{self.platform} q{self.question_index}: {counts}"
