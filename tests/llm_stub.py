"""A real OpenAI-compatible chat server for tests (stdlib only): scripted replies and failures."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Behaviour = Literal["reply", "hang", "hang_mid_stream", "http500", "garbage"]
_PATHS = ("/v1/chat/completions", "/chat/completions")
_MARKER = re.compile(r"\[\d{1,3}\]")


def pieces(text: str, size: int = 5) -> list[str]:
    """Small stream chunks; every marker is split after its first digit ("[1" + "2]")."""
    cuts = set(range(size, len(text), size))
    cuts |= {m.start() + 2 for m in _MARKER.finditer(text)}
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(text)), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


@dataclass
class StubLLM:
    """The server's script and what it has seen; change the fields between requests."""

    reply: str = "Israeli officers trained them [1]."
    behaviour: Behaviour = "reply"
    hang_s: float = 10.0
    chunk_size: int = 5
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        """Base URL of the running server (append "/v1" for an OpenAI client)."""
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def last_messages(self) -> list[dict[str, Any]]:
        """The chat messages of the most recent request."""
        return self.requests[-1]["body"]["messages"]

    def start(self) -> StubLLM:
        """Serve on a free port of 127.0.0.1 in a daemon thread."""
        stub = self

        class Handler(_Handler):
            owner = stub

        self._release.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hanging handlers and shut the server down."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> StubLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    owner: StubLLM
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        stub = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path not in _PATHS:
            self._send(404, b'{"error": {"message": "not found"}}')
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._send(400, b'{"error": {"message": "bad json"}}')
            return
        stub.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
        try:
            self._respond(stub, body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to do

    def _respond(self, stub: StubLLM, body: dict[str, Any]) -> None:
        if stub.behaviour == "hang":
            stub._release.wait(stub.hang_s)
        if stub.behaviour == "http500":
            self._send(500, b'{"error": {"message": "internal error", "type": "server_error"}}')
        elif stub.behaviour == "garbage":
            if body.get("stream"):
                self._send(200, b"data: {not json at all\n\n", "text/event-stream")
            else:
                self._send(200, b"<html>not json {", "application/json")
        elif body.get("stream"):
            self._stream(stub, body)
        else:
            self._send(200, json.dumps(_completion(stub.reply, body)).encode())

    def _send(self, status: int, data: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, stub: StubLLM, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        parts = pieces(stub.reply, stub.chunk_size)
        for i, part in enumerate(parts):
            if stub.behaviour == "hang_mid_stream" and i == max(1, len(parts) // 2):
                stub._release.wait(stub.hang_s)
                return
            delta = {"role": "assistant", "content": part} if i == 0 else {"content": part}
            self._event(_chunk(body, delta))
            time.sleep(0.002)
        self._event(_chunk(body, {}, finish="stop"))
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
        self.wfile.flush()


def _completion(reply: str, body: dict[str, Any]) -> dict[str, Any]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    completion = len(reply.split())
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "stub"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def _chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "stub"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
