"""下载链接 (models.download_links): what a token names, and its refusals — altered, another key, expired."""

from __future__ import annotations

import datetime as dt

import pytest
from itsdangerous import URLSafeTimedSerializer

from models.download_links import ArchivedFile, DownloadLinks, DraftPdf, LinkAltered, LinkExpired, filename

KEY = bytes(range(32))
LINKS = DownloadLinks(KEY, "https://gongwen.example.org/", dt.timedelta(minutes=30))
MADE = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
ARCHIVED = ArchivedFile(7, "汴打假-2026-Y-0001/document.pdf", "v-3")


def _token(url: str) -> str:
    return url.rsplit("/", 1)[-1]


@pytest.mark.parametrize("download", [ARCHIVED, DraftPdf(7, 2)])
def test_a_link_names_its_file_at_the_gateway(download) -> None:
    url = LINKS.url(download, made_at=MADE)
    assert url.startswith("https://gongwen.example.org/gateway/files/")
    assert LINKS.read(_token(url), now=MADE + dt.timedelta(minutes=29)) == download


def test_names_of_the_files() -> None:
    assert filename(ARCHIVED) == "document.pdf"
    assert filename(DraftPdf(7, 2)) == "公文7-第2稿.pdf"


def test_a_link_past_its_minutes_is_expired() -> None:
    token = LINKS.token(ARCHIVED, made_at=MADE)
    with pytest.raises(LinkExpired, match="已过期（有效期 30 分钟）"):
        LINKS.read(token, now=MADE + dt.timedelta(minutes=31))


def test_an_altered_token_is_refused() -> None:
    token = LINKS.token(ARCHIVED, made_at=MADE)
    payload, stamp, signature = token.split(".")
    other = LINKS.token(ArchivedFile(8, "other/document.pdf", "v-1"), made_at=MADE).split(".")[0]
    for altered in (f"{other}.{stamp}.{signature}", f"{payload}.{stamp}.{signature[:-2]}xx", token[:-1], "abc"):
        with pytest.raises(LinkAltered, match="下载链接无效"):
            LINKS.read(altered, now=MADE)


def test_a_token_of_another_key_or_purpose_is_refused() -> None:
    other_key = DownloadLinks(bytes(32), LINKS.base_url, LINKS.lifetime)
    with pytest.raises(LinkAltered):
        LINKS.read(other_key.token(ARCHIVED, made_at=MADE), now=MADE)
    sign_in_step = URLSafeTimedSerializer(KEY, salt="gongwen-signin-step").dumps({"d": 7, "p": 1})
    with pytest.raises(LinkAltered):
        LINKS.read(sign_in_step, now=dt.datetime.now(dt.UTC))


def test_no_links_without_a_key() -> None:
    with pytest.raises(ValueError):
        DownloadLinks(b"", "https://gongwen.example.org", dt.timedelta(minutes=1))
