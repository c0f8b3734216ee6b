"""The real platforms and their environment settings: key, base URL, model, timeout."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_TIMEOUT = 60.0

# The real platforms, in display order, with their (base URL, default model); every value is
# overridable from the environment. The one list of platform ids: everything else derives from it.
DEFAULTS: dict[str, tuple[str, str]] = {
    "deepseek": ("https://api.deepseek.com", "deepseek-chat"),
    # Ark's "model" is the id of an endpoint or a model the account has enabled.
    "doubao": ("https://ark.cn-beijing.volces.com/api/v3", "doubao-seed-1-6-250615"),
    "qwen": ("https://dashscope.aliyuncs.com/compatible-mode/v1", "qwen-plus"),
    "kimi": ("https://api.moonshot.cn/v1", "moonshot-v1-8k"),
    "zhipu": ("https://open.bigmodel.cn/api/paas/v4", "glm-4-flash"),
    "chatgpt": ("https://api.openai.com/v1", "gpt-4o-mini"),
    "gemini": ("https://generativelanguage.googleapis.com/v1beta", "gemini-2.0-flash"),
    # Qianfan v2 speaks the OpenAI protocol with a bearer API key.
    "wenxin": ("https://qianfan.baidubce.com/v2", "ernie-4.0-8k"),
}
PLATFORMS: tuple[str, ...] = tuple(DEFAULTS)

# The model asked in ``search`` mode where it is not the plain one (``<PLATFORM>_SEARCH_MODEL``
# overrides): OpenAI's chat completions search only with a search model, see
# https://platform.openai.com/docs/guides/tools-web-search (chat completions tab).
SEARCH_MODELS: dict[str, str] = {"chatgpt": "gpt-4o-mini-search-preview"}


def env_var(platform: str, setting: str) -> str:
    """The environment variable holding one platform setting, e.g. ``KIMI_API_KEY``."""
    return f"{platform.upper()}_{setting}"


@dataclass(frozen=True, slots=True)
class PlatformConfig:
    """How to reach one platform. The key never appears in repr() or str()."""

    platform: str
    base_url: str
    model: str
    timeout: float = DEFAULT_TIMEOUT
    api_key: str = field(default="", repr=False)
    # The model for ``search`` mode; "" means the plain ``model``.
    search_model: str = ""

    def model_for(self, access_mode: str) -> str:
        """The model to ask in ``access_mode``."""
        return (self.search_model or self.model) if access_mode == "search" else self.model

    @property
    def configured(self) -> bool:
        """Whether a key is set, so a run may use this platform."""
        return bool(self.api_key)

    def __repr__(self) -> str:
        key = "<set>" if self.api_key else "<unset>"
        return (
            f"PlatformConfig(platform={self.platform!r}, base_url={self.base_url!r}, "
            f"model={self.model!r}, search_model={self.search_model!r}, "
            f"timeout={self.timeout!r}, api_key={key})"
        )


def platform_configs(
    environ: Mapping[str, str], *, default_timeout: float = DEFAULT_TIMEOUT
) -> dict[str, PlatformConfig]:
    """Read ``<PLATFORM>_API_KEY``, ``_BASE_URL``, ``_MODEL``, ``_SEARCH_MODEL`` and ``_TIMEOUT``
    for each platform.

    Blank values fall back to the defaults; a timeout that is not a positive number of seconds
    raises ``ValueError`` naming the variable.
    """
    configs = {}
    for platform, (base_url, model) in DEFAULTS.items():
        configs[platform] = PlatformConfig(
            platform=platform,
            base_url=(_get(environ, platform, "BASE_URL") or base_url).rstrip("/"),
            model=_get(environ, platform, "MODEL") or model,
            timeout=_timeout(environ, platform, default_timeout),
            api_key=_get(environ, platform, "API_KEY"),
            search_model=_get(environ, platform, "SEARCH_MODEL") or SEARCH_MODELS.get(platform, ""),
        )
    return configs


def _get(environ: Mapping[str, str], platform: str, setting: str) -> str:
    return (environ.get(env_var(platform, setting)) or "").strip()


def _timeout(environ: Mapping[str, str], platform: str, default: float) -> float:
    raw = _get(environ, platform, "TIMEOUT")
    if not raw:
        return default
    try:
        timeout = float(raw)
    except ValueError:
        timeout = 0.0
    if not timeout > 0:  # also rejects nan
        name = env_var(platform, "TIMEOUT")
        raise ValueError(f"{name} must be a positive number of seconds, got {raw!r}")
    return timeout
