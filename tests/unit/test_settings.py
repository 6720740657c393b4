"""Settings refuse an insecure production configuration (gatepass.settings)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from gatepass.settings import Settings, _development_key

GOOD_KEY = "k" * 32


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("GATEPASS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def production(*, public_url: str, secret_key: str | None = None) -> Settings:
    return Settings(env="production", public_url=public_url, secret_key=secret_key, _env_file=None)


def test_production_accepts_a_long_key_and_https() -> None:
    settings = production(secret_key=GOOD_KEY, public_url="https://gp.example.com/")
    assert settings.public_url == "https://gp.example.com"
    assert settings.master_key() == GOOD_KEY.encode()


def test_production_refuses_a_missing_secret_key() -> None:
    with pytest.raises(ValidationError, match="GATEPASS_SECRET_KEY"):
        production(public_url="https://gp.example.com")


@pytest.mark.parametrize("key", ["", "short", "k" * 31])
def test_production_refuses_a_short_secret_key(key: str) -> None:
    with pytest.raises(ValidationError, match="GATEPASS_SECRET_KEY"):
        production(secret_key=key, public_url="https://gp.example.com")


def test_production_refuses_an_http_public_url() -> None:
    with pytest.raises(ValidationError, match="https"):
        production(secret_key=GOOD_KEY, public_url="http://gp.example.com")


@pytest.mark.parametrize("allowed", ["webhook_allow_http", "jwks_allow_http"])
def test_production_refuses_plain_http_to_tenant_chosen_urls(allowed: str) -> None:
    """Plain http to a loopback port a tenant admin chose would let that admin reach the
    node's local services: a development setting only."""
    with pytest.raises(ValidationError, match="refused in production"):
        Settings(
            env="production",
            public_url="https://gp.example.com",
            secret_key=GOOD_KEY,
            _env_file=None,
            **{allowed: True},
        )
    assert getattr(Settings(**{allowed: True}, _env_file=None), allowed)


def test_production_reads_its_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEPASS_ENV", "production")
    monkeypatch.setenv("GATEPASS_PUBLIC_URL", "http://gp.example.com")
    monkeypatch.setenv("GATEPASS_SECRET_KEY", GOOD_KEY)
    with pytest.raises(ValidationError, match="https"):
        Settings(_env_file=None)


def test_development_allows_http_and_no_secret_key(tmp_path: Path) -> None:
    settings = Settings(
        env="development",
        public_url="http://127.0.0.1:8080",
        data_dir=tmp_path,
        _env_file=None,
    )
    assert settings.secret_key is None
    assert len(settings.master_key()) >= 32


@pytest.mark.parametrize("url", ["gp.example.com", "ftp://gp.example.com", ""])
def test_public_url_must_be_http_or_https(url: str) -> None:
    with pytest.raises(ValidationError):
        Settings(public_url=url, _env_file=None)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("10.0.0.5", "10.0.0.5"),
        (" 10.0.0.0/24 , ::1 ", "10.0.0.0/24,::1"),
        ("", None),
    ],
)
def test_trusted_proxies_are_addresses_or_networks(given: str, kept: str | None) -> None:
    assert Settings(trusted_proxies=given, _env_file=None).trusted_proxies == kept


@pytest.mark.parametrize("given", ["*", "10.0.0.5,*", "proxy.example.com", "10.0.0.300"])
def test_trusted_proxies_refuse_anything_else(given: str) -> None:
    with pytest.raises(ValidationError, match="GATEPASS_TRUSTED_PROXIES"):
        Settings(trusted_proxies=given, _env_file=None)


def test_a_process_that_starts_while_the_development_key_is_written_reads_the_same_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers of ``serve --workers N`` start together: one that looks for the key while
    another is writing it must not read a half-written (empty) file, nor make a second key."""
    path = tmp_path / "data" / "secret.key"
    write = os.write
    meanwhile: list[bytes] = []

    def write_while_another_starts(fd: int, data: bytes) -> int:
        if not meanwhile:  # the first write: another process starts right now
            meanwhile.append(b"")
            meanwhile[0] = _development_key(path)
        return write(fd, data)

    monkeypatch.setattr(os, "write", write_while_another_starts)
    mine = _development_key(path)

    assert meanwhile == [mine]
    assert path.read_bytes() == mine
    assert len(mine) == 64
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]
    assert path.stat().st_mode & 0o777 == 0o600
