"""Soak: a running server under continuous search/ask traffic while other processes change the
corpus on its data directory.

Usage: python -m benchmarks.soak [--minutes 4] [--clients 4]
`sanad serve` runs over a scratch data directory holding the seeds (embedded Chroma, the
default). For `--minutes`, `--clients` threads send the seed questions to POST /api/search and
POST /api/ask. Meanwhile, round after round:
- a `sanad ingest FOLDER` process adds a file stating a new fact;
- a `sanad ingest --feed URL` process reads a feed served on 127.0.0.1 (allowed through
  SANAD_FETCH_ALLOW) that has gained an item;
- the previous round's file is deleted through DELETE /api/documents/{id}.
After each ingest ends, the new fact is searched for until it is found ("freshness").
Reports errors (must be 0), latency, freshness (must be at most 2 s) and the server's memory.
Prints a table and writes benchmarks/results/soak.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np

from benchmarks.common import QUESTIONS
from benchmarks.served import SEEDS, SanadServer

FRESH_WITHIN_S = 2.0
TOWNS = ["Zuwara", "Ghat", "Sabha", "Derna", "Tobruk", "Nalut", "Ubari", "Jalu"]


def fact(n: int) -> tuple[str, str, str]:
    """Round n's new article (text), the question that finds it, and a phrase only it has."""
    town = f"{TOWNS[n % len(TOWNS)]} district {n}"
    marker = f"{1000 + n} new solar lamps"
    text = f"Lamps for {town}\n\nThe council of {town} installed {marker} along the coast road.\n"
    return text, f"How many solar lamps did the council of {town} install?", marker


class FeedSite:
    """An RSS feed on 127.0.0.1 whose items (and their pages) grow by one per round."""

    def __init__(self) -> None:
        self.items = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body, kind = site.page(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", kind)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page(self, path: str) -> tuple[bytes, str]:
        """The feed, an item's page, or nothing."""
        if path == "/feed.xml":
            items = "".join(
                f"<item><title>Harbour note {i}</title><link>{self.url}/item/{i}</link>"
                f"<pubDate>{formatdate(1700000000 + i * 3600)}</pubDate>"
                f"<description>Harbour note {i}.</description></item>"
                for i in range(self.items)
            )
            rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Soak</title>{items}'
            return (rss + "</channel></rss>").encode(), "application/rss+xml"
        if path.startswith("/item/"):
            i = path.rsplit("/", 1)[1]
            html = (
                f"<html><head><title>Harbour note {i}</title></head><body><article>"
                f"<h1>Harbour note {i}</h1><p>The harbour master logged {i} fishing boats "
                "returning before the storm, and the port stayed open all night.</p>"
                "</article></body></html>"
            )
            return html.encode(), "text/html; charset=utf-8"
        return b"", "text/plain"


class Traffic:
    """Client threads sending searches and asks until stopped; latencies and errors."""

    def __init__(self, url: str, clients: int) -> None:
        self.url = url
        self.stop = threading.Event()
        self.ms: dict[str, list[float]] = {"search": [], "ask": []}
        self.errors: list[str] = []
        questions = [q for qs in QUESTIONS.values() for q in qs]
        self.threads = [
            threading.Thread(target=self._client, args=(questions[i:] + questions[:i],))
            for i in range(clients)
        ]

    def _client(self, questions: list[str]) -> None:
        with httpx.Client(base_url=self.url, timeout=60, trust_env=False) as client:
            n = 0
            while not self.stop.is_set():
                kind = "search" if n % 2 else "ask"
                started = time.perf_counter()
                try:
                    r = client.post(
                        f"/api/{kind}", json={"question": questions[n % len(questions)]}
                    )
                    if r.status_code != 200:
                        self.errors.append(f"{kind} {r.status_code}: {r.text[:200]}")
                except httpx.HTTPError as exc:
                    self.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                self.ms[kind].append((time.perf_counter() - started) * 1000)
                n += 1

    @contextmanager
    def running(self) -> Iterator[Traffic]:
        """The clients run inside."""
        for t in self.threads:
            t.start()
        try:
            yield self
        finally:
            self.stop.set()
            for t in self.threads:
                t.join()


def peak_rss_mb(pid: int, peak: list[float], stop: threading.Event) -> None:
    """Sample the server's resident memory each second (the peak kept in `peak`)."""
    while not stop.wait(1.0):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        peak[0] = max(peak[0], kb / 1024)


def sanad(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `sanad` command in a process of its own (it goes through the server)."""
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args], env=env, capture_output=True, text=True
    )


def found_after(client: httpx.Client, question: str, marker: str, limit: float = 30.0) -> float:
    """Seconds until a search for the question returns the passage with the marker."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        passages = client.post("/api/search", json={"question": question, "k": 3}).json()
        if any(marker in p["text"] for p in passages.get("passages", [])):
            return time.perf_counter() - started
    return float("inf")


def soak(minutes: float, clients: int, work: Path) -> dict:
    """Run the soak; the figures as a dict."""
    site = FeedSite()
    server = SanadServer(work / "data", {"SANAD_FETCH_ALLOW": "127.0.0.1"})
    server.ingest(SEEDS)
    env = dict(server.env or {})
    rounds: list[dict] = []
    problems: list[str] = []
    peak = [0.0]
    with server, httpx.Client(base_url=server.url, timeout=60, trust_env=False) as client:
        assert server.proc is not None
        sampling = threading.Event()
        threading.Thread(target=peak_rss_mb, args=(server.proc.pid, peak, sampling)).start()
        deadline = time.monotonic() + minutes * 60
        with Traffic(server.url, clients).running() as traffic:
            previous: str | None = None
            n = deleted = 0
            while time.monotonic() < deadline:
                text, question, marker = fact(n)
                folder = work / f"round-{n}"
                folder.mkdir()
                (folder / "lamps.txt").write_text(text, encoding="utf-8")
                started = time.perf_counter()
                run = sanad(["ingest", str(folder), "--quiet"], env)
                ingest_s = time.perf_counter() - started
                fresh = found_after(client, question, marker)
                site.items += 1
                feed = sanad(["ingest", "--feed", f"{site.url}/feed.xml", "--quiet"], env)
                for step in (run, feed):
                    if step.returncode != 0 or "through the server" not in step.stderr:
                        problems.append(f"round {n}: {step.args[3:]}: {step.stderr[-300:]}")
                if previous:
                    gone = client.delete(f"/api/documents/{previous}")
                    if gone.status_code != 200:
                        problems.append(f"round {n}: delete {gone.status_code}")
                    deleted += gone.status_code == 200
                docs = client.get("/api/documents", params={"limit": 500}).json()["documents"]
                previous = next(
                    (d["doc_id"] for d in docs if d["source"].endswith(f"round-{n}/lamps.txt")),
                    None,
                )
                rounds.append({"round": n, "ingest_s": ingest_s, "fresh_s": fresh})
                n += 1
        health = client.get("/healthz")
        sampling.set()
    site.server.shutdown()
    latencies = {k: np.array(v) for k, v in traffic.ms.items()}
    fresh = np.array([r["fresh_s"] for r in rounds])
    return {
        "minutes": minutes,
        "clients": clients,
        "requests": {k: len(v) for k, v in latencies.items()},
        "errors": len(traffic.errors) + len(problems),
        "error_samples": (traffic.errors + problems)[:10],
        "p50_ms": {k: float(np.percentile(v, 50)) for k, v in latencies.items() if len(v)},
        "p95_ms": {k: float(np.percentile(v, 95)) for k, v in latencies.items() if len(v)},
        "rounds": len(rounds),
        "ingest_s_p50": float(np.median([r["ingest_s"] for r in rounds])) if rounds else None,
        "fresh_s_max": float(fresh.max()) if len(fresh) else None,
        "fresh_s_p50": float(np.median(fresh)) if len(fresh) else None,
        "feed_items": site.items,
        "deleted": deleted,
        "peak_rss_mb": round(peak[0], 1),
        "healthz_after": health.json().get("status"),
    }


def table(result: dict) -> str:
    """Markdown table of the soak."""
    rows = [
        ("minutes, clients", f"{result['minutes']:g}, {result['clients']}"),
        ("searches / asks", f"{result['requests']['search']} / {result['requests']['ask']}"),
        ("errors (must be 0)", str(result["errors"])),
        (
            "search p50 / p95 ms",
            f"{result['p50_ms']['search']:.0f} / {result['p95_ms']['search']:.0f}",
        ),
        ("ask p50 / p95 ms", f"{result['p50_ms']['ask']:.0f} / {result['p95_ms']['ask']:.0f}"),
        (
            "rounds (file ingest + feed ingest + delete), documents deleted",
            f"{result['rounds']}, {result['deleted']}",
        ),
        ("ingest process p50 s", f"{result['ingest_s_p50']:.1f}"),
        (
            f"fact found after the ingest ended, p50 / max s (≤ {FRESH_WITHIN_S:g})",
            f"{result['fresh_s_p50']:.2f} / {result['fresh_s_max']:.2f}",
        ),
        ("server peak memory MB", f"{result['peak_rss_mb']:.0f}"),
        ("/healthz after", str(result["healthz_after"])),
    ]
    return "\n".join(["| soak | value |", "| --- | --- |", *(f"| {a} | {b} |" for a, b in rows)])


def main() -> None:
    """Run the soak, print the table, write benchmarks/results/soak.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = soak(args.minutes, args.clients, Path(tmp))
    print(table(result))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if result["errors"] or (result["fresh_s_max"] or 0) > FRESH_WITHIN_S:
        sys.exit(1)


if __name__ == "__main__":
    main()
