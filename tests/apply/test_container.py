"""The service image, checked without Docker (none on the test machines): what the Dockerfile
copies exists, its command starts the service on the champion card, the base image is pinned,
it runs as a non-root user with a health check, nothing secret can reach it, the packages it
installs are all the service imports, and compose.yaml runs it on this machine only."""

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from conftest import ROOT, project_env

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_base_image_is_pinned_python_311_slim():
    froms = [args for word, args in instructions() if word == "FROM"]
    assert len(froms) == 1
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?@sha256:[0-9a-f]{64}", froms[0]), froms[0]


def test_everything_it_copies_exists_and_is_allowed_into_the_context():
    copies = [args.split()[:-1] for word, args in instructions() if word == "COPY"]
    sources = [s for group in copies for s in group if not s.startswith("--")]
    assert sources
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[[i for i, line in enumerate(ignore) if line and not line.startswith("#")][0]] == "*", \
        ".dockerignore must start from nothing (an allow-list)"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for source in sources:
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
        assert source.rstrip("/") in allowed, f"{source} is copied but .dockerignore does not let it in"
    assert (ROOT / "models/champion/scorecard.json").is_file(), "no champion card to serve"


def test_command_starts_the_service_on_the_champion_as_non_root():
    words = dict(instructions())
    cmd = " ".join(json.loads(words["CMD"]))
    assert "python -m scorecard.cli serve" in cmd and "--host 0.0.0.0" in cmd and "${PORT:-8080}" in cmd
    card = re.search(r"--card (\S+)", cmd).group(1)
    assert card == "/app/models/champion/scorecard.json"
    assert (ROOT / "scorecard" / "cli.py").is_file() and (ROOT / "scorecard" / "apply" / "service.py").is_file()
    user = words["USER"]
    assert user not in ("root", "0") and not user.startswith("0:")
    assert "/health" in words["HEALTHCHECK"]
    assert "PYTHONPATH=/app" in words["ENV"]


def test_no_secret_in_the_image_definition():
    text = DOCKERFILE.read_text() + (ROOT / "compose.yaml").read_text()
    assert not re.search(r"(?i)(password|secret|token|api[_-]?key|credential)\s*[=:]", text)
    assert "ARG " not in text  # build arguments end up in the image history
    assert not [a for w, a in instructions() if w == "ADD"], "ADD can fetch URLs: COPY only"


def test_compose_runs_the_image_on_localhost_with_a_healthcheck():
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text())
    (name, service), = doc["services"].items()
    assert service["build"] == "."
    assert service["ports"] == ["127.0.0.1:8000:8080"]
    assert "/health" in " ".join(service["healthcheck"]["test"])
    assert service.get("read_only") is True


def test_service_requirements_are_pinned_by_the_lock():
    lock = {line.split("==")[0].lower() for line in (ROOT / "requirements.lock").read_text().splitlines()
            if "==" in line}
    wanted = [line.strip() for line in (ROOT / "requirements-service.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert wanted and all(re.fullmatch(r"[A-Za-z0-9._-]+", w) for w in wanted), "names only: the lock pins them"
    assert [w for w in wanted if w.lower() not in lock] == []
    assert not {"pyspark", "py4j", "jupyterlab", "dvc"} & {w.lower() for w in wanted}


# A subprocess that imports the service as the image's command does, builds it on the champion
# and answers /health and one /score through ASGI (no HTTP client: nothing else gets imported),
# recording every third-party module the scorecard package itself imports on the way.
PROBE = textwrap.dedent('''
    import asyncio, builtins, json, sys
    imported = set()
    original = builtins.__import__

    def recording(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and globals and str(globals.get("__name__") or "").split(".")[0] == "scorecard":
            imported.add(name.split(".")[0])
        return original(name, globals, locals, fromlist, level)

    builtins.__import__ = recording
    import scorecard.cli
    from scorecard.apply import service

    assert service.__file__.startswith(sys.argv[1]), service.__file__  # the image's copy, not the checkout
    card_path = sys.argv[2]
    app = service.create_app(card_path, service.DEFAULT_RULES)  # with params.yaml when the service reads it

    def call(method, path, body=b""):
        messages, sent = [], []
        async def receive():
            if not sent:
                sent.append(1)
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
        async def send(message):
            messages.append(message)
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"localhost"), (b"content-type", b"application/json"),
                             (b"content-length", str(len(body)).encode())],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8080)}
        asyncio.run(app(scope, receive, send))
        return next(m["status"] for m in messages if m["type"] == "http.response.start")

    card = json.load(open(card_path))
    applicant = {f["name"]: None for f in card["features"]}
    statuses = [call("GET", "/health"), call("POST", "/score", json.dumps(applicant).encode())]
    third_party = sorted(m for m in imported if m not in sys.stdlib_module_names and m != "scorecard")
    print(json.dumps({"statuses": statuses, "imported": third_party}))
''')


def requirement_closure(names):
    """Installed distributions that ``names`` need (their requirements, recursively)."""
    import importlib.metadata as md

    from packaging.requirements import Requirement

    seen, todo = set(), [n.lower() for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in md.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name.lower())
    return {n.replace("_", "-") for n in seen}


def image_root(dest):
    """The image's /app, built from the Dockerfile's COPY lines (requirements files aside)."""
    for word, args in instructions():
        if word != "COPY":
            continue
        *sources, target = args.split()
        for source in sources:
            if source.startswith("requirements"):
                continue
            where = dest / target.removeprefix("/app/").removeprefix("/app")
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, where, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                where.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / source, where if not target.endswith("/") else where / Path(source).name)
    return dest


def test_the_image_packages_cover_what_the_service_imports(tmp_path):
    """Starts the service from the files the image holds, and checks that the packages the image
    installs include every one the service imports."""
    import importlib.metadata as md

    app_dir = image_root(tmp_path / "app")
    cmd = " ".join(json.loads(dict(instructions())["CMD"]))
    card = re.search(r"--card (\S+)", cmd).group(1).replace("/app/", "")
    assert not (app_dir / "data" / "raw").exists() and (app_dir / card).is_file()
    env = {**project_env(), "PYTHONPATH": str(app_dir)}
    result = subprocess.run([sys.executable, "-c", PROBE, str(app_dir), card], cwd=app_dir, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["statuses"] == [200, 200], probe
    wanted = [line.strip() for line in (ROOT / "requirements-service.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    installed = requirement_closure(wanted)
    distributions = md.packages_distributions()
    needed = {d.lower().replace("_", "-") for m in probe["imported"] for d in distributions.get(m, [m])}
    missing = sorted(needed - installed)
    assert "uvicorn" in installed  # the server itself (imported only when serving)
    assert missing == [], f"the service imports {missing}, which requirements-service.txt does not install"
