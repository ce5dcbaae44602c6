"""Settings of 核发's retry policy (GONGWEN_MAIL_ATTEMPTS, GONGWEN_MAIL_BACKOFF, GONGWEN_MAIL_RECORD_PATIENCE):
read into one RetryPolicy, and refused together when a claim could outlive the registrar's 核实 grace."""

from __future__ import annotations

import pytest

from delivery.retry import RetryPolicy
from gongwen.app import App
from gongwen.settings import load_settings
from models.errors import InputError


def test_the_retry_settings_make_the_one_policy_the_channel_and_dispatch_use(monkeypatch, tmp_path):
    environment = {
        "GONGWEN_MAIL": "smtp",
        "GONGWEN_SMTP_HOST": "mail.example",
        "GONGWEN_MAIL_ATTEMPTS": "2",
        "GONGWEN_MAIL_BACKOFF": "0.5",
        "GONGWEN_MAIL_RECORD_PATIENCE": "120",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app = App(load_settings(home=tmp_path))
    assert app.mail_options.retry == RetryPolicy(attempts=2, backoff=0.5, record_patience=120)
    assert app.mail_channel.timeout == RetryPolicy().timeout


def test_the_defaults_are_the_policys(tmp_path):
    assert load_settings(home=tmp_path).mail_retry == RetryPolicy()


def test_settings_under_which_a_claim_could_outlive_the_grace_are_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("GONGWEN_MAIL_ATTEMPTS", "4")  # 10 × (4 × 30 s + 7 s) + 600 s ≥ 30 min
    with pytest.raises(InputError, match="核实期限") as refused:
        load_settings(home=tmp_path)
    assert refused.value.field == "GONGWEN_MAIL_ATTEMPTS"
    monkeypatch.setenv("GONGWEN_MAIL_RECORD_PATIENCE", "300")
    assert load_settings(home=tmp_path).mail_retry.attempts == 4


def test_the_mail_connections_setting_bounds_the_smtp_channel(monkeypatch, tmp_path):
    """GONGWEN_MAIL_CONNECTIONS (核发 over that many SMTP connections at once): 4 by default, 1 to 32."""
    monkeypatch.setenv("GONGWEN_MAIL", "smtp")
    monkeypatch.setenv("GONGWEN_SMTP_HOST", "mail.example")
    assert App(load_settings(home=tmp_path)).mail_channel.connections == 4
    monkeypatch.setenv("GONGWEN_MAIL_CONNECTIONS", "2")
    assert App(load_settings(home=tmp_path)).mail_channel.connections == 2
    for wrong, reason in (("0", "应 ≥ 1"), ("33", "应 ≤ 32"), ("四", "应为整数")):
        monkeypatch.setenv("GONGWEN_MAIL_CONNECTIONS", wrong)
        with pytest.raises(InputError) as refused:
            load_settings(home=tmp_path)
        assert (refused.value.field, refused.value.message) == ("GONGWEN_MAIL_CONNECTIONS", reason)
        assert str(refused.value) == f"GONGWEN_MAIL_CONNECTIONS：{reason}"
