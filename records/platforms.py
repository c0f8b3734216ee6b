"""The AI platforms a brand test can ask: canonical ids, display names, aliases, availability."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from django.conf import settings

from records.engine.adapters import access_modes as adapter_access_modes
from records.engine.adapters import build_adapter
from records.engine.base import ACCESS_MODES, Adapter
from records.engine.config import PLATFORMS, PlatformConfig
from records.engine.demo import DemoAdapter

# The one list of real platforms is the engine's (records/engine/config.py).
REAL_PLATFORMS = PLATFORMS
DEMO_PLATFORM = "demo"
KNOWN_PLATFORMS = (*REAL_PLATFORMS, DEMO_PLATFORM)

DISPLAY_NAMES = {
    "deepseek": "DeepSeek",
    "doubao": "豆包 (Doubao)",
    "qwen": "通义千问 (Qwen)",
    "kimi": "Kimi",
    "zhipu": "智谱AI (GLM)",
    "chatgpt": "ChatGPT",
    "gemini": "Gemini",
    "wenxin": "文心一言 (ERNIE)",
    "demo": "Demo (synthetic answers, offline)",
}

# Every name the mini-program and the legacy data use for a platform, lower-cased.
_ALIASES = {
    "deepseek": ("deepseek", "深度求索"),
    "doubao": ("doubao", "豆包", "ark", "volcengine"),
    "qwen": ("qwen", "通义千问", "千问", "通义", "tongyi", "dashscope"),
    "kimi": ("kimi", "月之暗面", "moonshot"),
    "zhipu": ("zhipu", "智谱ai", "智谱", "chatglm", "glm", "zhipuai"),
    "chatgpt": ("chatgpt", "gpt", "openai"),
    "gemini": ("gemini", "google"),
    "wenxin": ("wenxin", "文心一言", "文心", "ernie", "qianfan"),
    "demo": ("demo",),
}
ALIAS_MAP = {alias: platform for platform, aliases in _ALIASES.items() for alias in aliases}
# Latin aliases, longest first, for model-style names ("gpt-4o" before "gpt").
_MODEL_PREFIXES = sorted(
    ((alias, platform) for alias, platform in ALIAS_MAP.items() if alias.isascii()),
    key=lambda item: -len(item[0]),
)

_SEPARATORS = re.compile(r"[\s_\-]+")


def canonical_platform(name: str) -> str | None:
    """Map an id or display name ('DeepSeek', '豆包', 'gpt-4o', 'ERNIE') to a canonical id."""
    key = _SEPARATORS.sub("", name.strip().lower())
    if key in ALIAS_MAP:
        return ALIAS_MAP[key]
    # Model-style names: 'gpt-4o', 'glm-4', 'qwen-plus', 'ernie-4.0' name their platform first.
    for alias, platform in _MODEL_PREFIXES:
        if key.startswith(alias):
            return platform
    return None


@dataclass(frozen=True, slots=True)
class PlatformInfo:
    """What a client may know about a platform (never its key)."""

    id: str
    name: str
    configured: bool
    synthetic: bool
    # The ACCESS_MODES our adapter for it offers, e.g. ("plain", "search").
    access_modes: tuple[str, ...] = ("plain",)


def platform_access_modes(platform: str) -> tuple[str, ...]:
    """The access modes a run may ask ``platform`` in (``plain`` always)."""
    if platform == DEMO_PLATFORM:
        return DemoAdapter.access_modes
    return adapter_access_modes(platform)


def access_mode_errors(access_mode: str, platforms: list[str]) -> list[str]:
    """Why a run cannot ask ``platforms`` in ``access_mode`` (empty when it can): an unknown
    mode, or each platform without that mode, named with the modes it has."""
    if access_mode not in ACCESS_MODES:
        return [f"Unknown access mode {access_mode!r}; one of {', '.join(ACCESS_MODES)}."]
    errors = []
    for platform in platforms:
        modes = platform_access_modes(platform)
        if access_mode not in modes:
            errors.append(f"{platform} has no {access_mode} mode; its modes: {', '.join(modes)}")
    return errors


def platform_configs() -> dict[str, PlatformConfig]:
    """Each real platform's key, base URL, model and timeout (read from the environment once, by
    the settings)."""
    return settings.BRANDTEST_PLATFORMS


def platform_infos() -> list[PlatformInfo]:
    """All platforms with whether a run may use them now."""
    configured = {name for name, config in platform_configs().items() if config.configured}
    infos = [
        PlatformInfo(p, DISPLAY_NAMES[p], p in configured, synthetic=False, access_modes=_modes(p))
        for p in REAL_PLATFORMS
    ]
    if settings.BRANDTEST_DEMO_ENABLED:
        infos.append(
            PlatformInfo(
                DEMO_PLATFORM, DISPLAY_NAMES[DEMO_PLATFORM], True, True, _modes(DEMO_PLATFORM)
            )
        )
    return infos


def _modes(platform: str) -> tuple[str, ...]:
    # In ACCESS_MODES order, so the list reads the same for every platform.
    offered = platform_access_modes(platform)
    return tuple(mode for mode in ACCESS_MODES if mode in offered)


def available_platforms() -> set[str]:
    """Platform ids a new run may use."""
    return {info.id for info in platform_infos() if info.configured}


def build_adapters(
    platforms: list[str], *, cancel_event: threading.Event | None = None
) -> dict[str, Adapter]:
    """One adapter per platform of a run, configured from the environment."""
    configs = platform_configs()
    adapters: dict[str, Adapter] = {}
    for platform in platforms:
        if platform == DEMO_PLATFORM:
            adapters[platform] = DemoAdapter(
                latency_ms=settings.BRANDTEST_DEMO_LATENCY_MS, cancel_event=cancel_event
            )
        else:
            adapters[platform] = build_adapter(platform, configs[platform])
    return adapters


def clean_platforms(platforms: list[str], errors: dict[str, list[str]]) -> list[str]:
    """Canonical, configured, de-duplicated platform ids; problems go to ``errors["platforms"]``."""
    cleaned: list[str] = []
    if not platforms:
        errors.setdefault("platforms", []).append("At least one platform is required.")
    available = available_platforms()
    for name in platforms or []:
        platform = canonical_platform(name) if isinstance(name, str) else None
        if platform is None:
            errors.setdefault("platforms", []).append(f"Unknown platform {name!r}.")
        elif platform not in available:
            errors.setdefault("platforms", []).append(
                f"Platform {platform!r} is not configured on this server "
                f"(set {platform.upper()}_API_KEY)."
                if platform != "demo"
                else "The demo platform is disabled on this server."
            )
        elif platform not in cleaned:
            cleaned.append(platform)
    return cleaned


def clean_access_mode(
    access_mode: str | None, platforms: list[str], errors: dict[str, list[str]]
) -> str:
    """The run's access mode (None: BRANDTEST_DEFAULT_ACCESS_MODE); an unknown mode, or a
    platform without it, goes to ``errors["access_mode"]`` naming the platform. ``platforms``
    are the names as requested (aliases allowed)."""
    mode = settings.BRANDTEST_DEFAULT_ACCESS_MODE if access_mode is None else access_mode
    mode = mode.strip().lower() if isinstance(mode, str) else mode
    if not isinstance(mode, str):
        errors.setdefault("access_mode", []).append("access_mode must be a string.")
        return "plain"
    # Every platform the request names, configured or not: a mode it lacks is its own error.
    names = platforms if isinstance(platforms, list | tuple) else []
    named = [canonical_platform(p) for p in names if isinstance(p, str)]
    known = list(dict.fromkeys(p for p in named if p is not None))
    if problems := access_mode_errors(mode, known):
        errors.setdefault("access_mode", []).extend(problems)
    return mode
