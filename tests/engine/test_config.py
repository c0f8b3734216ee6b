import pytest

from records.engine.adapters import ADAPTER_CLASSES
from records.engine.config import PLATFORMS, PlatformConfig, platform_configs


def test_every_platform_has_real_defaults_and_is_unconfigured_without_a_key():
    configs = platform_configs({})

    assert tuple(configs) == PLATFORMS
    assert {p: (c.base_url, c.model) for p, c in configs.items()} == {
        "deepseek": ("https://api.deepseek.com", "deepseek-chat"),
        "doubao": ("https://ark.cn-beijing.volces.com/api/v3", "doubao-seed-1-6-250615"),
        "qwen": ("https://dashscope.aliyuncs.com/compatible-mode/v1", "qwen-plus"),
        "kimi": ("https://api.moonshot.cn/v1", "moonshot-v1-8k"),
        "zhipu": ("https://open.bigmodel.cn/api/paas/v4", "glm-4-flash"),
        "chatgpt": ("https://api.openai.com/v1", "gpt-4o-mini"),
        "gemini": ("https://generativelanguage.googleapis.com/v1beta", "gemini-2.0-flash"),
        "wenxin": ("https://qianfan.baidubce.com/v2", "ernie-4.0-8k"),
    }
    assert not any(c.configured for c in configs.values())


def test_every_configurable_platform_has_an_adapter():
    assert set(ADAPTER_CLASSES) == set(PLATFORMS)


def test_environment_overrides_key_base_url_model_and_timeout():
    configs = platform_configs(
        {
            "KIMI_API_KEY": " sk-kimi-secret ",
            "KIMI_BASE_URL": "http://localhost:9/v1/",
            "KIMI_MODEL": "kimi-k2",
            "KIMI_TIMEOUT": "12.5",
            "QWEN_BASE_URL": "",
        },
        default_timeout=30,
    )

    assert configs["kimi"] == PlatformConfig(
        platform="kimi",
        base_url="http://localhost:9/v1",
        model="kimi-k2",
        timeout=12.5,
        api_key="sk-kimi-secret",
    )
    assert configs["kimi"].configured
    assert configs["qwen"].base_url == "https://dashscope.aliyuncs.com/compatible-mode/v1"
    assert configs["qwen"].timeout == 30


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"])
def test_a_bad_timeout_names_its_variable(value):
    with pytest.raises(ValueError, match="ZHIPU_TIMEOUT"):
        platform_configs({"ZHIPU_TIMEOUT": value})


def test_the_key_never_appears_in_repr_or_str():
    config = platform_configs({"DEEPSEEK_API_KEY": "sk-very-secret-key"})["deepseek"]

    assert "sk-very-secret-key" not in repr(config)
    assert "sk-very-secret-key" not in str(config)
    assert "api_key=<set>" in repr(config)
    assert "api_key=<unset>" in repr(platform_configs({})["deepseek"])


def test_search_mode_asks_the_search_model_where_one_is_set():
    configs = platform_configs({"KIMI_SEARCH_MODEL": "kimi-k2-search", "CHATGPT_MODEL": "gpt-4o"})

    assert configs["kimi"].model_for("search") == "kimi-k2-search"
    assert configs["kimi"].model_for("plain") == "moonshot-v1-8k"
    # OpenAI searches on chat completions only with a search model: that is chatgpt's default.
    assert configs["chatgpt"].model_for("search") == "gpt-4o-mini-search-preview"
    assert configs["chatgpt"].model_for("plain") == "gpt-4o"
    assert configs["qwen"].model_for("search") == "qwen-plus"
