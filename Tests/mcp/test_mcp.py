"""End-to-end tests of `kb mcp`, driven by an independent MCP client (the PyPI `mcp` package).

Each test copies a small knowledge base into its own temporary folder, starts
`kb mcp --kb <folder>` as a subprocess over stdio, and talks to it as an agent would.

Run:  pip install -q mcp pytest && swift build && python3 -m pytest -q Tests/mcp
The `kb` binary is $KB_BIN, else .build/debug/kb at the top of the repository.
"""

import asyncio
import contextlib
import os
import pathlib
import re
import subprocess
import sys

import pytest

mcp = pytest.importorskip("mcp", reason="the PyPI 'mcp' package is not installed (pip install mcp)")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
KB_BIN = pathlib.Path(os.environ.get("KB_BIN") or REPO / ".build" / "debug" / "kb")
IDENTITY = "Support bot <bot@example.com>"
SIGNED = "Support bot (via MCP)"

ANSWER = """---
id: iphone-sms-repeats
type: answer
title: Text message repeats endlessly on iPhone
tags: [iphone, sms]
symptoms:
  - the same text message keeps arriving again and again
products: [iphone]
updated: 2009-10-21
author: Jason
---
## Fix
1. Power the phone off for a few minutes.
2. Power it on; the loop stops.
"""

OTHER_ANSWER = """---
id: voicemail-password-reset
type: answer
title: Reset a forgotten voicemail password
tags: [voicemail]
symptoms:
  - cannot get into my voicemail
---
## Fix
Dial 611 and ask for a voicemail password reset.
"""

CASE = """---
id: 2009-10-20-sms-loop-barnaul
type: case
status: resolved
channel: twitter
customer: "@stevebuttry"
opened: 2009-10-20T16:05:00Z
assignee: jason
answer: iphone-sms-repeats
---
> Does anyone know how to stop a text message from repeating endlessly on the iPhone?

## Journal
- 2009-10-20T16:09:00Z · jason · acknowledged · I'm with AT&T and saw you were having trouble. Can I help?
- 2009-10-20T17:02:00Z · tina · resolved · Loop stopped.
"""


@pytest.fixture
def kb(tmp_path):
    """A fresh knowledge base: kb.yml from `kb init`, two answers and one resolved case."""
    if not KB_BIN.exists():
        pytest.fail(f"{KB_BIN} does not exist: run 'swift build' first, or set KB_BIN")
    root = tmp_path / "kb"
    subprocess.run([str(KB_BIN), "init", str(root)], check=True, capture_output=True)
    (root / "answers" / "iphone-sms-repeats.md").write_text(ANSWER)
    (root / "answers" / "voicemail-password-reset.md").write_text(OTHER_ANSWER)
    (root / "cases" / "2009" / "10").mkdir(parents=True)
    (root / "cases" / "2009" / "10" / "2009-10-20-sms-loop-barnaul.md").write_text(CASE)
    return root


@contextlib.asynccontextmanager
async def session(root, identity=IDENTITY, extra_env=None):
    args = ["mcp", "--kb", str(root)]
    if identity:
        args += ["--as", identity]
    env = dict(os.environ)
    env.pop("KB_DIR", None)
    # No fallback identity from git for the "no identity" test.
    env.update({"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root.parent)})
    env.update(extra_env or {})
    params = StdioServerParameters(command=str(KB_BIN), args=args, env=env, cwd=str(root.parent))
    with open(root.parent / "server-stderr.log", "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as s:
                await s.initialize()
                yield s


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=60))


# The mcp package renamed result fields between 1.x (camelCase) and 2.x (snake_case).
def is_error(result):
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", None))


def structured(result):
    value = getattr(result, "structured_content", None)
    return value if value is not None else getattr(result, "structuredContent", None)


def text(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def call_ok(s, name, arguments=None):
    result = await s.call_tool(name, arguments or {})
    assert not is_error(result), f"{name} failed: {text(result)}"
    data = structured(result)
    assert isinstance(data, dict), f"{name}: no structured content"
    # The text content is the same JSON, for clients that ignore structuredContent.
    import json

    assert json.loads(text(result)) == data
    return data


async def call_error(s, name, arguments=None):
    result = await s.call_tool(name, arguments if arguments is not None else {})
    assert is_error(result), f"{name} should have failed, got {text(result)}"
    message = text(result)
    assert message and "Traceback" not in message
    return message, (structured(result) or {}).get("error", {}).get("code")


# ---------------------------------------------------------------------------------------------


def test_lists_tools_with_input_schemas(kb):
    async def go():
        async with session(kb) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            for name in ["search", "show", "list_cases"]:
                assert name in tools
            for tool in tools.values():
                schema = getattr(tool, "input_schema", None) or getattr(tool, "inputSchema")
                assert schema["type"] == "object"
                assert tool.description
            search = getattr(tools["search"], "input_schema", None) or tools["search"].inputSchema
            assert search["required"] == ["query"]
            assert search["properties"]["query"]["type"] == "string"

    run(go())


def test_search_finds_the_repeating_sms_fix(kb):
    async def go():
        async with session(kb) as s:
            data = await call_ok(s, "search", {"query": "the same text message keeps coming again and again"})
            ids = [h["id"] for h in data["hits"]]
            assert ids[0] == "iphone-sms-repeats"
            assert data["hits"][0]["type"] == "answer"
            assert "**" in data["hits"][0]["snippet"]
            only_cases = await call_ok(s, "search", {"query": "text message repeating", "type": "case"})
            assert [h["id"] for h in only_cases["hits"]] == ["2009-10-20-sms-loop-barnaul"]
            # Hostile query syntax is searched as words, never an FTS5 error.
            await call_ok(s, "search", {"query": 'sms" OR NEAR( * -:'})

    run(go())


def test_show_and_resources(kb):
    async def go():
        async with session(kb) as s:
            answer = await call_ok(s, "show", {"id": "iphone-sms-repeats"})
            assert answer["title"] == "Text message repeats endlessly on iPhone"
            assert answer["uri"] == "kb://answers/iphone-sms-repeats"
            assert "Power the phone off for a few minutes" in answer["body"]
            by_path = await call_ok(s, "show", {"path": "answers/iphone-sms-repeats.md"})
            assert by_path["id"] == "iphone-sms-repeats"

            case = await call_ok(s, "show", {"id": "2009-10-20-sms-loop-barnaul"})
            assert [e["author"] for e in case["journal"]] == ["jason", "tina"]

            contents = (await s.read_resource("kb://answers/iphone-sms-repeats")).contents
            assert contents[0].text == ANSWER
            contents = (await s.read_resource("kb://cases/2009-10-20-sms-loop-barnaul")).contents
            assert contents[0].text == CASE

            resources = (await s.list_resources()).resources
            assert {str(r.uri) for r in resources} == {
                "kb://answers/iphone-sms-repeats",
                "kb://answers/voicemail-password-reset",
                "kb://cases/2009-10-20-sms-loop-barnaul",
            }
            templates = (await s.list_resource_templates()).resource_templates
            assert {getattr(t, "uri_template", None) or t.uriTemplate for t in templates} == {
                "kb://answers/{id}",
                "kb://cases/{id}",
            }

    run(go())


def test_list_cases_filters(kb):
    async def go():
        async with session(kb) as s:
            data = await call_ok(s, "list_cases", {})
            assert [c["id"] for c in data["cases"]] == ["2009-10-20-sms-loop-barnaul"]
            assert data["count"] == 1
            data = await call_ok(s, "list_cases", {"status": "open"})
            assert data["cases"] == []
            data = await call_ok(s, "list_cases", {"status": "resolved", "assignee": "jason", "limit": 5})
            assert data["count"] == 1

    run(go())


def test_bad_input_is_an_error_result_and_the_server_keeps_serving(kb):
    async def go():
        async with session(kb) as s:
            message, code = await call_error(s, "no_such_tool", {"x": 1})
            assert code == "unknown_tool" and "no_such_tool" in message and "search" in message

            message, code = await call_error(s, "search", {})
            assert code == "invalid_arguments" and "query" in message

            message, code = await call_error(s, "search", {"query": 42})
            assert code == "invalid_arguments" and "must be a string" in message
            message, code = await call_error(s, "search", {"query": "sms", "limit": "ten"})
            assert code == "invalid_arguments" and "integer" in message
            message, code = await call_error(s, "search", {"query": "sms", "limit": 0})
            assert code == "invalid_arguments" and "at least 1" in message
            message, code = await call_error(s, "search", {"query": "   "})
            assert code == "invalid_arguments"
            message, code = await call_error(s, "search", {"query": "sms", "colour": "red"})
            assert code == "invalid_arguments" and "colour" in message
            message, code = await call_error(s, "list_cases", {"status": "sleeping"})
            assert code == "invalid_arguments" and "open" in message

            message, code = await call_error(s, "show", {"id": "no-such-answer"})
            assert code == "not_found" and "no-such-answer" in message
            message, code = await call_error(s, "show", {})
            assert code == "invalid_arguments"

            for path in ["../../etc/passwd", "/etc/passwd", "answers/../../../etc/passwd"]:
                message, code = await call_error(s, "show", {"path": path})
                assert code == "outside_knowledge_base", message
                assert "outside the knowledge base" in message
                assert "root:" not in message

            for uri in ["kb://answers/../../etc/passwd", "kb://answers/nope", "file:///etc/passwd", "kb://cases/iphone-sms-repeats"]:
                with pytest.raises(Exception) as info:
                    await s.read_resource(uri)
                assert "root:" not in str(info.value)

            # Still serving.
            data = await call_ok(s, "search", {"query": "text message repeats"})
            assert data["hits"][0]["id"] == "iphone-sms-repeats"

    run(go())


def test_index_stays_fresh_while_serving(kb):
    async def go():
        async with session(kb) as s:
            data = await call_ok(s, "search", {"query": "roaming"})
            assert data["hits"] == []
            (kb / "answers" / "roaming-abroad.md").write_text(
                "---\nid: roaming-abroad\ntype: answer\ntitle: Data roaming abroad does not work\n---\nTurn on data roaming.\n"
            )
            data = await call_ok(s, "search", {"query": "roaming"})
            assert [h["id"] for h in data["hits"]] == ["roaming-abroad"]
            (kb / "answers" / "roaming-abroad.md").unlink()
            data = await call_ok(s, "search", {"query": "roaming"})
            assert data["hits"] == []

    run(go())
