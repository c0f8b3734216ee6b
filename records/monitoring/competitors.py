""" "Track this competitor": a discovered entity becomes one of a monitor's tracked brands.

The admin's monitor page lists the untracked entities its answers recommend
(:mod:`records.discovered`); this is the write behind its button. The monitor's next run asks
with the new brand among the competitors (``monitor_execution_input`` reads the brands), so its
mentions, ranks and scores are measured from then on. Runs already stored are not re-scored;
the entity simply leaves the list of untracked ones.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from records.analysis.aliases import is_gated
from records.analysis.entities import entity_key
from records.analysis.normalize import normalize
from records.models import Monitor, TrackedBrand
from records.monitoring.inputs import MAX_ALIASES
from records.services import MAX_COMPETITORS

logger = logging.getLogger(__name__)

MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class TrackResult:
    """The brand that tracks the entity; ``created`` is False when one already did."""

    brand: TrackedBrand
    created: bool


def _clean(value: str) -> str:
    return " ".join(str(value).split())


def brand_spelling(name: str, surfaces: Sequence[str]) -> tuple[str, list[str]]:
    """The name and aliases a discovered entity is tracked under.

    ``name`` is the entity's key (normalised, suffixes removed: 固生堂, northwind); ``surfaces``
    are its spellings in the answers, most frequent first. The name keeps the answers' case
    when one of them is the bare name (Northwind). Aliases are the spellings that the name
    would not match: those that do not contain it, and, when the name alone needs a context
    word to count (one Han character, a common word, three Latin letters), the longer
    spellings that hold it, so the usual spelling counts anywhere.
    """
    key = entity_key(name)
    cleaned = [s for s in dict.fromkeys(_clean(s) for s in surfaces) if s and len(s) <= MAX_NAME]
    display = next((s for s in cleaned if normalize(s) == key), _clean(name))
    gated = is_gated(key)
    aliases = [
        s
        for s in cleaned
        if s != display and (key not in normalize(s) or (gated and len(s) > len(display)))
    ]
    return display, aliases[:MAX_ALIASES]


@transaction.atomic
def track_competitor(*, monitor: Monitor, name: str, surfaces: Sequence[str] = ()) -> TrackResult:
    """Add a discovered entity to ``monitor`` as a competitor (``is_main`` False).

    Idempotent: when a brand of the monitor already has this name or an alias with the same
    key (固生堂中医馆 and 固生堂), that brand is returned with ``created`` False and nothing
    changes. Raises ``ValidationError`` naming ``name`` (blank or too long) or ``brands`` (the
    monitor already has the most competitors a run may ask about).
    """
    display, aliases = brand_spelling(name, surfaces)
    if not display or len(display) > MAX_NAME:
        raise ValidationError({"name": [f"A brand needs a name of 1-{MAX_NAME} characters."]})
    # The monitor's row lock serialises two clicks (PostgreSQL); the unique name catches the
    # rest (SQLite takes no row locks).
    monitor = Monitor.objects.select_for_update().get(pk=monitor.pk)
    key = entity_key(display)
    brands = list(monitor.brands.all())
    for brand in brands:
        if key in {entity_key(s) for s in (brand.name, *(brand.aliases or ()))}:
            return TrackResult(brand, created=False)
    competitors = sum(not brand.is_main for brand in brands)
    if competitors >= MAX_COMPETITORS:
        raise ValidationError(
            {
                "brands": [
                    f"{monitor.name} already tracks {competitors} competitors, the most a run "
                    f"asks about ({MAX_COMPETITORS}); remove one first."
                ]
            }
        )
    try:
        with transaction.atomic():
            brand = TrackedBrand.objects.create(
                monitor=monitor, name=display, aliases=aliases, domains=[], is_main=False
            )
    except IntegrityError:
        return TrackResult(monitor.brands.get(name=display), created=False)
    Monitor.objects.filter(pk=monitor.pk).update(updated_at=timezone.now())
    logger.info("monitor %s tracks %r (aliases %s)", monitor.pk, display, aliases)
    return TrackResult(brand, created=True)
