"""A monitor's definition as a request gives it: checked and normalised, errors naming the field."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from django.conf import settings
from django.core.exceptions import ValidationError

from records.engine.plan import expand_questions
from records.models import (
    Monitor,
)
from records.services import (
    MAX_COMPETITORS,
    clean_access_mode,
    clean_platforms,
)

logger = logging.getLogger(__name__)

MAX_PROMPTS = 50
MAX_ALIASES = 20
MAX_DOMAINS = 20


# --- Validation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrandInput:
    name: str
    is_main: bool
    aliases: list[str]
    domains: list[str]


@dataclass(frozen=True, slots=True)
class PromptInput:
    text: str
    tags: list[str]
    # None: derive from the text; True/False: the owner's override.
    branded: bool | None = None


@dataclass(frozen=True, slots=True)
class MonitorInput:
    """A validated, normalised monitor definition."""

    name: str
    platforms: list[str]
    repeats: int
    schedule: str
    timezone: str
    monthly_call_budget: int | None
    brands: list[BrandInput]
    prompts: list[PromptInput]
    access_mode: str = "plain"
    # E-mail the owner a weekly digest (records/digests.py); off by default.
    weekly_digest: bool = False

    @property
    def main_brand(self) -> BrandInput:
        return next(b for b in self.brands if b.is_main)

    @property
    def competitors(self) -> list[str]:
        return [b.name for b in self.brands if not b.is_main]

    def calls_per_run(self) -> int:
        return planned_calls(
            [p.text for p in self.prompts],
            self.main_brand.name,
            self.competitors,
            len(self.platforms),
            self.repeats,
            access_mode=self.access_mode,
        )


# A search-mode call is budgeted as the chat call plus one web-search call.
SEARCH_CALLS_PER_ANSWER = 2


def planned_calls(
    questions: list[str],
    brand: str,
    competitors: list[str],
    platforms: int,
    repeats: int,
    *,
    access_mode: str = "plain",
) -> int:
    """Calls one run makes, as the budget counts them: expanded questions ({brandName} once per
    brand) x platforms x repeats, exactly as the execution will plan them; in search mode each
    answer is expected to make one billable web-search call besides, so a call counts twice."""
    chat = len(expand_questions(questions, brand, competitors)) * platforms * repeats
    return chat * SEARCH_CALLS_PER_ANSWER if access_mode == "search" else chat


def _strings(value: Any, field_name: str, errors: dict[str, list[str]], limit: int) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.setdefault(field_name, []).append(f"{field_name} must be a list of strings.")
        return []
    cleaned: list[str] = []
    for item in value:
        item = item.strip()
        if item and item not in cleaned:
            cleaned.append(item[:100])
    if len(cleaned) > limit:
        errors.setdefault(field_name, []).append(f"At most {limit} {field_name}.")
    return cleaned


def _domain(value: str) -> str:
    """'https://www.Example.com/path' -> 'example.com'."""
    value = value.strip().lower()
    for prefix in ("https://", "http://"):
        value = value.removeprefix(prefix)
    value = value.split("/", 1)[0].removeprefix("www.")
    return value


def clean_brands(brands: Any, errors: dict[str, list[str]]) -> list[BrandInput]:
    if not isinstance(brands, list) or not brands:
        errors.setdefault("brands", []).append("At least one brand (the main brand) is required.")
        return []
    cleaned: list[BrandInput] = []
    seen: set[str] = set()
    for item in brands:
        if not isinstance(item, dict):
            errors.setdefault("brands", []).append("Each brand must be an object with a name.")
            continue
        name = str(item.get("name") or "").strip()
        if not name or len(name) > 100:
            errors.setdefault("brands", []).append("Each brand needs a name of 1-100 characters.")
            continue
        if name.casefold() in seen:
            errors.setdefault("brands", []).append(f"Brand {name!r} is listed twice.")
            continue
        seen.add(name.casefold())
        aliases = _strings(item.get("aliases"), "aliases", errors, MAX_ALIASES)
        domains = [
            d for d in map(_domain, _strings(item.get("domains"), "domains", errors, MAX_DOMAINS))
        ]
        for key in ("aliases", "domains"):
            if key in errors:
                errors.setdefault("brands", []).extend(f"{name}: {m}" for m in errors.pop(key))
        cleaned.append(BrandInput(name, bool(item.get("is_main")), aliases, domains))
    mains = [b.name for b in cleaned if b.is_main]
    if cleaned and not mains:
        errors.setdefault("brands", []).append(
            "Exactly one brand must be the main brand (is_main: true); none is."
        )
    elif len(mains) > 1:
        errors.setdefault("brands", []).append(
            f"Exactly one brand must be the main brand; {len(mains)} are: {', '.join(mains)}."
        )
    if len(cleaned) - 1 > MAX_COMPETITORS:
        errors.setdefault("brands", []).append(
            f"At most {MAX_COMPETITORS} competitors besides the main brand."
        )
    return cleaned


def clean_prompts(prompts: Any, errors: dict[str, list[str]]) -> list[PromptInput]:
    if not isinstance(prompts, list) or not prompts:
        errors.setdefault("prompts", []).append("At least one prompt is required.")
        return []
    cleaned: list[PromptInput] = []
    seen: set[str] = set()
    for item in prompts:
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict):
            errors.setdefault("prompts", []).append("Each prompt must be an object with a text.")
            continue
        text = str(item.get("text") or "").strip()
        if not 2 <= len(text) <= 500:
            errors.setdefault("prompts", []).append(
                f"Each prompt text must be 2-500 characters; {text[:20]!r} has {len(text)}."
            )
            continue
        if text in seen:
            errors.setdefault("prompts", []).append(f"Prompt {text[:20]!r} is listed twice.")
            continue
        seen.add(text)
        tags = _strings(item.get("tags"), "tags", errors, 20)
        if "tags" in errors:
            errors.setdefault("prompts", []).extend(errors.pop("tags"))
        branded = item.get("branded")
        if branded is not None and not isinstance(branded, bool):
            errors.setdefault("prompts", []).append("branded must be true, false or absent.")
            branded = None
        cleaned.append(PromptInput(text, tags, branded))
    if len(cleaned) > MAX_PROMPTS:
        errors.setdefault("prompts", []).append(f"At most {MAX_PROMPTS} prompts.")
    return cleaned


def clean_monitor_input(
    *,
    name: Any,
    platforms: Any,
    repeats: Any,
    schedule: Any,
    timezone: Any,
    monthly_call_budget: Any,
    brands: Any,
    prompts: Any,
    access_mode: Any = None,
    weekly_digest: Any = False,
) -> MonitorInput:
    """Validate a whole monitor definition; raise ValidationError naming each bad field.
    ``access_mode`` None takes BRANDTEST_DEFAULT_ACCESS_MODE."""
    errors: dict[str, list[str]] = {}
    name = str(name or "").strip()
    if not name or len(name) > 200:
        errors.setdefault("name", []).append("The name is required (1-200 characters).")
    cleaned_platforms = clean_platforms(platforms if isinstance(platforms, list) else [], errors)
    mode = clean_access_mode(access_mode, platforms, errors)
    if not isinstance(repeats, int) or isinstance(repeats, bool):
        errors.setdefault("repeats", []).append("Repeats must be an integer.")
        repeats = 1
    elif not 1 <= repeats <= settings.BRANDTEST_MAX_REPEATS:
        errors.setdefault("repeats", []).append(
            f"Repeats must be between 1 and {settings.BRANDTEST_MAX_REPEATS}."
        )
    schedule = " ".join(str(schedule or "").split())
    tz_name = str(timezone or "").strip()
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        errors.setdefault("timezone", []).append(f"Unknown time zone {tz_name!r}.")
    try:
        if len(schedule.split()) != 5:
            raise CronSimError("need five fields")
        CronSim(schedule, datetime.now(tz=ZoneInfo("UTC")))
    except CronSimError as exc:
        errors.setdefault("schedule", []).append(
            f"Not a valid five-field cron expression ({exc}): {schedule!r}."
        )
    if monthly_call_budget is not None and (
        not isinstance(monthly_call_budget, int)
        or isinstance(monthly_call_budget, bool)
        or monthly_call_budget < 1
    ):
        errors.setdefault("monthly_call_budget", []).append(
            "The monthly call budget must be a positive integer or null."
        )
        monthly_call_budget = None
    if not isinstance(weekly_digest, bool):
        errors.setdefault("weekly_digest", []).append("weekly_digest must be true or false.")
    cleaned_brands = clean_brands(brands, errors)
    cleaned_prompts = clean_prompts(prompts, errors)
    if errors:
        raise ValidationError(errors)
    data = MonitorInput(
        name,
        cleaned_platforms,
        repeats,
        schedule,
        tz_name,
        monthly_call_budget,
        cleaned_brands,
        cleaned_prompts,
        access_mode=mode,
        weekly_digest=weekly_digest,
    )
    if monthly_call_budget is not None and monthly_call_budget < data.calls_per_run():
        raise ValidationError(
            {
                "monthly_call_budget": [
                    f"The budget ({monthly_call_budget} calls a month) is below one run: "
                    f"{data.calls_per_run()} calls (prompts x platforms x repeats"
                    f"{', x 2 for web search' if data.access_mode == 'search' else ''})."
                ]
            }
        )
    return data


def monitor_definition(monitor: Monitor) -> dict[str, Any]:
    """A stored monitor as the keyword arguments of ``clean_monitor_input`` (for updates)."""
    return {
        "name": monitor.name,
        "platforms": monitor.platforms,
        "repeats": monitor.repeats,
        "access_mode": monitor.access_mode,
        "schedule": monitor.schedule,
        "timezone": monitor.timezone,
        "monthly_call_budget": monitor.monthly_call_budget,
        "weekly_digest": monitor.weekly_digest,
        "brands": [
            {"name": b.name, "is_main": b.is_main, "aliases": b.aliases, "domains": b.domains}
            for b in monitor.brands.all()
        ],
        "prompts": [
            {
                "text": p.text,
                "tags": p.tags,
                "branded": p.branded if p.branded_overridden else None,
            }
            for p in monitor.prompts.current()
        ],
    }
