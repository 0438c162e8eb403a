#!/usr/bin/env python3
"""`kb serve` on an address that is not loopback: refused without a token, and with one, every
request without it refused. Standard library only.

Run by Tests/KBWebTests/OffLoopbackTests.swift, in one of two ways:

    unshare -rn python3 Tests/web/off_loopback.py KB ROOT namespace
        inside a private user and network namespace: adds 10.23.0.1 (not loopback) to the
        namespace's own interface, serves on it, and connects to it there;
    python3 Tests/web/off_loopback.py KB ROOT host IP
        serves on 0.0.0.0 and connects through IP, one of this machine's non-loopback addresses
        (`hostname -I`).

Prints `ok - …` per check and `N passed, M failed`; exits 1 when a check failed.
"""
import http.client
import ipaddress
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

KB, ROOT, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
TOKEN = "off-loopback-0123456789abcdef"
NAMESPACE_ADDRESS = "10.23.0.1"


def setup():
    """The address to serve on and the one to connect to."""
    if MODE == "namespace":
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", NAMESPACE_ADDRESS + "/32", "dev", "lo"]):
            subprocess.run(cmd, check=True)
        return NAMESPACE_ADDRESS, NAMESPACE_ADDRESS
    return "0.0.0.0", sys.argv[4]


def cases():
    return sorted(os.path.join(d, f) for d, _, files in os.walk(os.path.join(ROOT, "cases")) for f in files)


def main():
    bind, connect = setup()
    assert not ipaddress.ip_address(connect).is_loopback, connect
    results = []

    def check(name, condition, detail=""):
        results.append(bool(condition))
        print(("ok - " if condition else "FAIL - ") + name + ("" if condition else ": " + str(detail)), flush=True)

    # Without --token-file, any address but loopback is refused (usage error, exit 64).
    refused = subprocess.run([KB, "serve", "--kb", ROOT, "--host", bind, "--port", "0"], capture_output=True, text=True, timeout=60)
    check("kb serve --host %s without a token exits 64" % bind, refused.returncode == 64 and "without a token" in refused.stderr,
          (refused.returncode, refused.stderr))

    token_file = os.path.join(tempfile.mkdtemp(), "token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    server = subprocess.Popen([KB, "serve", "--kb", ROOT, "--host", bind, "--port", "0", "--token-file", token_file,
                               "--as", "Tina Ng <tina@example.com>"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        m = re.search(r":(\d+)/", line)
        if not m:
            check("kb serve starts with --token-file", False, (line, server.stderr.read()))
            return results
        port = int(m.group(1))

        def request(method, path, body=None, headers=None):
            conn = http.client.HTTPConnection(connect, port, timeout=30)
            conn.request(method, path, body=body, headers=dict({"Host": "%s:%d" % (connect, port)}, **(headers or {})))
            r = conn.getresponse()
            data = r.read().decode("utf-8", "replace")
            # The server saw us from a non-loopback address: the socket's own end is not 127.x.
            local = conn.sock.getsockname()[0] if conn.sock else None
            conn.close()
            return r.status, dict(r.getheaders()), data, local

        before = cases()
        status, _, body, local = request("GET", "/")
        check("the page without the token is refused (401) from %s" % local,
              status == 401 and local and not ipaddress.ip_address(local).is_loopback, (status, local, body[:200]))
        status, _, body, _ = request("GET", "/api/queue")
        check("the JSON API without the token is refused (401)", status == 401 and '"error"' in body, (status, body[:200]))
        status, _, _, _ = request("GET", "/api/queue", headers={"Authorization": "Bearer wrong-token-000000000000"})
        check("a wrong token is refused (401)", status == 401, status)
        status, _, _, _ = request("POST", "/api/mentions", body='{"text": "my phone keeps rebooting", "author": "@x"}',
                                  headers={"Content-Type": "application/json"})
        check("a write without the token is refused (401) and writes nothing", status == 401 and cases() == before, status)
        status, _, body, _ = request("GET", "/api/queue", headers={"Authorization": "Bearer " + TOKEN})
        check("with the token the API answers (200)", status == 200 and '"items"' in body, (status, body[:200]))
        status, headers, _, _ = request("GET", "/?token=" + TOKEN)
        cookie = headers.get("Set-Cookie", "")
        check("?token= sets the cookie and drops the token from the address", status == 303 and "kb_token=" in cookie
              and "token=" not in headers.get("Location", ""), (status, headers))
        status, _, body, _ = request("GET", "/", headers={"Cookie": cookie.split(";")[0]})
        check("with the cookie the queue opens (200)", status == 200 and "Queue" in body, status)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return results


if __name__ == "__main__":
    results = main()
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    sys.exit(0 if results and all(results) else 1)
