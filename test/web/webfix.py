"""Fixture for the dashboard tests: the c2d-http suite's stack (test/http/
httpfix.py: broker + plugin with password and ACL files, c2d-http) serving
web/, devices on libc2d-device (build/c2d-device processes), and headless
Chromium driven by Selenium (Debian's chromium, chromium-driver,
python3-selenium) with the browser console captured."""
import json
import os
import subprocess
import sys
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "http"))
import httpfix  # noqa: E402  (the c2d-http suite's fixture, reused)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

OP = ("operator", "op-secret")
DEVICES = httpfix.USERS


class Devices:
    """build/c2d-device processes (one per device id), as the device with
    its own credentials; stopped with stop() or at the end."""

    def __init__(self, binary, port, logdir):
        self.binary = binary
        self.port = port
        self.logdir = logdir
        self.procs = {}

    def start(self, dev, *args):
        self.stop(dev)
        log = open(os.path.join(self.logdir, "device-%s.log" % dev), "a")
        cmd = [self.binary, "-p", str(self.port), "-u", dev, "-P", DEVICES[dev], "-v"] + list(args) + [dev]
        self.procs[dev] = subprocess.Popen(cmd, stdout=log, stderr=log)

    def stop(self, dev):
        p = self.procs.pop(dev, None)
        if p and p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_all(self):
        for dev in list(self.procs):
            self.stop(dev)


class Api:
    """c2d-http calls of the test itself (setting up what the pages show)."""

    def __init__(self, base, auth=OP):
        self.base = base
        self.auth = auth

    def req(self, method, path, **kw):
        kw.setdefault("timeout", 20)
        return requests.request(method, self.base + path, auth=self.auth, **kw)

    def admin(self, cmd):
        r = self.req("POST", "/api/v1/admin", json={"commands": [cmd]})
        r.raise_for_status()
        resp = r.json()["responses"][0]
        if "error" in resp:
            raise AssertionError("%s: %s" % (cmd, resp["error"]))
        return resp["data"]

    def wait(self, what, fn, timeout=15.0, step=0.2):
        """Polls fn() (the test's own check, not the page's) until it is truthy."""
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            last = fn()
            if last:
                return last
            time.sleep(step)
        raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))

    def wait_online(self, dev, online=True):
        return self.wait("%s online=%s" % (dev, online),
                         lambda: self.admin({"command": "getDevice", "device": dev})["online"] == online)


def browser(width=1280, height=800):
    """Headless Chromium. Its console (level ALL) is read with console()."""
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=%d,%d" % (width, height), "--hide-scrollbars", "--force-device-scale-factor=1",
              "--no-first-run", "--disable-extensions", "--lang=en-US"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    d.set_page_load_timeout(30)
    d.set_script_timeout(30)
    return d


def console_errors(driver):
    """Browser console entries at level SEVERE since the last call."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def js(o):
    return json.dumps(o, separators=(",", ":"))
