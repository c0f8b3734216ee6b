"""Materialised scores of a run: per brand x platform (BrandScore, a trend's points) and per cell
(CellScore, what a monitor's changes are computed from, without reading answers).

Neither copies the run's access mode: a trend reads them through their execution (found by
record_monitor_created_idx), whose ``access_mode`` keys the series, so a monitor that switches
mode keeps both series and no score row can disagree with its run."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from records.models.executions import TestRecord
from records.models.monitors import Prompt


class BrandScore(models.Model):
    """Materialised scores of one brand on one platform (platform '' = overall) in a run."""

    record = models.ForeignKey(TestRecord, on_delete=models.CASCADE, related_name="scores")
    brand = models.CharField(max_length=100)
    platform = models.CharField(max_length=30, blank=True, help_text="Blank for overall.")
    is_main_brand = models.BooleanField(default=False)
    mention_rate = models.FloatField(null=True, blank=True)
    mention_rate_se = models.FloatField(null=True, blank=True)
    mrr = models.FloatField(null=True, blank=True)
    top1_rate = models.FloatField(null=True, blank=True)
    avg_rank = models.FloatField(null=True, blank=True)
    avg_rank_n = models.PositiveIntegerField(default=0)
    share_of_voice = models.FloatField(null=True, blank=True)
    nss = models.FloatField(null=True, blank=True)
    nss_n = models.PositiveIntegerField(default=0)
    visibility_score = models.FloatField(null=True, blank=True)
    coverage = models.FloatField(null=True, blank=True)
    # Valid answers behind the row (a trend point's n) and the owned-citation rate (null: the
    # platform returned no structured sources).
    valid_answers = models.PositiveIntegerField(default=0)
    owned_citation_rate = models.FloatField(null=True, blank=True)
    components = models.JSONField(default=dict, blank=True)
    scoring_version = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["record", "-is_main_brand", "brand", "platform"]
        indexes = [
            # The admin dashboard's window: main-brand per-platform scores since a date
            # (the query repeats the condition).
            models.Index(
                fields=["created_at"],
                condition=Q(is_main_brand=True) & ~Q(platform=""),
                name="brandscore_main_recent_idx",
            ),
        ]
        constraints = [
            # One row per run x brand x platform; also serves "scores of a run".
            models.UniqueConstraint(
                fields=["record", "brand", "platform"], name="brandscore_unique_cell"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand}@{self.platform or 'overall'}: {self.visibility_score}"


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
