"""Monitors: a tracked prompt set asked on a schedule, its tracked brands and prompts."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now as utc_now  # Monitor has a field named timezone.

from records.models.executions import ACCESS_MODE_CHOICES

DEFAULT_SCHEDULE = "0 9 * * *"
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Written in a prompt, this names the tracked brands (the legacy placeholder): always branded.
BRAND_PLACEHOLDER = "{brandName}"


class MonitorStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class MonitorQuerySet(models.QuerySet):
    """Reads over monitors."""

    def visible_to(self, user) -> MonitorQuerySet:
        """Monitors a caller may open: staff all, a user their own, anonymous callers none."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        return self.filter(owner=user)

    def active(self) -> MonitorQuerySet:
        return self.filter(status=MonitorStatus.ACTIVE)

    def due(self, now: datetime) -> MonitorQuerySet:
        """Active monitors whose next run time has come, oldest first. Repeats the partial
        index's condition (status = 'active') so the planner can use monitor_due_idx."""
        return self.active().filter(next_run_at__lte=now).order_by("next_run_at")


class Monitor(models.Model):
    """A brand owner's prompt set asked on ``platforms`` on a cron schedule."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="monitors",
        db_index=False,  # monitor_owner_created_idx leads with owner_id.
    )
    name = models.CharField(max_length=200)
    platforms = models.JSONField(default=list)
    repeats = models.PositiveSmallIntegerField(default=1)
    # The mode its runs ask in; changing it starts a second trend series, the first one stays.
    access_mode = models.CharField(max_length=10, choices=ACCESS_MODE_CHOICES, default="plain")
    schedule = models.CharField(
        max_length=100, default=DEFAULT_SCHEDULE, help_text="A five-field cron expression."
    )
    timezone = models.CharField(
        max_length=64, default=DEFAULT_TIMEZONE, help_text="IANA time zone the cron is read in."
    )
    status = models.CharField(max_length=10, choices=MonitorStatus, default=MonitorStatus.ACTIVE)
    paused_reason = models.CharField(max_length=200, blank=True)
    # The next period the scheduler will start; moved forward by the tick that claims it.
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_scheduled_for = models.DateTimeField(null=True, blank=True)
    monthly_call_budget = models.PositiveIntegerField(
        null=True, blank=True, help_text="Platform calls allowed per calendar month; empty = any."
    )
    last_skip_reason = models.CharField(max_length=300, blank=True)
    last_skipped_at = models.DateTimeField(null=True, blank=True)
    # The weekly e-mail digest to the owner (records/digests.py): off unless the owner asks.
    weekly_digest = models.BooleanField(
        default=False, help_text="E-mail the owner a summary of each week, linking to its report."
    )
    # The Monday (monitor's time zone) of the last week whose digest was sent or found empty:
    # the claim that makes a digest go out once per monitor and week.
    last_digest_week = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=utc_now)
    updated_at = models.DateTimeField(default=utc_now)

    objects = MonitorQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Scheduler tick: WHERE status = 'active' AND next_run_at <= now ORDER BY next_run_at;
            # partial, so a tick reads only active monitors and costs O(due).
            models.Index(
                fields=["next_run_at"],
                condition=Q(status=MonitorStatus.ACTIVE),
                name="monitor_due_idx",
            ),
            # The owner's monitor list: WHERE owner_id = ? ORDER BY created_at DESC.
            models.Index(fields=["owner", "-created_at"], name="monitor_owner_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MonitorStatus.values), name="monitor_status_valid"
            ),
            models.CheckConstraint(condition=Q(repeats__gte=1), name="monitor_repeats_positive"),
            models.CheckConstraint(
                condition=Q(access_mode__in=[m for m, _ in ACCESS_MODE_CHOICES]),
                name="monitor_access_mode_valid",
            ),
            models.CheckConstraint(
                condition=Q(monthly_call_budget__isnull=True) | Q(monthly_call_budget__gte=1),
                name="monitor_budget_positive",
            ),
            # An active monitor always has a next run; a paused one may have none.
            models.CheckConstraint(
                condition=Q(status=MonitorStatus.PAUSED) | Q(next_run_at__isnull=False),
                name="monitor_active_has_next_run",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.schedule} {self.timezone}) {self.status}"

    @property
    def is_paused(self) -> bool:
        return self.status == MonitorStatus.PAUSED


class TrackedBrand(models.Model):
    """A brand a monitor follows: the main brand or a competitor, with its names and domains."""

    monitor = models.ForeignKey(
        Monitor,
        on_delete=models.CASCADE,
        related_name="brands",
        db_index=False,  # trackedbrand_unique_name leads with monitor_id.
    )
    name = models.CharField(max_length=100)
    aliases = models.JSONField(default=list, blank=True)
    # Domains the brand owns: a citation of one of them is an owned citation.
    domains = models.JSONField(default=list, blank=True)
    is_main = models.BooleanField(default=False)

    class Meta:
        ordering = ["monitor", "-is_main", "id"]
        constraints = [
            # Also the index for "brands of a monitor".
            models.UniqueConstraint(fields=["monitor", "name"], name="trackedbrand_unique_name"),
            # At most one main brand per monitor (the service requires exactly one).
            models.UniqueConstraint(
                fields=["monitor"], condition=Q(is_main=True), name="trackedbrand_one_main"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}{' (main)' if self.is_main else ''}"


class PromptQuerySet(models.QuerySet):
    """Reads over prompts."""

    def current(self) -> PromptQuerySet:
        """Prompts not retired: the set the monitor's next run asks."""
        return self.filter(retired_at__isnull=True)


class Prompt(models.Model):
    """One question a monitor asks; retired (never edited) so every run's prompt set is known."""

    monitor = models.ForeignKey(
        Monitor,
        on_delete=models.CASCADE,
        related_name="prompts",
        db_index=False,  # prompt_monitor_idx leads with monitor_id.
    )
    text = models.TextField()
    tags = models.JSONField(default=list, blank=True)
    # Derived: the text names a tracked brand, an alias or {brandName}; overridable by the owner.
    branded = models.BooleanField(default=False)
    branded_overridden = models.BooleanField(default=False)
    active_from = models.DateTimeField(default=utc_now)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = PromptQuerySet.as_manager()

    class Meta:
        ordering = ["monitor", "active_from", "id"]
        indexes = [
            # Prompts of a monitor (the current set, and prompt changes in a range):
            # WHERE monitor_id = ? [AND retired_at IS NULL] ORDER BY active_from.
            models.Index(fields=["monitor", "active_from"], name="prompt_monitor_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(retired_at__isnull=True) | Q(retired_at__gte=models.F("active_from")),
                name="prompt_retired_after_active",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


def names_tracked_brand(text: str, names: list[str]) -> bool:
    """Whether a prompt's text names one of ``names`` (brands and aliases) or {brandName}:
    the derivation of ``Prompt.branded``. Case-insensitive substring match."""
    if BRAND_PLACEHOLDER in text:
        return True
    folded = text.casefold()
    return any(name and name.casefold() in folded for name in names)
