"""Real servers on free loopback ports for benchmarks and tests: `sanad serve`, `chroma run`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


def post(url: str, body: dict, token: str = "", timeout: float = 120.0) -> dict:
    """POST JSON (with a bearer token when given) and decode the JSON answer."""
    headers = {"content-type": "application/json", **_bearer(token)}
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}


def get(url: str, token: str = "", timeout: float = 30.0) -> dict:
    """GET (with a bearer token when given) and decode the JSON answer."""
    request = urllib.request.Request(url, headers=_bearer(token))
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChildServer:
    """A server child process on a free loopback port: start it, wait until ready, stop it."""

    name = "server"
    ready_path = "/"

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env: dict[str, str] | None = None
        self.proc: subprocess.Popen | None = None
        self.log: Path | None = None  # where the server's output goes (None: discarded)

    def command(self) -> list[str]:
        """The command line that runs the server."""
        raise NotImplementedError

    def start(self, timeout: float = 300.0) -> ChildServer:
        """Launch the server and wait until its readiness URL answers."""
        output = self.log.open("ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            self.command(), env=self.env, stdout=output, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}{self.ready_path}", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> ChildServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ChromaServer(ChildServer):
    """`chroma run` with its own data folder."""

    name = "chroma run"
    ready_path = "/api/v2/heartbeat"

    def __init__(self, path: Path, port: int | None = None) -> None:
        super().__init__(port)
        self.path = path

    def command(self) -> list[str]:
        """`chroma run` from this environment, on loopback."""
        chroma = Path(sys.executable).parent / "chroma"
        return [
            str(chroma),
            "run",
            "--path",
            str(self.path),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]


class SanadServer(ChildServer):
    """`sanad serve` over its own data directory (API under /api)."""

    name = "sanad serve"
    ready_path = "/healthz"

    def __init__(self, data: Path, env: dict[str, str] | None = None) -> None:
        super().__init__()
        self.data = Path(data)
        self.env = {
            **os.environ,
            **(env or {}),
            "SANAD_DATA_DIR": str(data),
            "SANAD_HOST": "127.0.0.1",
            "SANAD_PORT": str(self.port),
        }
        self.log = Path(data).parent / f"{Path(data).name}.log"

    def command(self) -> list[str]:
        """`sanad serve` with this interpreter."""
        return [sys.executable, "-m", "ui.cli", "serve"]

    def ingest(self, *paths: Path) -> None:
        """Run `sanad ingest` on the paths into the server's data directory (before start)."""
        subprocess.run(
            [sys.executable, "-m", "ui.cli", "ingest", *map(str, paths), "--quiet"],
            env=self.env,
            check=True,
            capture_output=True,
        )
