"""Fixtures for the legacy contract tests; the fake WeChat login server (``wechat``) is in
tests/conftest.py, shared with the hardening tests."""
