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

try:
    import pytest
except ImportError:  # Run without pytest: `python3 Tests/mcp/test_mcp.py` (see the end of this file).
    import importlib

    class _Raises:
        def __init__(self, kind):
            self.kind, self.value = kind, None

        def __enter__(self):
            return self

        def __exit__(self, kind, value, traceback):
            if kind is None:
                raise AssertionError(f"did not raise {self.kind.__name__}")
            self.value = value
            return issubclass(kind, self.kind)

    class pytest:  # noqa: N801 - the few pytest names this file uses
        fixture = staticmethod(lambda f: f)
        raises = _Raises

        @staticmethod
        def fail(message):
            raise AssertionError(message)

        @staticmethod
        def importorskip(name, reason=""):
            return importlib.import_module(name)


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
    return make_kb(tmp_path)


def make_kb(tmp_path):
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
    for key in ["KB_DIR", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "TZ"]:
        env.pop(key, None)
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
            for name in ["search", "suggest", "show", "list_cases", "case_open", "case_log", "case_resolve", "cases_due", "sync"]:
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


def test_open_log_and_read_back_a_case(kb):
    async def go():
        async with session(kb) as s:
            opened = await call_ok(
                s,
                "case_open",
                {
                    "text": "My iPhone keeps getting the same text message over and over, help!",
                    "customer": "@dana",
                    "channel": "Twitter",
                    "at": "2024-10-20T16:05:00Z",
                    "tags": ["iphone"],
                },
            )
            case = opened["case"]
            case_id = case["id"]
            assert case["status"] == "open" and case["customer"] == "@dana" and case["channel"] == "twitter"
            assert case["path"] == f"cases/2024/10/{case_id}.md"
            assert opened["uri"] == f"kb://cases/{case_id}"
            assert (kb / case["path"]).exists()

            logged = await call_ok(
                s,
                "case_log",
                {"id": case_id, "kind": "acknowledged", "text": "Sorry about that! Power the phone off for a few minutes.",
                 "at": "2024-10-20T16:09:00Z"},
            )
            assert logged["entry"]["author"] == SIGNED
            assert logged["previous_status"] == "open" and logged["status"] == "acknowledged"

            # Read back through the tool ...
            shown = await call_ok(s, "show", {"id": case_id})
            assert shown["status"] == "acknowledged"
            assert shown["journal"] == [
                {"time": "2024-10-20T16:09:00Z", "author": SIGNED, "kind": "acknowledged",
                 "text": "Sorry about that! Power the phone off for a few minutes.", "line": logged["entry"]["line"]}
            ]
            # ... through the resource ...
            contents = (await s.read_resource(f"kb://cases/{case_id}")).contents
            line = "- 2024-10-20T16:09:00Z · Support bot (via MCP) · acknowledged · Sorry about that! Power the phone off for a few minutes."
            assert line in contents[0].text.splitlines()
            # ... and on disk, in the same format as `kb case log`.
            assert contents[0].text == (kb / case["path"]).read_text()
            listed = await call_ok(s, "list_cases", {"status": "acknowledged"})
            assert [c["id"] for c in listed["cases"]] == [case_id]
            found = await call_ok(s, "search", {"query": "power the phone off", "type": "case"})
            assert case_id in [h["id"] for h in found["hits"]]

            resolved = await call_ok(
                s, "case_resolve",
                {"id": case_id, "answer": "iphone-sms-repeats", "text": "Loop stopped.", "at": "2024-10-20T17:00:00Z",
                 "follow_up": "3d"},
            )
            assert resolved["status"] == "resolved" and resolved["answer"] == "iphone-sms-repeats"
            assert resolved["follow_up"] == "2024-10-23"
            assert resolved["entry"]["author"] == SIGNED

            due = await call_ok(s, "cases_due", {"today": "2024-10-25"})
            assert [d["id"] for d in due["due"]] == [case_id]
            assert due["due"][0]["days_overdue"] == 2
            due = await call_ok(s, "cases_due", {"today": "2024-10-22"})
            assert due["due"] == []

            # The same lifecycle rules as the CLI: a resolved case is not resolved twice.
            message, code = await call_error(s, "case_resolve", {"id": case_id})
            assert code == "refused" and case_id in message
            message, code = await call_error(s, "case_log", {"id": case_id, "kind": "checked-back", "text": "Held: all good", "held": False})
            assert code == "refused"

        # The CLI reads what the server wrote.
        out = subprocess.run([str(KB_BIN), "show", "--kb", str(kb), "--json", case_id], check=True, capture_output=True, text=True)
        import json
        shown = json.loads(out.stdout)
        assert [e["author"] for e in shown["journal"]] == [SIGNED, SIGNED]
        assert shown["status"] == "resolved"

    run(go())


def test_case_tools_reject_bad_input_without_writing(kb):
    async def go():
        before = sorted(p.relative_to(kb) for p in kb.rglob("*.md"))
        async with session(kb) as s:
            message, code = await call_error(s, "case_open", {})
            assert code == "invalid_arguments" and "text" in message
            message, code = await call_error(s, "case_open", {"text": "help", "tags": "iphone"})
            assert code == "invalid_arguments" and "array" in message
            message, code = await call_error(s, "case_open", {"text": "help", "at": "yesterday"})
            assert code == "invalid_arguments" and "ISO 8601" in message
            message, code = await call_error(s, "case_open", {"text": "help", "related": ["no-such-case"]})
            assert "no-such-case" in message
            message, code = await call_error(s, "case_open", {"text": "help", "id": "../../etc/passwd"})
            assert "not a valid id" in message

            message, code = await call_error(s, "case_log", {"id": "no-such-case", "text": "hello"})
            assert code == "not_found"
            message, code = await call_error(s, "case_log", {"id": "iphone-sms-repeats", "text": "hello"})
            assert "answer, not a case" in message
            message, code = await call_error(s, "case_log", {"id": "2009-10-20-sms-loop-barnaul", "text": "hi", "kind": "shouted"})
            assert code == "invalid_arguments" and "acknowledged" in message
            message, code = await call_error(s, "case_log", {"id": "2009-10-20-sms-loop-barnaul", "text": 7})
            assert code == "invalid_arguments"
            message, code = await call_error(s, "case_log", {"id": "2009-10-20-sms-loop-barnaul", "text": "x", "time_zone": "Mars/Olympus"})
            assert code == "invalid_arguments"
            message, code = await call_error(s, "case_resolve", {"id": "2009-10-20-sms-loop-barnaul", "answer": "nope"})
            assert "nope" in message
            message, code = await call_error(s, "cases_due", {"today": "someday"})
            assert code == "invalid_arguments"
            # Still serving.
            await call_ok(s, "list_cases", {})
        assert sorted(p.relative_to(kb) for p in kb.rglob("*.md")) == before
        assert (kb / "cases/2009/10/2009-10-20-sms-loop-barnaul.md").read_text() == CASE

    run(go())


def test_writes_need_an_identity(kb):
    async def go():
        async with session(kb, identity=None) as s:
            message, code = await call_error(s, "case_open", {"text": "my phone keeps repeating texts"})
            assert code == "no_identity" and "--as" in message
            message, code = await call_error(s, "case_log", {"id": "2009-10-20-sms-loop-barnaul", "text": "hi"})
            assert code == "no_identity"
            # Reading still works.
            await call_ok(s, "search", {"query": "text message"})
        assert not list((kb / "cases").glob("20??/??/*my-phone*"))

    run(go())


def test_malformed_protocol_messages_do_not_stop_the_server(kb):
    """Raw JSON-RPC lines, below what a client library would send."""
    import json

    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        "this is not JSON",
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "search", "arguments": "oops"}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": 42}},
        {"jsonrpc": "2.0", "id": 5, "method": "no/such/method", "params": {}},
        {"jsonrpc": "2.0", "id": 6, "method": "resources/read", "params": {}},
        {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "search", "arguments": {"query": "text message repeats"}}},
    ]
    payload = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    proc = subprocess.Popen(
        [str(KB_BIN), "mcp", "--kb", str(kb), "--as", IDENTITY],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        responses = {}
        proc.stdin.write(payload)
        proc.stdin.flush()
        while len([k for k in responses if isinstance(k, int)]) < 7:
            line = proc.stdout.readline()
            assert line, f"server closed its output early; stderr: {proc.stderr.read()}"
            message = json.loads(line)  # stdout carries only JSON-RPC
            responses[message.get("id")] = message
        assert responses[2]["error"]["code"] == -32602 and "params.name" in responses[2]["error"]["message"]
        assert responses[3]["result"]["isError"] is True and "object" in responses[3]["result"]["content"][0]["text"]
        assert responses[4]["error"]["code"] == -32602
        assert responses[5]["error"]["code"] == -32601
        assert responses[6]["error"]["code"] == -32602 and "uri" in responses[6]["error"]["message"]
        assert responses[7]["result"]["structuredContent"]["hits"][0]["id"] == "iphone-sms-repeats"
        assert any(m.get("error", {}).get("code") == -32700 for m in responses.values())  # the non-JSON line
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0  # a clean exit when the client hangs up
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sync_commits_as_the_agent_and_brings_in_teammates_entries(kb, tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    subprocess.run(["git", "-C", str(kb), "remote", "add", "origin", str(remote)], check=True)
    env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    env.pop("KB_DIR", None)

    async def first():
        async with session(kb) as s:
            data = await call_ok(s, "sync", {})
            assert data["pushed"] is True and data["pendingPush"] is False
            assert "answers/iphone-sms-repeats.md" in data["outgoing"]

    run(first())

    # A teammate clones, checks back on the customer and syncs with the CLI.
    teammate = tmp_path / "tina"
    subprocess.run([str(KB_BIN), "clone", str(remote), str(teammate)], check=True, capture_output=True, env=env)
    subprocess.run(["git", "-C", str(teammate), "config", "user.name", "Tina"], check=True)
    subprocess.run(["git", "-C", str(teammate), "config", "user.email", "tina@example.com"], check=True)
    subprocess.run(
        [str(KB_BIN), "case", "log", "--kb", str(teammate), "2009-10-20-sms-loop-barnaul", "--kind", "checked-back",
         "--at", "2009-10-23T09:00:00Z", "Held: no more repeats."],
        check=True, capture_output=True, env=env,
    )
    subprocess.run([str(KB_BIN), "sync", "--kb", str(teammate)], check=True, capture_output=True, env=env)

    async def second():
        async with session(kb) as s:
            opened = await call_ok(s, "case_open", {"text": "voicemail will not let me in", "id": "voicemail-locked"})
            await call_ok(s, "case_log", {"id": "voicemail-locked", "kind": "acknowledged", "text": "Looking into it."})
            data = await call_ok(s, "sync", {})
            assert data["pushed"] is True
            assert "cases/2009/10/2009-10-20-sms-loop-barnaul.md" in data["incoming"]
            assert opened["case"]["path"] in data["outgoing"]
            # The index follows the sync: the teammate's entry is there.
            shown = await call_ok(s, "show", {"id": "2009-10-20-sms-loop-barnaul"})
            assert shown["status"] == "closed"
            assert shown["journal"][-1]["author"] == "Tina"

    run(second())
    authors = subprocess.run(
        ["git", "-C", str(remote), "log", "main", "--format=%an <%ae>"], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    # The first sync, the agent's local changes and the merge are the agent's; one is Tina's.
    assert set(authors) == {"Support bot (via MCP) <bot@example.com>", "Tina <tina@example.com>"}
    assert authors.count("Tina <tina@example.com>") == 1


def test_sync_without_a_remote_is_an_error_result(kb):
    async def go():
        async with session(kb) as s:
            message, code = await call_error(s, "sync", {})
            assert code == "not_set_up" and "remote" in message
            await call_ok(s, "search", {"query": "sms"})

    run(go())


def test_suggest_with_reply_draft_and_guards(kb):
    settings = (kb / "kb.yml").read_text().replace("competitors: []", "competitors: [Verizon]")
    (kb / "kb.yml").write_text(settings)

    async def go():
        async with session(kb) as s:
            data = await call_ok(
                s, "suggest",
                {"text": "my iphone keeps getting the same text message over and over", "author": "dana", "channel": "twitter"},
            )
            assert data["verdict"] == "known-fix"
            assert data["suggestions"][0]["id"] == "iphone-sms-repeats"
            assert data["suggestions"][0]["fix"][0].startswith("Power the phone off")
            reply = data["reply"]
            assert reply["text"].startswith("@dana ") and "Power the phone off" in reply["text"]
            assert reply["limit"] == 280 and reply["length"] <= 280
            assert reply["signature"] == "^SB"  # the agent's initials, from --as "Support bot <...>"
            assert data["guards"] == []

            # A JSON mention (X API v2 style is accepted too) from a competitor's unhappy customer.
            data = await call_ok(
                s, "suggest",
                {"mention": {"text": "Verizon support is useless, my texts keep repeating forever", "author": "@zed"}},
            )
            kinds = [g["kind"] for g in data["guards"]]
            assert "competitor" in kinds
            assert all(g["advice"] for g in data["guards"])

            # Nothing is written by suggest.
            assert not list((kb / "cases").rglob("*zed*"))

            message, code = await call_error(s, "suggest", {})
            assert code == "invalid_arguments" and "text" in message
            message, code = await call_error(s, "suggest", {"mention": "not an object"})
            assert code == "invalid_arguments" and "object" in message
            message, code = await call_error(s, "suggest", {"mention": {"author": "@x"}})
            assert code == "invalid_arguments" and "text" in message
            message, code = await call_error(s, "suggest", {"text": "sms", "mention": {"text": "sms"}})
            assert code == "invalid_arguments"
            message, code = await call_error(s, "suggest", {"text": "sms", "limit": 0})
            assert code == "invalid_arguments"
            await call_ok(s, "search", {"query": "sms"})

    run(go())


def test_case_open_from_a_json_mention(kb):
    tweet = {
        "data": {"id": "4963222851", "text": "@ATT my iPhone keeps re-sending the same text message over and over",
                 "author_id": "42", "created_at": "2009-10-20T16:05:00.000Z"},
        "includes": {"users": [{"id": "42", "username": "stevebuttry", "name": "Steve Buttry"}]},
    }

    async def go():
        async with session(kb) as s:
            opened = await call_ok(s, "case_open", {"mention": tweet, "assignee": "tina"})
            case = opened["case"]
            assert case["customer"] == "@stevebuttry"
            assert case["opened"] == "2009-10-20T16:05:00Z"
            assert case["assignee"] == "tina"
            assert "re-sending the same text message" in case["complaint"]
            message, code = await call_error(s, "case_open", {"mention": {"data": []}})
            assert code == "invalid_arguments" and "mention" in message
            message, code = await call_error(s, "case_open", {"mention": tweet, "text": "both"})
            assert code == "invalid_arguments"

    run(go())


def test_concurrent_calls_are_all_answered(kb):
    async def go():
        async with session(kb) as s:
            await call_ok(s, "case_open", {"text": "phone stuck in a loop", "id": "busy-case"})
            calls = []
            for i in range(10):
                calls.append(s.call_tool("case_log", {"id": "busy-case", "text": f"note {i}"}))
                calls.append(s.call_tool("search", {"query": "text message"}))
                calls.append(s.call_tool("show", {"id": f"missing-{i}"}))
            results = await asyncio.gather(*calls)
            assert [is_error(r) for r in results] == [False, False, True] * 10
            shown = await call_ok(s, "show", {"id": "busy-case"})
            assert sorted(e["text"] for e in shown["journal"]) == sorted(f"note {i}" for i in range(10))

    run(go())


if __name__ == "__main__":
    # A minimal runner for machines without pytest: every test_* function, each with its own
    # temporary folder.
    import inspect
    import shutil
    import tempfile
    import traceback

    failed = 0
    tests = [(name, f) for name, f in sorted(globals().items()) if name.startswith("test_") and callable(f)]
    for name, test in tests:
        folder = pathlib.Path(tempfile.mkdtemp(prefix="kbmcp-"))
        try:
            params = inspect.signature(test).parameters
            args = {"tmp_path": folder}
            if "kb" in params:
                args["kb"] = make_kb(folder)
            test(**{k: v for k, v in args.items() if k in params})
            print(f"ok   {name}")
        except Exception:
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
