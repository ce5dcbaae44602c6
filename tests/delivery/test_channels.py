"""The channels: the outbox writes one whole .eml per message; SMTP maps server answers to deferred/rejected."""

from __future__ import annotations

import email
import email.policy
import random
from concurrent.futures import ThreadPoolExecutor
from email.generator import BytesGenerator
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import pytest

from delivery import OutboxChannel, SmtpChannel
from delivery.base import recipient_addresses
from delivery.message import Attachments, Letterhead, attachments, dispatch_message
from delivery.wire import fresh_boundary, wire_bytes
from models.distribution import Recipient, RecipientRole
from models.errors import DeliveryDeferred, DeliveryRejected

HEAD = Letterhead(
    ref="汴打假〔2022〕3号", title="关于印发《方案》的通知", issuer="开封市人民政府", sender="zf@kaifeng.example.cn"
)
TO = Recipient("开封市公安局", "gaj@kaifeng.example.cn", (RecipientRole.TO, RecipientRole.CC))


def message(pdf: bytes = b"%PDF-1.7 test", docx: bytes | None = None):
    return dispatch_message(HEAD, TO, code="CODE-123", files=attachments(HEAD, pdf=pdf, docx=docx))


def test_the_message_names_document_roles_and_code_and_carries_the_files():
    built = message(docx=b"PK docx")
    parsed = email.message_from_bytes(built.as_bytes(policy=email.policy.SMTP), policy=email.policy.default)
    assert parsed["Subject"] == "【主送、抄送】汴打假〔2022〕3号 关于印发《方案》的通知"
    text = parsed.get_body(("plain",)).get_content()
    assert "《关于印发〈方案〉的通知》（汴打假〔2022〕3号）" in text and "主送、抄送单位" in text
    assert "gongwen ack --code CODE-123" in text
    files = {part.get_filename(): part.get_content() for part in parsed.iter_attachments()}
    assert files == {
        "汴打假〔2022〕3号 关于印发《方案》的通知.pdf": b"%PDF-1.7 test",
        "汴打假〔2022〕3号 关于印发《方案》的通知.docx": b"PK docx",
    }
    assert built.as_bytes(policy=email.policy.SMTP).isascii()  # RFC 2047 / 2231 encoded, 7-bit safe


def test_a_dispatch_shares_its_sealed_files_and_boundary_and_the_bytes_stay_the_standard_librarys():
    files = attachments(HEAD, pdf=bytes(range(256)) * 400, docx=b"PK docx")
    built = [
        dispatch_message(
            HEAD,
            Recipient(f"收文单位{i:03d}", f"unit{i:03d}@example.cn", (RecipientRole.CC,)),
            code=str(i),
            files=files,
        )
        for i in range(60)
    ]
    for message in built:
        assert wire_bytes(message) == message.as_bytes(policy=email.policy.SMTP)
        assert message.get_boundary() == files.boundary and message.get_payload()[1:] == list(files.parts)
        for name in ("Message-ID", "Date"):  # kept as text: what parsing and folding them would give
            value = message[name]
            parsed = email.policy.SMTP.header_factory(name, str(value))
            assert email.policy.SMTP.fold_binary(name, parsed) == f"{name}: {value}\r\n".encode()
    assert all(f"--{files.boundary}".encode() not in part.wire for part in files.parts)


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("开封市公安局", "gaj@kaifeng.example.cn"),
        ("收文单位0001", "unit0001@example.cn"),
        ("刘志强", "liuzhiqiang@kaifeng.example.cn"),
        ("Zhang 张", "zhang@kaifeng.example.cn"),
        ('Li "Si", <Office>', "li@kaifeng.example.cn"),
        ("开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组办公室", "kfsfld@163.com"),  # too long for one line
    ],
)
def test_the_to_header_names_the_recipient_whichever_way_it_is_encoded(name, address):
    to = Recipient(name, address, (RecipientRole.TO,))
    built = dispatch_message(HEAD, to, code="c", files=attachments(HEAD, pdf=b"%PDF"))
    data = wire_bytes(built)
    assert data == built.as_bytes(policy=email.policy.SMTP) and data.isascii()
    raw = email.message_from_bytes(data, policy=email.policy.compat32)["To"]
    # (decode_header: the stdlib's structured parser puts a space between adjacent encoded-words)
    assert getaddresses([str(make_header(decode_header(raw)))]) == [(name, address)]
    assert recipient_addresses(built) == [address]
    unicode_form = str(Address(display_name=name, addr_spec=address))
    standard = email.policy.SMTP.fold_binary("To", email.policy.SMTP.header_factory("To", unicode_form))
    if name.startswith(("开封市", "收文单位", "刘志强")):  # Chinese names: the standard library's bytes
        assert standard in data


def test_a_boundary_found_in_the_text_is_changed_as_the_standard_library_does(monkeypatch):
    monkeypatch.setattr(random, "randrange", lambda _: 42)
    taken = BytesGenerator._make_boundary()
    text = f"x\n--{taken}\n--{taken}.0--\n".encode()  # (the standard library's check sees "\n" line ends only)
    assert fresh_boundary(text) == BytesGenerator._make_boundary(text) == f"{taken}.1"
    assert fresh_boundary(b"--" + taken.encode() + b"x") == taken  # not a whole line: no clash


def test_wire_bytes_are_the_standard_librarys_bytes():
    long_name = Recipient(
        "开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组办公室", "kfsfld@163.com", (RecipientRole.CC,)
    )
    for built in (
        message(),
        message(bytes(range(256)) * 3000, b"PK\r\n docx"),
        dispatch_message(HEAD, long_name, code="c", files=Attachments((), fresh_boundary())),
    ):
        assert wire_bytes(built) == built.as_bytes(policy=email.policy.SMTP)
        assert wire_bytes(built) == built.as_bytes(policy=email.policy.SMTP)  # a second time, folds from the memo


def test_the_outbox_keeps_one_complete_eml_per_message(tmp_path: Path):
    outbox = OutboxChannel(tmp_path / "outbox")
    outbox.send(message(b"one"))
    outbox.send(message(b"two"))
    files = sorted((tmp_path / "outbox").iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no temporary file left
    contents = [
        next(email.message_from_bytes(f.read_bytes(), policy=email.policy.default).iter_attachments()).get_content()
        for f in files
    ]
    assert sorted(contents) == [b"one", b"two"]


def test_an_outbox_that_cannot_be_written_defers(tmp_path: Path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(DeliveryDeferred):
        OutboxChannel(tmp_path / "file").send(message())


def test_smtp_answers_map_to_rejected_deferred_and_down(smtp):
    channel = SmtpChannel(smtp.host, smtp.port, "none", None, None, HEAD.sender, timeout=5)
    smtp.recorder.refuse = {TO.address}
    with pytest.raises(DeliveryRejected, match="550"):
        channel.send(message())
    smtp.recorder.refuse = set()
    smtp.recorder.busy_after = 0
    with pytest.raises(DeliveryDeferred, match="421"):
        channel.send(message())
    smtp.recorder.busy_after = None
    channel.send(message())
    assert smtp.recipients() == [TO.address]
    smtp.stop()
    with pytest.raises(DeliveryDeferred, match="暂不可用"):
        channel.send(message())
    channel.close()


def test_smtp_dot_stuffs_each_line_that_starts_with_a_dot_and_the_server_gets_the_message_unchanged(smtp):
    """DATA's dot-stuffing (bytes.replace in the channel, not smtplib's regular expression): a "." at the
    start of the message or of any line is doubled on the wire and undone by the server."""
    plain = EmailMessage()
    plain["To"] = TO.address
    plain.set_content(".\n..两个点\n正文.\n.\n末行", cte="8bit")
    sent = wire_bytes(plain)
    channel = SmtpChannel(smtp.host, smtp.port, "none", None, None, HEAD.sender, timeout=5)
    channel.send(plain)
    channel.close()
    [(_, received)] = smtp.recorder.received
    assert b"\r\n.\r\n..\xe4" in sent and received == sent


def test_smtp_sends_from_several_threads_over_at_most_its_connections_each_reused(smtp):
    channel = SmtpChannel(smtp.host, smtp.port, "none", None, None, HEAD.sender, timeout=5, connections=3)
    with ThreadPoolExecutor(8) as senders:
        list(senders.map(lambda _: channel.send(message()), range(40)))
    assert len(smtp.recipients()) == 40 and smtp.recorder.greeted <= 3 and smtp.recorder.most_sessions <= 3
    channel.close()
