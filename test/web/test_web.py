#!/usr/bin/python3
"""The dashboard (web/) and c2d-http's static file server, against the real
broker + plugin + c2d-http (test/web/webfix.py) with devices on
libc2d-device (build/c2d-device), in headless Chromium (Selenium).
Screenshots of each page go to --shots (1280x800 and 390x844).
Prints Check's summary line for scripts/run-tests.sh.
Usage: test_web.py --plugin SO --http BIN --device BIN --web DIR [--shots DIR] [-k pattern]"""
import argparse
import http.client
import os
import sys
import time
import unittest

import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

import webfix

ARGS = None
STACK = None
API = None
DEVS = None
DRIVER = None
WAIT = 20
LAMP1_INFO = '{"fw":"2.1.0","model":"L-60","methods":["blink","getStatus"]}'


def raw_get(path, headers=None):
    """GET with the path exactly as given (no client-side normalisation)."""
    c = http.client.HTTPConnection("127.0.0.1", STACK.http_port, timeout=10)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict(r.getheaders()), body


def viewport(width, height):
    DRIVER.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def shot(name):
    if ARGS.shots:
        os.makedirs(ARGS.shots, exist_ok=True)
        DRIVER.save_screenshot(os.path.join(ARGS.shots, name + ".png"))


def wait_for(cond, what, timeout=WAIT):
    try:
        return WebDriverWait(DRIVER, timeout, poll_frequency=0.2).until(cond, "timed out waiting for " + what)
    except Exception:
        # what the page showed, for the report (the stack's dir is kept on failure)
        try:
            DRIVER.save_screenshot(os.path.join(STACK.dir, "failed-%d.png" % time.time()))
            print("page text:", DRIVER.find_element(By.TAG_NAME, "body").text[:1500])
            print("console:", DRIVER.get_log("browser")[-10:])
        except Exception as e:  # noqa: BLE001 - best effort
            print("no page state:", e)
        raise


def text_in(el_id, text):
    return wait_for(EC.text_to_be_present_in_element((By.ID, el_id), text), "%r in #%s" % (text, el_id))


def css_text(sel):
    """textContent of the element sel names now, or None (rows are replaced live)."""
    return DRIVER.execute_script("const e = document.querySelector(arguments[0]); return e && e.textContent;", sel)


def css_attr(sel, name):
    return DRIVER.execute_script("const e = document.querySelector(arguments[0]); return e && e.getAttribute(arguments[1]);",
                                 sel, name)


def settle(quiet=1.0, timeout=15.0):
    """Waits until the page made no request for `quiet` seconds (its first
    loads and the alert history scan are done)."""
    end = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < end:
        n = DRIVER.execute_script("return performance.getEntriesByType('resource').length")
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.2)


def go(hash_):
    """A fresh load of the page (a new hash alone would not reload it)."""
    DRIVER.get("about:blank")
    DRIVER.get(STACK.base + "/" + hash_)
    wait_for(lambda d: d.execute_script("return document.readyState") == "complete", "page load")


def sign_in(user, password):
    go("#/fleet")
    btn = wait_for(EC.element_to_be_clickable((By.CSS_SELECTOR, "#signin-open, #signout")), "the sign-in button")
    if btn.get_attribute("id") == "signout":
        btn.click()
        btn = wait_for(EC.element_to_be_clickable((By.ID, "signin-open")), "the sign-in button")
    btn.click()
    u = wait_for(EC.visibility_of_element_located((By.ID, "signin-user")), "the sign-in dialog")
    u.clear()
    u.send_keys(user)
    p = DRIVER.find_element(By.ID, "signin-pass")
    p.clear()
    p.send_keys(password)
    DRIVER.find_element(By.ID, "signin-submit").click()


def operator():
    """Signed in as the operator, console errors of the sign-in dropped."""
    sign_in(*webfix.OP)
    text_in("who", "Signed in as operator")
    webfix.console_errors(DRIVER)


class Static(unittest.TestCase):
    """http/static.c: web/ at /, content types, validators, no way out of it."""

    def test_index_and_content_types(self):
        for path, ctype in (("/", "text/html"), ("/index.html", "text/html"), ("/js/app.js", "text/javascript"),
                            ("/css/app.css", "text/css"), ("/favicon.svg", "image/svg+xml")):
            r = requests.get(STACK.base + path, timeout=10)
            self.assertEqual(r.status_code, 200, path)
            self.assertEqual(r.headers["Content-Type"].split(";")[0], ctype, path)
            self.assertEqual(r.headers["Cache-Control"], "no-cache")
            self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")
            self.assertIn("default-src 'self'", r.headers["Content-Security-Policy"])
            self.assertTrue(r.headers["ETag"].startswith('"'))
        with open(os.path.join(ARGS.web, "js", "app.js"), "rb") as f:
            self.assertEqual(requests.get(STACK.base + "/js/app.js", timeout=10).content, f.read())

    def test_etag_304_and_head(self):
        r = requests.get(STACK.base + "/css/app.css", timeout=10)
        r2 = requests.get(STACK.base + "/css/app.css", headers={"If-None-Match": r.headers["ETag"]}, timeout=10)
        self.assertEqual(r2.status_code, 304)
        self.assertEqual(r2.content, b"")
        r3 = requests.get(STACK.base + "/css/app.css", headers={"If-None-Match": '"other"'}, timeout=10)
        self.assertEqual(r3.status_code, 200)
        h = requests.head(STACK.base + "/", timeout=10)
        self.assertEqual(h.status_code, 200)
        self.assertEqual(h.content, b"")
        self.assertEqual(int(h.headers["Content-Length"]), len(requests.get(STACK.base + "/", timeout=10).content))

    def test_no_traversal(self):
        outside = os.path.join(os.path.dirname(ARGS.web.rstrip("/")), "secret-%d.txt" % os.getpid())
        link = os.path.join(ARGS.web, "link-%d.txt" % os.getpid())
        with open(outside, "w") as f:
            f.write("TOP-SECRET-CONTENT")
        os.symlink(outside, link)
        try:
            name = os.path.basename(outside)
            for path in ("/../" + name, "/%2e%2e/" + name, "/js/%2E%2E/%2E%2E/" + name, "/js/..%2F..%2F" + name,
                         "/" + os.path.basename(link), "/.hidden", "/js/./app.js", "/..%5C" + name,
                         "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/js", "/js/"):
                status, headers, body = raw_get(path)
                self.assertEqual(status, 404, path)
                self.assertNotIn(b"TOP-SECRET", body, path)
                self.assertNotIn(b"root:", body, path)
        finally:
            os.unlink(link)
            os.unlink(outside)

    def test_missing_is_json_404_and_api_untouched(self):
        r = requests.get(STACK.base + "/nope.html", timeout=10)
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json(), {"status": 404, "error": "no such path: /nope.html"})
        r = requests.get(STACK.base + "/api/v1/index.html", timeout=10)
        self.assertEqual(r.status_code, 404)
        r = requests.post(STACK.base + "/index.html", timeout=10)
        self.assertEqual(r.status_code, 404)
        r = requests.get(STACK.base + "/api/v1/openapi.json", timeout=10)
        self.assertEqual(r.status_code, 200)
        self.assertNotIn("/index.html", r.json()["paths"])

    def test_challenge_unless_script(self):
        r = requests.get(STACK.base + "/api/v1/devices/lamp-1/twin", timeout=10)
        self.assertEqual(r.status_code, 401)
        self.assertIn("Basic", r.headers.get("WWW-Authenticate", ""))
        r = requests.get(STACK.base + "/api/v1/devices/lamp-1/twin", headers={"X-Requested-With": "c2d-dashboard"},
                         timeout=10)
        self.assertEqual(r.status_code, 401)
        self.assertNotIn("WWW-Authenticate", r.headers)

    def test_web_dir_off_and_missing(self):
        for web_dir in ("", "/nonexistent-web-dir"):
            port = webfix.httpfix.free_port()
            p = webfix.subprocess.Popen([ARGS.http, "--port", str(port), "--mqtt-port", str(STACK.mqtt_port),
                                         "--web-dir", web_dir], stdout=webfix.subprocess.DEVNULL,
                                        stderr=webfix.subprocess.DEVNULL)
            try:
                self.assertTrue(webfix.httpfix.wait_port(port))
                r = requests.get("http://127.0.0.1:%d/" % port, timeout=10)
                self.assertEqual(r.status_code, 404, web_dir)
                self.assertEqual(r.json()["status"], 404)
            finally:
                p.terminate()
                p.wait(10)
        out = webfix.subprocess.run([ARGS.http, "--help"], capture_output=True, text=True).stdout
        self.assertIn("--web-dir", out)


class Pages(unittest.TestCase):
    """Each page in the browser, signed in as the operator."""

    @classmethod
    def setUpClass(cls):
        viewport(1280, 800)
        operator()

    def setUp(self):
        viewport(1280, 800)
        webfix.console_errors(DRIVER)  # each test's console is its own

    def assert_clean_console(self, where):
        errs = webfix.console_errors(DRIVER)
        self.assertEqual(errs, [], where)

    def assert_labelled(self, where):
        bad = DRIVER.execute_script("""
          return [...document.querySelectorAll('input, select, textarea, button')].filter((el) => {
            if (el.closest('dialog:not([open])') || el.type === 'hidden') return false;
            const name = (el.labels && el.labels.length) || el.getAttribute('aria-label') ||
              el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim());
            return !name;
          }).map((el) => el.outerHTML.slice(0, 80));""")
        self.assertEqual(bad, [], where + ": controls without a label")

    def test_a_pages_load_clean_and_labelled(self):
        for hash_, h1, name in (("#/fleet", "Fleet", "fleet"), ("#/device/lamp-1", "Device lamp-1", "device"),
                                ("#/alerts", "Alerts", "alerts"), ("#/events", "Live events", "events"),
                                ("#/jobs", "Jobs", "jobs")):
            go(hash_)
            wait_for(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), h1), h1)
            text_in("live-state", "Live")
            time.sleep(0.5)  # let the page's first requests finish
            self.assert_clean_console(hash_)
            self.assert_labelled(hash_)
            # readable at 1280 px: nothing wider than the viewport
            self.assertLessEqual(DRIVER.execute_script("return document.documentElement.scrollWidth"), 1281, hash_)

    def test_b_fleet_search_tags_queue_and_pages(self):
        for i in range(60):
            r = API.req("PATCH", "/api/v1/devices/pump-%03d/twin/tags" % i,
                        json={"site": "berlin" if i % 2 else "paris", "n": i})
            self.assertEqual(r.status_code, 200, r.text)
        for _ in range(3):
            self.assertEqual(API.req("POST", "/api/v1/devices/pump-007/messages?ttl=600", data="x").status_code, 202)
        go("#/fleet")
        text_in("fleet-table", "lamp-1")
        DRIVER.find_element(By.ID, "fleet-id").send_keys("pump-")
        DRIVER.find_element(By.ID, "fleet-apply").click()
        text_in("fleet-table", "pump-049")
        rows = DRIVER.find_elements(By.CSS_SELECTOR, "#fleet-table tbody tr")
        self.assertEqual(len(rows), 50)
        DRIVER.find_element(By.ID, "fleet-next").click()
        text_in("fleet-table", "pump-050")
        self.assertNotIn("pump-049", DRIVER.find_element(By.ID, "fleet-table").text)
        DRIVER.find_element(By.ID, "fleet-prev").click()
        text_in("fleet-table", "pump-000")
        # queue depth of pump-007
        self.assertEqual(css_text('#fleet-table tr[data-device="pump-007"] .c-queue'), "3")
        # search: id prefix + tag, then a query
        DRIVER.find_element(By.ID, "fleet-id").clear()
        DRIVER.find_element(By.ID, "fleet-id").send_keys("pump-00")
        DRIVER.find_element(By.ID, "fleet-tags").send_keys("site=berlin")
        DRIVER.find_element(By.ID, "fleet-apply").click()
        wait_for(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#fleet-table tbody tr[data-device]")) == 5, "5 rows")
        got = [e.get_attribute("data-device") for e in DRIVER.find_elements(By.CSS_SELECTOR, "#fleet-table tbody tr")]
        self.assertEqual(got, ["pump-001", "pump-003", "pump-005", "pump-007", "pump-009"])
        self.assertIn("site=berlin", DRIVER.find_element(By.ID, "fleet-table").text)
        DRIVER.find_element(By.ID, "fleet-id").clear()
        DRIVER.find_element(By.ID, "fleet-tags").clear()
        DRIVER.find_element(By.ID, "fleet-query").send_keys('{"tags.n":{"$gte":58}}')
        DRIVER.find_element(By.ID, "fleet-apply").click()
        wait_for(lambda d: [e.get_attribute("data-device") for e in
                            d.find_elements(By.CSS_SELECTOR, "#fleet-table tbody tr[data-device]")] ==
                 ["pump-058", "pump-059"], "the query's rows")
        # a bad query is refused with the reason, on the page
        q = DRIVER.find_element(By.ID, "fleet-query")
        q.clear()
        q.send_keys('{"tags.n":{"$regex":"x"}}')
        DRIVER.find_element(By.ID, "fleet-apply").click()
        wait_for(lambda d: "$regex" in d.find_element(By.CSS_SELECTOR, "main .msg.error").text, "the query error")
        shot("fleet-query-error")
        q.clear()
        DRIVER.find_element(By.ID, "fleet-apply").click()
        text_in("fleet-table", "lamp-1")
        shot("fleet")

    def test_c_presence_live_over_sse(self):
        DEVS.stop("lamp-2")
        API.wait_online("lamp-2", False)
        go("#/fleet")
        sel = '#fleet-table tr[data-device="lamp-2"] .c-online'
        wait_for(lambda d: (css_text(sel) or "").startswith("offline"), "lamp-2 offline")
        settle()
        DRIVER.execute_script("performance.clearResourceTimings()")
        DEVS.start("lamp-2", "-s", "202")
        wait_for(lambda d: (css_text(sel) or "").startswith("online"), "lamp-2 online, live")
        # no polling: in a quiet 6 s the page makes at most the throttled refreshes
        time.sleep(6)
        got = DRIVER.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
        self.assertLessEqual(len(got), 4, "requests while idle: %s" % got)

    def test_d_desired_editor_acknowledged(self):
        go("#/device/lamp-1")
        text_in("twin-desired-version", "version")
        ver = int(DRIVER.find_element(By.ID, "twin-desired-version").text.split()[-1])
        patch = DRIVER.find_element(By.ID, "desired-patch")
        patch.clear()
        patch.send_keys('{"power":"on","level":70}')
        DRIVER.find_element(By.ID, "desired-apply").click()
        text_in("desired-result", "Applied: desired version %d" % (ver + 1))
        text_in("twin-ack", "The device acknowledged desired version %d" % (ver + 1))
        self.assertIn('"level": 70', DRIVER.find_element(By.ID, "twin-desired").text)
        text_in("device-events", "c2d.twin.desired.acknowledged")
        # the editor's version check follows the twin
        label = DRIVER.find_element(By.CSS_SELECTOR, "label[for=desired-ifmatch]").text
        self.assertEqual(label, "Only if desired is still version %d (If-Match)" % (ver + 1))
        shot("device")

    def test_e_rpc_button_answer(self):
        go("#/device/lamp-1")
        btn = wait_for(EC.element_to_be_clickable((By.CSS_SELECTOR, '#rpc-buttons button[data-method="blink"]')),
                       "the blink button")
        params = DRIVER.find_element(By.ID, "rpc-params")
        params.clear()
        params.send_keys('{"times":3}')
        btn.click()
        text_in("rpc-result", "blink: status 200")
        self.assertEqual(DRIVER.find_element(By.ID, "rpc-answer").text, '{"ok":true}')
        # an offline device: 404 at once, shown as the answer
        go("#/device/nodev")
        m = wait_for(EC.element_to_be_clickable((By.ID, "rpc-method")), "the method field")
        m.send_keys("ping")
        DRIVER.find_element(By.ID, "rpc-call").click()
        text_in("rpc-result", "ping: status 404")
        self.assertIn("device is offline", DRIVER.find_element(By.ID, "rpc-answer").text)

    def test_f_persistent_rpc_states_live(self):
        go("#/device/lamp-1")
        m = wait_for(EC.element_to_be_clickable((By.ID, "rpc-method")), "the method field")
        m.send_keys("reboot")
        DRIVER.find_element(By.ID, "rpc-persistent").click()
        DRIVER.find_element(By.ID, "rpc-call").click()
        text_in("rpc-states", "successful")
        states = [li.text.split()[0] for li in DRIVER.find_elements(By.CSS_SELECTOR, "#rpc-states li")]
        self.assertEqual(states[0], "queued")
        self.assertIn("sent", states)
        self.assertEqual(states[-1], "successful")
        text_in("commands-table", "successful")

    def test_g_message_with_ttl(self):
        go("#/device/vent-9")
        p = wait_for(EC.element_to_be_clickable((By.ID, "msg-payload")), "the payload field")
        p.send_keys("hello vent")
        ttl = DRIVER.find_element(By.ID, "msg-ttl")
        ttl.clear()
        ttl.send_keys("120")
        DRIVER.find_element(By.ID, "msg-send").click()
        text_in("msg-result", "Queued as q")
        qid = DRIVER.find_element(By.ID, "msg-result").text.split()[2]
        sel = '#commands-table tr[data-id="%s"]' % qid
        wait_for(lambda d: css_attr(sel, "data-state") == "queued", "the message's row, queued")
        live = API.admin({"command": "listCommands", "device": "vent-9"})["commands"]
        c = [c for c in live if c["id"] == qid][0]
        self.assertLessEqual(abs(c["expiresMs"] - c["createdMs"] - 120000), 1000)
        # cancel from the table
        DRIVER.find_element(By.CSS_SELECTOR, sel + " button").click()
        wait_for(lambda d: css_attr(sel, "data-state") == "cancelled", "cancelled")

    def test_h_timed_out_rpc_alert_and_retry(self):
        # lamp-2 answers every delivery 202 (accepted) and never the result
        API.wait_online("lamp-2")
        go("#/alerts")
        r = API.req("POST", "/api/v1/devices/lamp-2/rpc/scan?persistent=true&timeout=1000&retries=0")
        self.assertEqual(r.status_code, 202, r.text)
        qid = r.json()["id"]
        key = "lamp-2/" + qid
        row = wait_for(EC.presence_of_element_located((By.CSS_SELECTOR, '#alerts-table tr[data-key="%s"]' % key)),
                       "the timed-out RPC under alerts")
        self.assertIn("timeout", row.text)
        self.assertIn("504", row.text)
        wait_for(lambda d: d.find_element(By.ID, "alert-count").is_displayed() and
                 int(d.find_element(By.ID, "alert-count").text) >= 1, "the header's alert count")
        shot("alerts")
        # the device comes back answering 200: retry re-queues the call and it succeeds
        DEVS.start("lamp-2", "-r", '{"scanned":true}')
        API.wait_online("lamp-2")
        row.find_element(By.XPATH, ".//button[text()='Retry']").click()
        wait_for(lambda d: not d.find_elements(By.CSS_SELECTOR, '#alerts-table tr[data-key="%s"]' % key),
                 "the alert gone after retry")
        done = API.wait("%s successful" % qid, lambda: [
            c for c in API.admin({"command": "listCommands", "device": "lamp-2", "history": True})["commands"]
            if c["id"] == qid and c.get("finalState") == "successful"])
        self.assertEqual(done[0]["deliveries"], 1)

    def test_i_alerts_from_history_after_reload(self):
        # an expired message of an offline device, then a fresh page: found by the history scan
        r = API.req("POST", "/api/v1/devices/gone-1/messages?ttl=1", data="late")
        self.assertEqual(r.status_code, 202)
        qid = r.json()["id"]
        API.wait("the expiry", lambda: [c for c in API.admin({"command": "listCommands", "device": "gone-1",
                                                              "history": True})["commands"]
                                        if c.get("finalState") == "expired"], timeout=10)
        go("#/alerts")
        row = wait_for(EC.presence_of_element_located((By.CSS_SELECTOR,
                                                       '#alerts-table tr[data-key="gone-1/%s"]' % qid)),
                       "the expired message from history")
        self.assertIn("history", row.text)
        row.find_element(By.XPATH, ".//button[text()='Dismiss']").click()
        wait_for(lambda d: not d.find_elements(By.CSS_SELECTOR, '#alerts-table tr[data-key="gone-1/%s"]' % qid),
                 "dismissed")
        self.assert_clean_console("alerts")

    def test_j_events_page_live(self):
        go("#/events")
        text_in("live-state", "Live")
        API.req("PATCH", "/api/v1/devices/lamp-1/twin/tags", json={"ring": "canary"})
        text_in("events-table", "c2d.twin.tags.changed")
        shot("events")

    def create_job(self, job, target, payload="", ttl="", kind="devices"):
        """Fills the jobs page's form (a msg job) and submits it."""
        f = wait_for(EC.element_to_be_clickable((By.ID, "job-id")), "the job form")
        f.send_keys(job)
        Select(DRIVER.find_element(By.ID, "job-target-kind")).select_by_value(kind)
        DRIVER.find_element(By.ID, "job-target").send_keys(target)
        DRIVER.find_element(By.ID, "job-payload").send_keys(payload)
        DRIVER.find_element(By.ID, "job-ttl").send_keys(ttl)
        DRIVER.find_element(By.ID, "job-create").click()

    def click_css(self, sel, what):
        """Clicks what sel names once it is there (rows are replaced live)."""
        wait_for(lambda d: d.execute_script("const e = document.querySelector(arguments[0]); if (e) e.click(); return !!e;",
                                            sel), what)

    def job_cell(self, job, cls):
        return css_text('#jobs-table tr[data-job="%s"] .%s' % (job, cls)) or ""

    def test_j_jobs_a_msg_to_two_devices_live(self):
        go("#/jobs")
        text_in("live-state", "Live")
        settle()
        self.create_job("web-msg-1", "lamp-1, lamp-2", "reload", "60")
        text_in("job-form-msg", "Job web-msg-1 created")
        # the page does not poll: only job events move the bar to 100%
        wait_for(lambda d: "100%" in self.job_cell("web-msg-1", "c-progress")
                 and "completed" in self.job_cell("web-msg-1", "c-state"), "web-msg-1 at 100%, completed", 40)
        self.assertIn("2/2", self.job_cell("web-msg-1", "c-progress"))
        self.assertIn("succeeded 2", self.job_cell("web-msg-1", "c-progress"))
        j = API.admin({"command": "getJob", "job": "web-msg-1"})
        self.assertEqual((j["state"], j["counts"]["succeeded"]), ("completed", 2))
        self.click_css('button[aria-label="Devices of web-msg-1"]', "the devices button")
        text_in("job-devices-table", "lamp-2")
        self.assertIn("succeeded", DRIVER.find_element(By.ID, "job-devices-table").text)
        self.assert_clean_console("#/jobs")
        self.assert_labelled("#/jobs")
        DRIVER.execute_script("window.scrollTo(0, 0)")
        shot("jobs")

    def test_j_jobs_b_offline_device_cancel(self):
        go("#/jobs")
        settle()
        self.create_job("web-off-1", "sensor-1", "later", "600")
        text_in("job-form-msg", "Job web-off-1 created")
        wait_for(lambda d: "running" in self.job_cell("web-off-1", "c-state"), "web-off-1 running")
        self.assertIn("0%", self.job_cell("web-off-1", "c-progress"))
        self.click_css('button[aria-label="Cancel web-off-1"]', "the cancel button")
        wait_for(lambda d: "cancelled" in self.job_cell("web-off-1", "c-state"), "web-off-1 cancelled")
        self.assertEqual(API.admin({"command": "getJob", "job": "web-off-1"})["state"], "cancelled")
        self.assertIsNone(css_text('#jobs-table tr[data-job="web-off-1"] button.danger'))
        # its devices, filtered by state
        self.click_css('button[aria-label="Devices of web-off-1"]', "the devices button")
        text_in("job-devices-table", "sensor-1")
        Select(DRIVER.find_element(By.ID, "job-dev-state")).select_by_value("succeeded")
        text_in("job-devices-table", "No devices on this page")
        self.assert_clean_console("#/jobs")

    def test_j_jobs_c_bad_spec_shows_the_error(self):
        go("#/jobs")
        settle()
        # the plugin's refusal, as it says it: a duplicate id is 409
        self.create_job("web-msg-1", "lamp-1", "again")
        text_in("job-form-msg", "The plugin refused the job: 409")
        self.assertIn("error", DRIVER.find_element(By.ID, "job-form-msg").get_attribute("class"))
        # a where query the plugin does not understand
        DRIVER.find_element(By.ID, "job-id").clear()
        DRIVER.find_element(By.ID, "job-target").clear()
        self.create_job("web-bad-1", '{"tags.site":{"$nope":1}}', "x", kind="where")
        text_in("job-form-msg", "The plugin refused the job: 400")
        # and JSON that is no JSON, said before anything is sent
        DRIVER.find_element(By.ID, "job-id").clear()
        DRIVER.find_element(By.ID, "job-target").clear()
        self.create_job("web-bad-2", '{"tags.site":', "x", kind="where")
        text_in("job-form-msg", "The where query is not valid JSON")
        self.assertIsNone(css_text('#jobs-table tr[data-job="web-bad-1"]'))
        self.assert_clean_console("#/jobs")

    def test_k_keyboard(self):
        go("#/fleet")
        text_in("fleet-table", "lamp-1")
        ActionChains(DRIVER).send_keys(Keys.TAB).perform()
        self.assertEqual(DRIVER.switch_to.active_element.get_attribute("textContent"), "Skip to content")
        seen = []
        for _ in range(12):
            DRIVER.switch_to.active_element.send_keys(Keys.TAB)
            seen.append(DRIVER.switch_to.active_element.text.strip() or
                        DRIVER.switch_to.active_element.get_attribute("id"))
        self.assertIn("Alerts", " ".join(seen))
        self.assertIn("fleet-id", seen)
        # Enter on a nav link moves to its page and puts focus on its heading
        link = DRIVER.find_element(By.CSS_SELECTOR, 'nav.main a[data-page="events"]')
        link.send_keys(Keys.ENTER)
        wait_for(lambda d: d.switch_to.active_element.tag_name == "h1", "focus on the heading")
        self.assertEqual(DRIVER.switch_to.active_element.text, "Live events")
        self.assertEqual(link.get_attribute("aria-current"), "page")
        # a visible focus ring
        outline = DRIVER.execute_script("return getComputedStyle(document.querySelector('nav.main a')).outlineStyle")
        self.assertIsNotNone(outline)

    def test_l_phone_width(self):
        viewport(390, 844)
        for hash_, name, marker in (("#/fleet", "fleet-phone", "fleet-table"), ("#/device/lamp-1", "device-phone",
                                                                               "twin-desired"),
                                    ("#/alerts", "alerts-phone", "alerts-table"), ("#/jobs", "jobs-phone", "jobs-table")):
            go(hash_)
            wait_for(EC.presence_of_element_located((By.ID, marker)), marker)
            time.sleep(0.5)
            self.assertLessEqual(DRIVER.execute_script("return document.documentElement.scrollWidth"), 391, hash_)
            shot(name)
        viewport(1280, 800)


class Auth(unittest.TestCase):
    """401 and 403 said clearly on the page."""

    def tearDown(self):
        operator()

    def test_wrong_password_401(self):
        sign_in("operator", "wrong")
        text_in("signin-msg", "401")
        self.assertIn("Not authorized", DRIVER.find_element(By.ID, "signin-msg").text)
        DRIVER.find_element(By.ID, "signin-pass").send_keys(Keys.ESCAPE)

    def test_not_signed_in_401_banner(self):
        go("#/fleet")
        if DRIVER.find_elements(By.ID, "signout"):
            DRIVER.find_element(By.ID, "signout").click()
        go("#/fleet")
        text_in("auth-banner", "Not signed in. 401: the broker refused the connection")
        text_in("live-state", "Live: 401 error")
        self.assertTrue(DRIVER.find_element(By.ID, "banner-signin").is_displayed())
        self.assertTrue(DRIVER.find_element(By.ID, "banner-browser").is_displayed())
        self.assertEqual(DRIVER.find_element(By.ID, "live-state").text, "Live: 401 error")
        shot("signed-out")
        webfix.console_errors(DRIVER)

    def test_acl_403_banner(self):
        sign_in("fleet-app", "fleet-secret")
        text_in("who", "Signed in as fleet-app")
        go("#/fleet")
        text_in("auth-banner", "403 Forbidden")
        self.assertIn("fleet-app", DRIVER.find_element(By.ID, "auth-banner").text)
        webfix.console_errors(DRIVER)


def main():
    global ARGS, STACK, API, DEVS, DRIVER
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--http", required=True)
    ap.add_argument("--device", required=True, help="build/c2d-device (on libc2d-device)")
    ap.add_argument("--web", required=True, help="the web/ directory")
    ap.add_argument("--shots", help="directory for the screenshots")
    ap.add_argument("-k", dest="pattern", help="only tests whose name contains this")
    ARGS = ap.parse_args()
    STACK = webfix.httpfix.Stack(ARGS.plugin, ARGS.http, ["--web-dir", ARGS.web, "--sse-heartbeat", "2"])
    API = webfix.Api(STACK.base)
    DEVS = webfix.Devices(ARGS.device, STACK.mqtt_port, STACK.dir)
    res = None
    try:
        DEVS.start("lamp-1", "-i", LAMP1_INFO, "-r", '{"ok":true}')
        DEVS.start("lamp-2", "-s", "202")
        API.wait_online("lamp-1")
        API.wait_online("lamp-2")
        DRIVER = webfix.browser()
        loader = unittest.TestLoader()
        if ARGS.pattern:
            loader.testNamePatterns = ["*%s*" % ARGS.pattern]
        suite = unittest.TestSuite()
        for cls in (Static, Pages, Auth):
            suite.addTests(loader.loadTestsFromTestCase(cls))
        res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    finally:
        if DRIVER:
            DRIVER.quit()
        DEVS.stop_all()
        alive = STACK.http_alive()
        STACK.stop(keep=res is None or not res.wasSuccessful() or not alive)
    return webfix.httpfix.check_summary(res, alive)


if __name__ == "__main__":
    sys.exit(main())
