#!/usr/bin/env python3
"""End-to-end test of `kb serve` in headless Chromium, as an agent would use it.

Starts the built `kb serve` on a temporary copy of kb/, drives Debian's chromium through
chromedriver with Selenium (PyPI), and checks the files on disk. Run by
Tests/KBWebTests/BrowserEndToEndTests.swift from `swift test`, or by hand:

    KB_BIN=.build/debug/kb .build/venv-web/bin/python Tests/web/test_web.py

With SCREENSHOTS=docs/screenshots it also saves a picture of each page.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KB_BIN = os.environ.get("KB_BIN", os.path.join(REPO, ".build", "debug", "kb"))
SHOTS = os.environ.get("SCREENSHOTS")
COMPLAINT = "my iphone keeps getting the same text over and over, how do I stop it??"
# Response-time targets added to the copy of kb/ (the sample sets none), so that the queue shows
# where each case stands.
SLA = "\nsla:\n  first_response: 1h\n  resolution: 30d\n"
AGENT = "Tina Ng <tina@example.com>"


class Server:
    """`kb serve` on a copy of kb/, on a free port."""

    def __init__(self, root, *extra):
        self.proc = subprocess.Popen(
            [KB_BIN, "serve", "--kb", root, "--port", "0", "--as", AGENT, "--poll", "0.2", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"http://[^/]+:(\d+)/", line)
        if not m:
            self.proc.kill()
            raise AssertionError("kb serve did not start: %r %s" % (line, self.proc.stderr.read()))
        self.port = int(m.group(1))
        self.base = "http://127.0.0.1:%d" % self.port

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def request(url, method="GET", body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def post_json(url, payload, headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return request(url, "POST", json.dumps(payload).encode(), h)


def browser():
    options = webdriver.ChromeOptions()
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000"]:
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


def shot(driver, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        height = driver.execute_script("return Math.min(document.body.scrollHeight, 2400)")
        driver.set_window_size(1280, max(700, height))
        driver.save_screenshot(os.path.join(SHOTS, name + ".png"))
        driver.set_window_size(1280, 1000)


def case_file(root, case_id):
    for folder, _, files in os.walk(os.path.join(root, "cases")):
        if case_id + ".md" in files:
            with open(os.path.join(folder, case_id + ".md"), encoding="utf-8") as f:
                return f.read()
    raise AssertionError("no file for case " + case_id)


def wait(driver, seconds=15):
    return WebDriverWait(driver, seconds)


def test_agent_flow(root, server, driver):
    base = server.base
    # The queue.
    driver.get(base + "/")
    assert "Queue" in driver.title, driver.title
    rows = driver.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")
    assert rows, "the queue shows the sample's open cases"
    # Where each case stands against the copy's targets (SLA below), as `kb cases` judges it.
    states = [e.get_attribute("data-sla") for e in driver.find_elements(By.CSS_SELECTOR, "table.queue [data-sla]")]
    assert len(states) == len(rows) and {"breached", "ok"} <= set(states), states
    wait(driver).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-events") == "open")
    shot(driver, "queue")

    # Paste a complaint: the repeating-SMS fix comes first.
    driver.find_element(By.LINK_TEXT, "New mention").click()
    box = driver.find_element(By.ID, "mention")
    box.send_keys(COMPLAINT)
    Select(driver.find_element(By.NAME, "channel")).select_by_value("twitter")
    driver.find_element(By.CSS_SELECTOR, "button[value=suggest]").click()
    first = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".suggestion[data-answer]")))
    assert first.get_attribute("data-answer") == "iphone-sms-repeats", first.get_attribute("data-answer")
    assert "Power the phone off" in first.text
    reply = driver.find_element(By.ID, "reply")
    assert reply.get_attribute("data-limit") == "280"
    shot(driver, "mention")

    # Edit the reply: the count follows (the script), then open the case and log the reply.
    edited = "Sorry about the loop! Power the phone off for a few minutes, then on again: it stops. ^TN"
    reply.clear()
    reply.send_keys(edited)
    count = driver.find_element(By.ID, "reply-count").text
    assert count.startswith("%d / 280" % len(edited)), count
    driver.find_element(By.CSS_SELECTOR, "button[value=send]").click()
    wait(driver).until(EC.url_contains("/cases/"))
    case_id = driver.current_url.split("/cases/")[1].split("?")[0]
    assert "reply logged as sent" in driver.page_source
    text = case_file(root, case_id)
    # Logged as `kb case reply` logs it: the known fix's reply is `acted` and names the fix.
    assert re.search(r"^- \S+ · Tina Ng · acted · Replied: " + re.escape(edited) + r" Fix: \[\[iphone-sms-repeats\]\]\.$", text, re.M), text
    shot(driver, "case")

    # Resolve with the suggested answer, checking back the same day: it is due.
    form = driver.find_element(By.CSS_SELECTOR, "form[action$='/resolve']")
    Select(form.find_element(By.NAME, "answer")).select_by_value("iphone-sms-repeats")
    form.find_element(By.NAME, "text").send_keys("Loop stopped after the power-off.")
    form.find_element(By.NAME, "follow_up").send_keys("0d")
    form.find_element(By.TAG_NAME, "button").click()
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".status-resolved")))
    text = case_file(root, case_id)
    assert "status: resolved" in text and "answer: iphone-sms-repeats" in text, text
    assert "· Tina Ng · resolved · Loop stopped after the power-off. Fix: [[iphone-sms-repeats]]." in text
    driver.find_element(By.LINK_TEXT, "Follow-ups").click()
    assert driver.find_elements(By.CSS_SELECTOR, "a[href='/cases/%s']" % case_id), "the resolved case is due"
    shot(driver, "due")
    return case_id


def test_script_is_text(server, driver):
    payload = {"text": "<script>window.pwned=1;alert('x')</script> my router <b>blinks</b> red",
               "author": "@mallory", "channel": "twitter"}
    status, _, body = post_json(server.base + "/api/mentions", payload)
    assert status == 201, (status, body)
    case_id = json.loads(body)["opened"][0]["case"]["id"]
    driver.get(server.base + "/cases/" + case_id)
    quote = driver.find_element(By.CSS_SELECTOR, "blockquote.complaint")
    assert "<script>window.pwned=1;alert('x')</script>" in quote.text, quote.text
    assert "<b>blinks</b>" in quote.text
    assert driver.execute_script("return window.pwned === undefined")
    try:
        driver.switch_to.alert
        raise AssertionError("an alert opened: the script ran")
    except NoAlertPresentException:
        pass
    csp = request(server.base + "/")[1].get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp, csp


def test_live_queue(server, driver):
    driver.get(server.base + "/")
    wait(driver).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-events") == "open")
    status, _, body = post_json(server.base + "/api/mentions", {"text": "live update check: my modem keeps rebooting at night", "author": "@liv"})
    assert status == 201, body
    case_id = json.loads(body)["opened"][0]["case"]["id"]
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr[data-case='%s']" % case_id)))


def test_file_edit_reaches_open_pages(root, server, driver):
    driver.get(server.base + "/")
    wait(driver).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-events") == "open")
    folder = os.path.join(root, "cases", "2026", "12")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "2026-12-01-edited-elsewhere.md"), "w", encoding="utf-8") as f:
        f.write("---\nid: 2026-12-01-edited-elsewhere\ntype: case\nstatus: open\nchannel: email\n"
                "customer: \"@ed\"\nopened: 2026-12-01T09:00:00Z\n---\n> Written by another tool.\n\n## Journal\n")
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr[data-case='2026-12-01-edited-elsewhere']")))


def test_odd_ids_open_from_links(root, server, driver):
    """Ids may hold `?`, `%` and any letter: the links are percent-encoded and open the pages."""
    answer_id, case_id = "wifi?-100%-réseau-ünï-日本", "2026-12-01-odd?-50%-ça"
    with open(os.path.join(root, "answers", "odd-id.md"), "w", encoding="utf-8") as f:
        f.write('---\nid: "%s"\ntype: answer\ntitle: Odd id answer about réseau\n---\n## Fix\n1. Restart the router.\n' % answer_id)
    folder = os.path.join(root, "cases", "2026", "12")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "odd-case.md"), "w", encoding="utf-8") as f:
        f.write('---\nid: "%s"\ntype: case\ntitle: Odd id case\nstatus: open\nchannel: twitter\ncustomer: "@odd"\n'
                'opened: 2026-12-01T10:00:00Z\nanswer: "%s"\n---\n> my wifi keeps dropping\n\n## Journal\n'
                '- 2026-12-01T10:05:00Z · Tina Ng · note · Looks like [[%s]].\n' % (case_id, answer_id, answer_id))
    driver.get(server.base + "/")
    row = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr[data-case='%s'] a" % case_id)))
    assert "%3F-50%25-%C3%A7a" in row.get_attribute("href"), row.get_attribute("href")
    row.click()
    wait(driver).until(EC.title_contains("Odd id case"))
    driver.find_element(By.CSS_SELECTOR, ".facts a[href^='/answers/']").click()
    wait(driver).until(EC.title_contains("Odd id answer about réseau"))
    driver.back()
    wait(driver).until(EC.title_contains("Odd id case"))
    driver.find_element(By.CSS_SELECTOR, ".timeline a[href^='/documents/']").click()
    wait(driver).until(EC.title_contains("Odd id answer about réseau"))


def test_pages_and_screenshots(server, driver):
    for path, check in [("/answers/iphone-sms-repeats", "Cases it fixed"), ("/search?q=text+repeats", "<mark>"),
                        ("/stats", "<svg"), ("/sync", "Sync now"), ("/conflicts", "Conflicts")]:
        driver.get(server.base + path)
        assert check in driver.page_source, path
        shot(driver, path.strip("/").split("?")[0].split("/")[0])


def test_rebinding_and_origin(server):
    status, _, _ = request(server.base + "/", headers={"Host": "rebound.example:%d" % server.port})
    assert status == 421, status
    status, _, _ = post_json(server.base + "/api/mentions", {"text": "x"}, {"Origin": "http://evil.example"})
    assert status == 403, status
    status, _, _ = request(server.base + "/api/mentions", "POST", b'{"text": "x"}', {"Content-Type": "text/plain"})
    assert status == 415, status


def test_token_off_loopback(root, driver):
    # No token, no address but loopback.
    result = subprocess.run([KB_BIN, "serve", "--kb", root, "--host", "0.0.0.0", "--port", "0"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 64, (result.returncode, result.stderr)
    assert "without a token" in result.stderr, result.stderr
    token = "e2e-token-0123456789abcdef"
    token_file = os.path.join(tempfile.mkdtemp(), "token")
    with open(token_file, "w") as f:
        f.write(token + "\n")
    server = Server(root, "--host", "0.0.0.0", "--token-file", token_file)
    try:
        status, _, body = request(server.base + "/")
        assert status == 401, status
        status, _, _ = request(server.base + "/api/queue")
        assert status == 401, status
        status, _, _ = post_json(server.base + "/api/mentions", {"text": "no token"})
        assert status == 401, status
        status, _, body = request(server.base + "/api/queue", headers={"Authorization": "Bearer " + token})
        assert status == 200, status
        driver.get(server.base + "/")
        assert "needs its token" in driver.page_source
        driver.get(server.base + "/?token=" + token)
        assert "Queue" in driver.title, driver.title
        assert "token=" not in driver.current_url
    finally:
        server.stop()


def main():
    if not os.access(KB_BIN, os.X_OK):
        raise SystemExit("kb is not built at %s (swift build)" % KB_BIN)
    work = tempfile.mkdtemp(prefix="kbweb-e2e-")
    root = os.path.join(work, "kb")
    shutil.copytree(os.path.join(REPO, "kb"), root)
    with open(os.path.join(root, "kb.yml"), "a", encoding="utf-8") as f:
        f.write(SLA)
    server = Server(root)
    driver = browser()
    passed = failed = 0
    tests = [
        ("agent flow: queue, paste, fix, edit and send reply, resolve, due", lambda: test_agent_flow(root, server, driver)),
        ("a mention with <script> shows as text", lambda: test_script_is_text(server, driver)),
        ("the queue updates live when a mention arrives", lambda: test_live_queue(server, driver)),
        ("a file written by another tool reaches the open queue", lambda: test_file_edit_reaches_open_pages(root, server, driver)),
        ("ids with ?, % and accents open from their links", lambda: test_odd_ids_open_from_links(root, server, driver)),
        ("pages render", lambda: test_pages_and_screenshots(server, driver)),
        ("DNS rebinding, Origin and content type are refused", lambda: test_rebinding_and_origin(server)),
        ("off loopback, every request needs the token", lambda: test_token_off_loopback(root, driver)),
    ]
    try:
        for name, test in tests:
            try:
                test()
                passed += 1
                print("ok - " + name, flush=True)
            except Exception as e:  # report every test, then fail
                failed += 1
                print("FAIL - %s: %s: %s" % (name, type(e).__name__, e), flush=True)
    finally:
        driver.quit()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
