"""Where a process's settings come from: the environment, then `.env`, never both silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.process import load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.env"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("ENV_FILE", "API_PORT", "ADMIN_CLIENT_ID", "ADMIN_CLIENT_SECRET", "LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_dot_env_in_the_working_directory_is_read(workdir: Path) -> None:
    (workdir / ".env").write_text(EXAMPLE.read_text())
    settings = load_settings("test")
    assert settings.admin_client_id == "admin"
    assert settings.admin_client_secret is not None
    assert settings.admin_client_secret.get_secret_value() == "dev-only-admin-secret-change-me"


def test_the_environment_wins_over_the_file(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / ".env").write_text("API_PORT=8181\nLOG_FORMAT=json\n")
    monkeypatch.setenv("API_PORT", "8282")
    settings = load_settings("test")
    assert settings.api_port == 8282
    assert settings.log_format.value == "json"


def test_env_file_names_another_file_or_none(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / ".env").write_text("API_PORT=8181\n")
    (workdir / "other.env").write_text("API_PORT=8383\n")
    monkeypatch.setenv("ENV_FILE", "other.env")
    assert load_settings("test").api_port == 8383
    monkeypatch.setenv("ENV_FILE", "")
    assert load_settings("test").api_port == 8080


def test_a_bad_value_is_one_line_and_exit_2(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / ".env").write_text("API_PORT=not-a-port\n")
    with pytest.raises(SystemExit) as exc:
        load_settings("management_api")
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("management_api: invalid configuration:")
    assert "api_port" in err
