"""The image's steps, without Docker: replay docker/Dockerfile in a scratch directory.

The build stage's COPY, ENV, WORKDIR and RUN instructions are executed as written (container
paths mapped under a temporary root; the `pip install uv` step is replaced by the uv already here),
so the test installs exactly what the image installs: the locked, non-dev dependencies with
`uv sync --frozen --no-dev`, trimmed by docker/slim-venv.sh. Then the runtime stage's ENV and
ENTRYPOINT/CMD start `matchmaker serve` on SQLite with no tokens; /healthz and /readyz must
answer, and SIGTERM must end the process cleanly within 10 s. uv's cache makes reruns fast.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import dockerfile
import pytest
from opshelp import free_port

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"

pytestmark = pytest.mark.slow
APP_VARIABLE_PREFIXES = ("MATCHMAKER_", "SLACK_", "GITHUB_", "PYTEST_")
HOST_ONLY_VARIABLES = {"DATABASE_URL", "VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT"}


def uv_command() -> list[str]:
    """uv as `make setup` leaves it: on PATH, in ~/.local/bin (pip --user) or as `python3 -m uv`."""
    found = shutil.which("uv") or shutil.which("uv", path=str(Path.home() / ".local" / "bin"))
    if found:
        return [found]
    for python in dict.fromkeys(p for p in (shutil.which("python3"), sys.executable) if p):
        probe = subprocess.run([python, "-m", "uv", "--version"], capture_output=True)
        if probe.returncode == 0:
            return [python, "-m", "uv"]
    message = "uv is not installed (make setup installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class Replay:
    """Executes Dockerfile instructions with every container path under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workdir = "/"
        # The machine's own settings (proxy, CA certificates, package index) pass through, as
        # they do for `docker build`; the bot's own variables and the test's virtualenv do not.
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(APP_VARIABLE_PREFIXES) and name not in HOST_ONLY_VARIABLES
        }
        self.env["UV_PYTHON"] = f"{sys.version_info.major}.{sys.version_info.minor}"
        self.container_paths: set[str] = set()

    def host(self, container_path: str) -> Path:
        path = (
            container_path if container_path.startswith("/") else f"{self.workdir}/{container_path}"
        )
        return self.root / path.lstrip("/")

    def translate(self, text: str) -> str:
        """Replace container paths in a command or value by their host paths."""
        for path in sorted(self.container_paths, key=len, reverse=True):
            text = re.sub(
                rf"(?<![\w/.]){re.escape(path)}(?=$|[/\s:\"'])", str(self.host(path)), text
            )
        return text

    def expand(self, value: str) -> str:
        value = re.sub(r"\$\{(\w+)\}", lambda m: self.env.get(m.group(1), ""), value)
        return self.translate(value.strip('"'))

    def remember(self, *paths: str) -> None:
        self.container_paths |= {p.rstrip("/") for p in paths if p.startswith("/") and p != "/"}

    def workdir_cmd(self, path: str) -> None:
        self.remember(path)
        self.workdir = path
        self.host(path).mkdir(parents=True, exist_ok=True)

    def env_cmd(self, values: tuple[str, ...]) -> None:
        for name, value in zip(values[0::2], values[1::2], strict=True):
            self.remember(*[v for v in value.strip('"').split(":") if v.startswith("/")])
            self.env[name] = self.expand(value)

    def copy_cmd(self, command: dockerfile.Command) -> None:
        *sources, dest = command.value
        self.remember(dest if dest.startswith("/") else "")
        target = self.host(dest)
        for source in sources:
            if any(flag.startswith("--from=") for flag in command.flags):
                assert self.host(source) == target, "COPY --from must keep the path"
                continue
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(
                    origin,
                    target if not dest.endswith("/") else target / origin.name,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                    dirs_exist_ok=True,
                )
            else:
                final = target / origin.name if dest.endswith("/") else target
                final.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, final)

    def run_cmd(self, script: str, uv: list[str]) -> None:
        script = self.translate(script)
        script = re.sub(r"(^|&&\s*)uv ", lambda m: m.group(1) + " ".join(uv) + " ", script)
        result = subprocess.run(
            ["sh", "-c", script],
            cwd=self.host(self.workdir),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=540,
        )
        assert result.returncode == 0, f"RUN {script!r} failed:\n{result.stderr[-3000:]}"


def build_and_configure(root: Path) -> tuple[Replay, list[str]]:
    """Replay the Dockerfile; returns the runtime environment and the container's argv."""
    uv = uv_command()
    replay = Replay(root)
    argv: list[str] = []
    stage = -1
    for command in dockerfile.parse_file(str(DOCKERFILE)):
        if command.cmd == "FROM":
            stage += 1
            continue
        runtime = command.cmd != "ARG" and stage > 0
        if command.cmd == "WORKDIR":
            replay.workdir_cmd(command.value[0])
        elif command.cmd == "ENV":
            replay.env_cmd(command.value)
        elif command.cmd == "COPY":
            replay.copy_cmd(command)
        elif command.cmd == "RUN" and not runtime:
            if re.match(r"^pip install .*\buv==", command.value[0]):
                continue  # the image installs uv; here the test's own uv is used
            replay.run_cmd(command.value[0], uv)
        elif command.cmd == "RUN" and runtime:
            # User creation needs root; keep only the data directory it prepares.
            for path in re.findall(r"mkdir -p (\S+)", command.value[0]):
                replay.remember(path)
                replay.host(path).mkdir(parents=True, exist_ok=True)
        elif command.cmd == "ENTRYPOINT":
            argv = list(command.value)
        elif command.cmd == "CMD":
            argv = [*argv, *command.value]
    return replay, argv


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for_health(process: subprocess.Popen, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"serve exited with {process.returncode}:\n{output[-3000:]}")
        try:
            if get(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s")


def test_image_steps_install_from_the_lock_and_serve_health_until_sigterm(tmp_path: Path) -> None:
    replay, argv = build_and_configure(tmp_path / "rootfs")
    assert argv == ["matchmaker", "serve"]
    app = replay.host(replay.workdir)
    venv_python = app / ".venv" / "bin" / "python"

    # The trimmed, dev-free environment still imports what the bot needs.
    imports = subprocess.run(
        [
            str(venv_python),
            "-c",
            "import bot.cli.app, bot.match.approachability, bot.match.scoring, numpy, aiohttp.web",
        ],
        cwd=app,
        capture_output=True,
        text=True,
    )
    assert imports.returncode == 0, imports.stderr[-2000:]
    # aiohttp is a runtime dependency (the HTTP server); graphql-core stays fakes-only
    for module in ("pytest", "mypy", "yaml", "graphql", "sklearn", "scipy"):  # dev, fakes, train
        probe = subprocess.run([str(venv_python), "-c", f"import {module}"], capture_output=True)
        assert probe.returncode != 0, (
            f"{module} (a dev/fakes/train dependency) ended up in the image"
        )
    # Without the fakes, the offline demo says what to install instead of a traceback.
    demo = subprocess.run(
        [str(app / ".venv" / "bin" / "matchmaker"), "demo", "--out", str(tmp_path / "demo")],
        cwd=app,
        env={**replay.env, "MATCHMAKER_DATA_DIR": str(tmp_path / "demo-data")},
        capture_output=True,
        text=True,
    )
    assert demo.returncode == 2, demo.stdout + demo.stderr
    assert "fakes" in demo.stderr and "Traceback" not in demo.stderr, demo.stderr[-2000:]
    assert not list((app / ".venv").rglob("site-packages/numpy/_core/tests"))

    port = free_port()
    env = {
        **replay.env,
        "MATCHMAKER_HTTP_HOST": "127.0.0.1",
        "MATCHMAKER_HTTP_PORT": str(port),
        # No internet in tests: point the APIs at a closed local port.
        "MATCHMAKER_GITHUB_API_URL": f"http://127.0.0.1:{free_port()}",
        "MATCHMAKER_SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",
    }
    executable = shutil.which(argv[0], path=env["PATH"])
    assert executable and executable.startswith(str(app)), executable
    process = subprocess.Popen(
        [executable, *argv[1:]],
        cwd=app,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_health(process, base + "/healthz", timeout=90)
        status, body = get(base + "/readyz")
        assert status == 200, body
        assert json.loads(body)["checks"]["database"]["ok"] is True
        assert (Path(env["MATCHMAKER_DATA_DIR"]) / "matchmaker.db").is_file()

        process.send_signal(signal.SIGTERM)
        began = time.monotonic()
        code = process.wait(timeout=10)
        assert time.monotonic() - began < 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = process.stdout.read() if process.stdout else ""
    assert code == 0, f"serve exited with {code} after SIGTERM:\n{output[-3000:]}"
    assert "Traceback" not in output, output[-3000:]
