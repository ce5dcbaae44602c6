"""SmtpChannel over STARTTLS and implicit TLS (SSL) with login, against aiosmtpd with a throwaway CA."""

from __future__ import annotations

import email
import email.policy
import ssl

import pytest

from delivery import SmtpChannel
from delivery.message import Letterhead, attachments, dispatch_message
from models.distribution import Recipient, RecipientRole
from models.errors import ChannelRefused, DeliveryDeferred, NotAllowed
from tests.servers.smtp import SMTP_LOGIN, Login, SmtpServer

HEAD = Letterhead(
    ref="汴打假〔2022〕3号", title="关于印发《方案》的通知", issuer="开封市人民政府", sender="zf@kaifeng.example.cn"
)
TO = Recipient("开封市公安局", "gaj@kaifeng.example.cn", (RecipientRole.TO,))
USER, PASSWORD = SMTP_LOGIN


def message():
    return dispatch_message(HEAD, TO, code="CODE-123", files=attachments(HEAD, pdf=b"%PDF-1.7 tls"))


def channel(server: SmtpServer, *, user: str | None = USER, password: str = PASSWORD, context=None) -> SmtpChannel:
    trusted = context if context is not None else server.certificates.client_context()
    return SmtpChannel(server.host, server.port, server.security, user, password, HEAD.sender, 5, trusted)


def test_a_message_goes_encrypted_after_login(smtp_tls):
    sender = channel(smtp_tls)
    sender.send(message())
    sender.send(message())  # over the same connection
    sender.close()
    assert smtp_tls.recorder.logins == [Login(USER, True, True)]  # one login, the password sent encrypted
    assert smtp_tls.recorder.tls == [True, True] and smtp_tls.recipients() == [TO.address] * 2
    parsed = email.message_from_bytes(smtp_tls.recorder.received[0][1], policy=email.policy.default)
    assert next(parsed.iter_attachments()).get_content() == b"%PDF-1.7 tls"


def test_a_wrong_password_is_a_permanent_refusal_of_the_channel(smtp_tls):
    sender = channel(smtp_tls, password="wrong")
    with pytest.raises(ChannelRefused) as error:
        sender.send(message())
    assert isinstance(error.value, NotAllowed) and not isinstance(error.value, DeliveryDeferred)
    assert error.value.field == "credentials" and "拒绝登录（用户 gongwen）：535" in error.value.message
    assert smtp_tls.recorder.received == [] and not any(login.ok for login in smtp_tls.recorder.logins)
    assert all(login.tls for login in smtp_tls.recorder.logins)


def test_a_password_smtplib_cannot_send_is_named(smtp_tls):
    with pytest.raises(ChannelRefused, match="非 ASCII") as error:
        channel(smtp_tls, password="口令").send(message())
    assert error.value.field == "credentials" and smtp_tls.recorder.logins == []


def test_a_certificate_from_an_unknown_ca_is_refused(smtp_tls):
    with pytest.raises(ChannelRefused, match="TLS 证书未通过验证") as error:
        channel(smtp_tls, context=ssl.create_default_context()).send(message())  # the system's CAs only
    assert error.value.field == "security" and smtp_tls.recorder.logins == []


def test_without_starttls_a_server_that_requires_it_refuses_the_sender(certificates):
    server = SmtpServer("starttls", certificates)
    server.start()
    try:
        plain = SmtpChannel(server.host, server.port, "none", None, None, HEAD.sender, 5)
        with pytest.raises(ChannelRefused, match="530") as error:
            plain.send(message())
        assert error.value.field == "sender" and server.recorder.received == []
    finally:
        server.stop()
