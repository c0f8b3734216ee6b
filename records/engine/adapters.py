"""The registry of real platforms: which adapter class speaks to which platform."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import httpx

from records.engine.config import PlatformConfig
from records.engine.gemini import GeminiAdapter
from records.engine.http_adapter import HTTPAdapter
from records.engine.kimi import KimiAdapter
from records.engine.openai_compat import OpenAICompatAdapter
from records.engine.qwen import QwenAdapter
from records.engine.search_compat import OpenAISearchAdapter, QianfanAdapter, ZhipuAdapter

ADAPTER_CLASSES: Mapping[str, type[HTTPAdapter]] = MappingProxyType(
    {
        # DeepSeek's API has no web search; Ark's chat API has none either (its web_search
        # tool is on the Responses API, see README): both stay plain.
        "deepseek": OpenAICompatAdapter,
        "doubao": OpenAICompatAdapter,
        "qwen": QwenAdapter,
        "kimi": KimiAdapter,
        "zhipu": ZhipuAdapter,
        "chatgpt": OpenAISearchAdapter,
        "gemini": GeminiAdapter,
        "wenxin": QianfanAdapter,
    }
)


def build_adapter(
    platform: str, config: PlatformConfig, client: httpx.Client | None = None
) -> HTTPAdapter:
    """The adapter for ``platform``; raises ``ValueError`` for a platform we cannot call."""
    try:
        adapter_class = ADAPTER_CLASSES[platform]
    except KeyError:
        raise ValueError(f"no adapter for platform {platform!r}") from None
    if config.platform != platform:
        raise ValueError(f"config for {config.platform!r} given for platform {platform!r}")
    return adapter_class(config, client=client)


def access_modes(platform: str) -> tuple[str, ...]:
    """The access modes our adapter for ``platform`` offers (``("plain",)`` at least)."""
    try:
        return ADAPTER_CLASSES[platform].access_modes
    except KeyError:
        raise ValueError(f"no adapter for platform {platform!r}") from None
