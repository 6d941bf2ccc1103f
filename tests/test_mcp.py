"""The MCP server through the official SDK's client: stdio (`sanad mcp`) and streamable HTTP
(/mcp on the server, with the token). Every citation is checked against its document, read
through MCP itself."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import TEST_ENV, make_engine, serving
from tests.test_api import ASK
from ui.mcp_server import document_uri
from ui.server import create_app

TOKEN = "mcp-secret"


async def exercise(client: Client) -> None:
    """The tools an agent uses, in the three languages, every quote checked."""
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"search", "ask", "cite", "list_documents"}
    assert all(t.output_schema for t in tools.values())
    assert "exact span" in tools["ask"].description
    for question in ASK.values():
        answer = (await client.call_tool("ask", {"question": question})).structured_content
        assert answer["grounded"] and "[1]" in answer["text"]
        for citation in answer["citations"]:
            await assert_exact(client, citation)
        cited = await client.call_tool("cite", {"citation_id": answer["citations"][0]["id"]})
        assert cited.structured_content["citation"]["quote"] == answer["citations"][0]["quote"]
        found = await client.call_tool("search", {"question": question, "k": 3})
        assert len(found.structured_content["passages"]) == 3
    listed = (await client.call_tool("list_documents", {})).structured_content
    assert listed["total"] == 5 and listed["documents"][0]["uri"].startswith("sanad://documents/")
    empty = await client.call_tool("ask", {"question": "   "})
    assert empty.is_error and "empty" in str(empty.content)


async def assert_exact(client: Client, citation: dict[str, Any]) -> None:
    """The quote is text[start:end] of its document (read as the MCP resource)."""
    read = await client.read_resource(document_uri(citation["doc_id"]))
    text = read.contents[0].text
    assert text[citation["start"] : citation["end"]] == citation["quote"], citation["id"]


def run(check: Callable[[Client], Awaitable[None]], server: Any) -> None:
    """Connect the SDK's client and run the check."""

    async def main() -> None:
        async with Client(server, read_timeout_seconds=120) as client:
            await check(client)

    asyncio.run(main())


def test_stdio(tmp_path, seeded):
    """Also the smoke test of the command line as its own process (`python -m ui.cli`): the
    in-process CLI tests drive main(argv)."""
    seeded(tmp_path)
    env = {**os.environ, **TEST_ENV, "SANAD_DATA_DIR": str(tmp_path / "data")}
    params = StdioServerParameters(command=sys.executable, args=["-m", "ui.cli", "mcp"], env=env)
    run(exercise, params)


def test_streamable_http_with_the_token(tmp_path, embedder, seed_engine):
    engine = make_engine(tmp_path, embedder, api_token=TOKEN)
    engine.store = seed_engine.store
    with serving(create_app(engine)) as url:
        denied = httpx2.post(f"{url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert denied.status_code == 401

        async def main() -> None:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with httpx2.AsyncClient(headers=headers, timeout=120) as http:
                transport = streamable_http_client(f"{url}/mcp", http_client=http)
                async with Client(transport, read_timeout_seconds=120) as client:
                    await exercise(client)

        asyncio.run(main())


@pytest.mark.parametrize("question", [ASK["ar"]])
def test_in_process_answers_match_the_api(seed_engine, question):
    from ui.mcp_server import build_mcp

    async def check(client: Client) -> None:
        answer = (await client.call_tool("ask", {"question": question})).structured_content
        assert answer["text"] == seed_engine.ask(question).text  # one answer path

    run(check, build_mcp(seed_engine))
