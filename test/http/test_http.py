#!/usr/bin/env python3
"""c2d-http against the real broker + plugin (test/http/httpfix.py): every
endpoint, both auth outcomes, ACLs per device and method, ttd devices, SSE,
bad input and limits. Every response is checked against http/openapi.json.
Prints Check's summary line for scripts/run-tests.sh.
Usage: test_http.py --plugin build/mosquitto_c2d.so --http build/c2d-http [-k pattern]"""
import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

import requests

import httpfix

ARGS = None
STACK = None
API = None
OP = ("operator", "op-secret")
FLEET = ("fleet-app", "fleet-secret")
DEV = {"lamp-1": ("lamp-1", "lamp-pw"), "lamp-2": ("lamp-2", "lamp2-pw"), "sensor-1": ("sensor-1", "s1-pw")}
TIMEOUT = 20


def call(method, path, auth=OP, **kw):
    """One HTTP request, its response checked against the OpenAPI document."""
    kw.setdefault("timeout", TIMEOUT)
    r = requests.request(method, STACK.base + path, auth=auth, **kw)
    API.check(method, path, r)
    return r


def admin(cmd):
    r = call("POST", "/api/v1/admin", json={"commands": [cmd]})
    assert r.status_code == 200, r.text
    return r.json()["responses"][0]


def wait_online(dev, online, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if admin({"command": "getDevice", "device": dev})["data"]["online"] == online:
            return True
        time.sleep(0.1)
    return False


def wait_polls(n, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if call("GET", "/healthz", auth=None).json()["longPolls"] == n:
            return True
        time.sleep(0.05)
    return False


def in_thread(fn, *a, **kw):
    out = {}

    def run():
        try:
            out["r"] = fn(*a, **kw)
        except Exception as e:  # noqa: BLE001 - reported by the test
            out["e"] = e
    t = threading.Thread(target=run)
    t.start()
    return t, out


class Apps(unittest.TestCase):
    def test_healthz_and_openapi(self):
        r = call("GET", "/healthz", auth=None)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["broker"], "reachable")
        r = call("GET", "/api/v1/openapi.json", auth=None)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["openapi"][:2], "3.")
        self.assertIn("/api/v1/devices/{dev}/commands/next", r.json()["paths"])

    def test_auth_401(self):
        for auth in (None, ("operator", "wrong"), ("nobody", "x")):
            r = call("GET", "/api/v1/devices/lamp-1/twin", auth=auth)
            self.assertEqual(r.status_code, 401, auth)
            self.assertEqual(r.json()["status"], 401)
            self.assertIn("Basic", r.headers.get("WWW-Authenticate", ""))
        r = call("GET", "/api/v1/devices/lamp-1/twin", auth=None, headers={"Authorization": "Bearer abc"})
        self.assertEqual(r.status_code, 401)

    def test_acl_per_device_and_method(self):
        # fleet-app may call reboot on sensor-1 only: allowed (offline: 404 from the plugin)
        r = call("POST", "/api/v1/devices/sensor-1/rpc/reboot", auth=FLEET)
        self.assertEqual(r.status_code, 404, r.text)
        self.assertEqual(r.json()["error"], "device is offline")
        for path in ("/api/v1/devices/sensor-2/rpc/reboot", "/api/v1/devices/sensor-1/rpc/blink"):
            r = call("POST", path, auth=FLEET)
            self.assertEqual(r.status_code, 403, path)
            self.assertEqual(r.json()["status"], 403)
        r = call("POST", "/api/v1/devices/sensor-1/messages", auth=FLEET, data="x")
        self.assertEqual(r.status_code, 403)
        r = call("POST", "/api/v1/admin", auth=FLEET, json={"commands": [{"command": "getStats"}]})
        self.assertEqual(r.status_code, 403)
        r = call("GET", "/metrics", auth=FLEET)
        self.assertEqual(r.status_code, 403)

    def test_rpc_offline_404_at_once(self):
        t0 = time.monotonic()
        r = call("POST", "/api/v1/devices/nodev/rpc/ping", data=b"")
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json(), {"error": "device is offline", "status": 404})
        self.assertLess(time.monotonic() - t0, 5)

    def test_rpc_bad_input(self):
        r = call("POST", "/api/v1/devices/bad+id/rpc/ping")
        self.assertEqual(r.status_code, 400)
        r = call("POST", "/api/v1/devices/lamp-1/rpc/ping?timeout=abc")
        self.assertEqual(r.status_code, 400, r.text)
        r = call("POST", "/api/v1/devices/lamp-1/rpc/ping?retries=2")  # retries without persistent
        self.assertEqual(r.status_code, 400, r.text)

    def test_persistent_rpc_and_commands(self):
        r = call("POST", "/api/v1/devices/lamp-9/rpc/reboot?persistent=true&retries=1&ttl=600",
                 data='{"delay":5}', headers={"Content-Type": "application/json"})
        self.assertEqual(r.status_code, 202, r.text)
        cid = r.json()["id"]
        self.assertEqual(r.headers["Location"], "/api/v1/devices/lamp-9/commands/" + cid)
        r = call("GET", "/api/v1/devices/lamp-9/commands")
        self.assertEqual(r.status_code, 200)
        self.assertEqual([c["id"] for c in r.json()["commands"]], [cid])
        self.assertEqual(r.json()["commands"][0]["method"], "reboot")
        r = call("GET", "/api/v1/devices/lamp-9/commands/" + cid)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["state"], "queued")
        r = call("DELETE", "/api/v1/devices/lamp-9/commands/" + cid)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json(), {"id": cid, "state": "cancelled"})
        r = call("DELETE", "/api/v1/devices/lamp-9/commands/" + cid)
        self.assertEqual(r.status_code, 404)
        r = call("GET", "/api/v1/devices/lamp-9/commands/" + cid)  # kept in history
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["finalState"], "cancelled")
        r = call("GET", "/api/v1/devices/lamp-9/commands/q999")
        self.assertEqual(r.status_code, 404)
        self.assertIn("no such command", r.json()["error"])

    def test_messages(self):
        r = call("POST", "/api/v1/devices/lamp-8/messages?ttl=600", data="hello",
                 headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status_code, 202, r.text)
        self.assertTrue(r.json()["id"].startswith("q"))
        r = call("POST", "/api/v1/devices/lamp-8/messages?ttl=0", data="x")
        self.assertEqual(r.status_code, 400)
        r = call("GET", "/api/v1/devices/lamp-8/commands?count=0")
        self.assertEqual(r.status_code, 400)
        r = call("GET", "/api/v1/devices/lamp-8/commands/x1")
        self.assertEqual(r.status_code, 400)

    def test_twin(self):
        mp = {"Content-Type": "application/merge-patch+json"}
        r = call("PATCH", "/api/v1/devices/lamp-7/twin/desired", data='{"power":"on"}', headers=mp)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["version"], 1)
        self.assertEqual(r.headers["ETag"], '"1"')
        r = call("GET", "/api/v1/devices/lamp-7/twin")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["desired"], {"power": "on"})
        self.assertEqual(r.headers["ETag"], '"1"')
        r = call("PATCH", "/api/v1/devices/lamp-7/twin/desired", data='{"level":3}', headers=dict(mp, **{"If-Match": '"0"'}))
        self.assertEqual(r.status_code, 412)
        r = call("PATCH", "/api/v1/devices/lamp-7/twin/desired", data='{"level":3}', headers=dict(mp, **{"If-Match": '"1"'}))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["version"], 2)
        r = call("PATCH", "/api/v1/devices/lamp-7/twin/desired", data='{"$version":0,"level":4}', headers=mp)
        self.assertEqual(r.status_code, 409)
        r = call("PATCH", "/api/v1/devices/lamp-7/twin/desired", data='[1,2]', headers=mp)
        self.assertEqual(r.status_code, 400)
        r = call("PATCH", "/api/v1/devices/lamp-7/twin/desired", data='{"a":', headers=mp)
        self.assertEqual(r.status_code, 400)
        r = call("PATCH", "/api/v1/devices/lamp-7/twin/desired", data='{"a":1}', headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status_code, 415)
        r = call("PATCH", "/api/v1/devices/lamp-7/twin/desired", data='{"a":1}', headers=dict(mp, **{"If-Match": "x"}))
        self.assertEqual(r.status_code, 400)
        # tags: their own version, in the full twin
        r = call("PATCH", "/api/v1/devices/lamp-7/twin/tags", data='{"site":"berlin"}', headers=mp)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["version"], 1)
        r = call("PATCH", "/api/v1/devices/lamp-7/twin/tags", data='{"ring":"canary"}', headers=dict(mp, **{"If-Match": '"0"'}))
        self.assertEqual(r.status_code, 412)
        r = call("GET", "/api/v1/devices/lamp-7/twin")
        self.assertEqual(r.json()["tags"], {"site": "berlin"})
        self.assertEqual(r.json()["version"]["tags"], 1)
        r = call("DELETE", "/api/v1/devices/lamp-7/twin")
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.json()["deleted"])

    def test_admin(self):
        r = call("POST", "/api/v1/admin", json={"commands": [{"command": "getStats"}, {"command": "nope"}]})
        self.assertEqual(r.status_code, 200)
        rs = r.json()["responses"]
        self.assertIn("counters", rs[0]["data"])
        self.assertEqual(rs[1]["error"], "Unknown command")
        for body in ("{", "[]", "null"):
            r = call("POST", "/api/v1/admin", data=body)
            self.assertEqual(r.status_code, 400, body)
            self.assertEqual(r.json()["status"], 400)

    def test_metrics(self):
        r = call("GET", "/metrics")
        self.assertEqual(r.status_code, 200)
        text = r.text
        for name, typ in (("c2d_devices_online", "gauge"), ("c2d_requests_total", "counter"),
                          ("c2d_http_requests_total", "counter"), ("c2d_http_long_polls", "gauge")):
            self.assertIn("# TYPE %s %s\n" % (name, typ), text)
            self.assertIn("# HELP %s " % name, text)
        for line in text.splitlines():
            if not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                float(value)
        r = call("GET", "/metrics", auth=("operator", "bad"))
        self.assertEqual(r.status_code, 401)

    def test_thingsboard(self):
        r = call("POST", "/api/plugins/rpc/twoway/tb-1", json={"method": "setGpio", "params": {"pin": 7}, "timeout": 2000})
        self.assertEqual(r.status_code, 404)
        r = call("POST", "/api/plugins/rpc/twoway/tb-1", json={"method": "setGpio", "persistent": True, "retries": 1,
                                                               "expirationTime": int(time.time() * 1000) + 600000})
        self.assertEqual(r.status_code, 202, r.text)
        self.assertTrue(r.json()["id"].startswith("q"))
        r = call("POST", "/api/plugins/rpc/oneway/tb-1", json={"method": "blink"})
        self.assertEqual(r.status_code, 202)
        for body in ('{"params":1}', "{", '{"method":"m","timeout":"x"}'):
            r = call("POST", "/api/plugins/rpc/twoway/tb-1", data=body)
            self.assertEqual(r.status_code, 400, body)
        r = call("POST", "/api/plugins/rpc/twoway/tb-1", json={"method": "m", "expirationTime": 1000})
        self.assertEqual(r.status_code, 400)
        r = call("GET", "/api/plugins/rpc/twoway/tb-1")
        self.assertEqual(r.status_code, 405)


class Devices(unittest.TestCase):
    def test_ttd_queued_message(self):
        r = call("POST", "/api/v1/devices/lamp-1/messages?ttl=600", data="hello lamp",
                 headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status_code, 202)
        qid = r.json()["id"]
        r = call("GET", "/api/v1/devices/lamp-1/commands/next?ttd=10", auth=DEV["lamp-1"])
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.content, b"hello lamp")
        self.assertEqual(r.headers["C2D-Id"], qid)
        self.assertEqual(r.headers["C2D-Kind"], "msg")
        self.assertEqual(r.headers["C2D-Topic"], "$c2d/lamp-1/in/msg/" + qid)
        self.assertEqual(r.headers["Content-Type"], "text/plain")
        r = call("POST", "/api/v1/devices/lamp-1/responses/%s?status=200" % qid, auth=DEV["lamp-1"])
        self.assertEqual(r.status_code, 204)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            r = call("GET", "/api/v1/devices/lamp-1/commands/" + qid)
            if r.json().get("state") == "completed":
                break
            time.sleep(0.1)
        self.assertEqual(r.json()["state"], "completed")

    def test_ttd_rpc_answered_within_window(self):
        # the device polls; the application calls it; the device answers
        t, out = in_thread(call, "GET", "/api/v1/devices/lamp-2/commands/next?ttd=15", auth=DEV["lamp-2"])
        self.assertTrue(wait_online("lamp-2", True))
        t2, out2 = in_thread(call, "POST", "/api/v1/devices/lamp-2/rpc/blink?timeout=10000", data='{"times":3}',
                             headers={"Content-Type": "application/json"})
        t.join(TIMEOUT)
        poll = out["r"]
        self.assertEqual(poll.status_code, 200, poll.text)
        self.assertEqual(poll.headers["C2D-Kind"], "rpc")
        self.assertEqual(poll.headers["C2D-Method"], "blink")
        self.assertEqual(poll.json(), {"times": 3})
        r = call("POST", "/api/v1/devices/lamp-2/responses/%s?status=201" % poll.headers["C2D-Id"], auth=DEV["lamp-2"],
                 data='{"ok":true}', headers={"Content-Type": "application/json"})
        self.assertEqual(r.status_code, 204)
        t2.join(TIMEOUT)
        rpc = out2["r"]
        self.assertEqual(rpc.status_code, 201, rpc.text)
        self.assertEqual(rpc.json(), {"ok": True})
        self.assertEqual(rpc.headers["Content-Type"], "application/json")

    def test_ttd_204_then_offline_rpc_404(self):
        t0 = time.monotonic()
        r = call("GET", "/api/v1/devices/sensor-1/commands/next?ttd=1", auth=DEV["sensor-1"])
        self.assertEqual(r.status_code, 204)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        # after the linger the device connection is closed: the device is offline
        self.assertTrue(wait_online("sensor-1", False))
        t0 = time.monotonic()
        r = call("POST", "/api/v1/devices/sensor-1/rpc/reboot")
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json()["error"], "device is offline")
        self.assertLess(time.monotonic() - t0, 5)

    def test_device_auth(self):
        r = call("GET", "/api/v1/devices/lamp-1/commands/next?ttd=1", auth=("lamp-1", "wrong"))
        self.assertEqual(r.status_code, 401)
        r = call("GET", "/api/v1/devices/lamp-1/commands/next?ttd=1", auth=None)
        self.assertEqual(r.status_code, 401)
        r = call("GET", "/api/v1/devices/lamp-1/commands/next?ttd=99999", auth=DEV["lamp-1"])
        self.assertEqual(r.status_code, 400)

    def test_telemetry_and_reported(self):
        sub = subprocess.Popen(["mosquitto_sub", "-p", str(STACK.mqtt_port), "-u", "operator", "-P", "op-secret",
                                "-t", "devices/lamp-1/telemetry", "-C", "1", "-W", "15"], stdout=subprocess.PIPE)
        time.sleep(0.5)
        r = call("POST", "/api/v1/devices/lamp-1/telemetry?ttd=0", auth=DEV["lamp-1"], data='{"temp":21.5}')
        self.assertEqual(r.status_code, 202, r.text)
        out, _ = sub.communicate(timeout=20)
        self.assertEqual(out.strip(), b'{"temp":21.5}')
        r = call("PATCH", "/api/v1/devices/lamp-1/twin/reported", auth=DEV["lamp-1"], data='{"temp":21.5}',
                 headers={"Content-Type": "application/merge-patch+json"})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertGreaterEqual(r.json()["version"], 1)
        r = call("GET", "/api/v1/devices/lamp-1/twin")
        self.assertEqual(r.json()["reported"]["temp"], 21.5)
        # lamp-2's credentials may not write lamp-1's out/ (the ACL's %u rule: 403)
        r = call("PATCH", "/api/v1/devices/lamp-1/twin/reported", auth=DEV["lamp-2"], data='{"x":1}',
                 headers={"Content-Type": "application/merge-patch+json"})
        self.assertEqual(r.status_code, 403, r.text)
        r = call("POST", "/api/v1/devices/lamp-1/telemetry", auth=DEV["lamp-2"], data="x")
        self.assertEqual(r.status_code, 403, r.text)

    def test_responses_bad_input(self):
        r = call("POST", "/api/v1/devices/lamp-1/responses/q1?status=99", auth=DEV["lamp-1"])
        self.assertEqual(r.status_code, 400)
        r = call("POST", "/api/v1/devices/lamp-1/responses/a+b", auth=DEV["lamp-1"])
        self.assertEqual(r.status_code, 400)


def sse_event(lines, type_):
    """The data of the first SSE event of that type in lines, or None after TIMEOUT."""
    event = None
    end = time.monotonic() + TIMEOUT
    for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        if line.startswith("data: ") and event == type_:
            return json.loads(line[6:])
        if time.monotonic() > end:
            return None
    return None


class Events(unittest.TestCase):
    def test_sse(self):
        r = requests.get(STACK.base + "/api/v1/events?device=lamp-5", auth=OP, stream=True, timeout=TIMEOUT)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.headers["Content-Type"], "text/event-stream")
        API.check("GET", "/api/v1/events", type("R", (), {"status_code": 200, "headers": r.headers, "content": b""})())
        lines = r.iter_lines(decode_unicode=True)
        self.assertEqual(next(lines), "retry: 3000")
        call("PATCH", "/api/v1/devices/lamp-5/twin/desired", data='{"x":1}',
             headers={"Content-Type": "application/merge-patch+json"})
        data = sse_event(lines, "c2d.twin.desired.changed")
        r.close()
        self.assertIsNotNone(data)
        self.assertEqual(data["subject"], "lamp-5")
        self.assertEqual(data["data"]["patch"], {"x": 1})

    def test_sse_fleet_stream_carries_job_events(self):
        # without ?device= the stream is also subscribed to $c2d/$jobs/+/events
        r = requests.get(STACK.base + "/api/v1/events", auth=OP, stream=True, timeout=TIMEOUT)
        self.assertEqual(r.status_code, 200)
        lines = r.iter_lines(decode_unicode=True)
        self.assertEqual(next(lines), "retry: 3000")
        job = "sse-job-%d" % os.getpid()
        body = {"commands": [{"command": "createJob", "job": job, "target": {"devices": ["sse-job-dev"]},
                              "action": {"msg": {"payload": "x", "ttl": 60}}}]}
        resp = call("POST", "/api/v1/admin", data=json.dumps(body)).json()["responses"][0]
        self.assertNotIn("error", resp, resp)
        data = sse_event(lines, "c2d.job.created")
        r.close()
        call("POST", "/api/v1/admin", data=json.dumps({"commands": [{"command": "cancelJob", "job": job}]}))
        self.assertIsNotNone(data)
        self.assertEqual(data["subject"], job)
        self.assertEqual(data["data"]["job"], job)

    def test_sse_acl(self):
        # Mosquitto 2.0's acl_file grants every SUBSCRIBE and filters each
        # message on READ: fleet-app's stream opens and stays empty.
        r = requests.get(STACK.base + "/api/v1/events?device=lamp-6", auth=FLEET, stream=True, timeout=(5, 2))
        self.assertEqual(r.status_code, 200)
        lines = r.iter_lines(decode_unicode=True)
        self.assertEqual(next(lines), "retry: 3000")
        call("PATCH", "/api/v1/devices/lamp-6/twin/desired", data='{"x":1}',
             headers={"Content-Type": "application/merge-patch+json"})
        # heartbeats (1 s here) come; events must not, for 3 s
        got = []
        end = time.monotonic() + 3
        for line in lines:
            got.append(line)
            if time.monotonic() > end:
                break
        r.close()
        self.assertIn(": keep-alive", got)
        self.assertFalse([ln for ln in got if ln.startswith("event:")], got)
        r = call("GET", "/api/v1/events?device=lamp-6", auth=("fleet-app", "bad"))
        self.assertEqual(r.status_code, 401)
        r = call("GET", "/api/v1/events?device=a/b")
        self.assertEqual(r.status_code, 400)
        r = call("GET", "/api/v1/events?device=%2Bx")
        self.assertEqual(r.status_code, 400)


class Hostile(unittest.TestCase):
    def test_unknown_paths_and_methods(self):
        for path in ("/", "/nope", "/api/v1", "/api/v1/devices", "/api/v1/devices/x/what", "/api/v2/admin",
                     "//api/v1/admin", "/api/v1/devices/x/rpc/a/b/c/d/e/f/g"):
            r = call("GET", path)
            self.assertEqual(r.status_code, 404, path)
            self.assertEqual(r.json()["status"], 404)
        r = call("PUT", "/api/v1/devices/x/twin")
        self.assertEqual(r.status_code, 405)
        self.assertEqual(r.headers["Allow"], "GET, DELETE")
        r = call("GET", "/api/v1/admin")
        self.assertEqual(r.status_code, 405)

    def test_oversized_body(self):
        r = call("POST", "/api/v1/devices/x/messages", data=b"x" * 70000)
        self.assertEqual(r.status_code, 413)
        self.assertEqual(r.json()["status"], 413)

        def chunks():
            for _ in range(70):
                yield b"y" * 1000
        r = call("POST", "/api/v1/devices/x/messages", data=chunks())  # chunked, no Content-Length
        self.assertEqual(r.status_code, 413)

    def test_slow_client_timed_out(self):
        s = socket.create_connection(("127.0.0.1", STACK.http_port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes the headers
        s.settimeout(15)
        t0 = time.monotonic()
        try:
            data = s.recv(100)
        except socket.timeout:
            data = None
        s.close()
        self.assertEqual(data, b"", "the server should close a slow client")
        self.assertLess(time.monotonic() - t0, 14)

    def test_long_poll_limit_503(self):
        # max-polls is 6 in this suite; SSE streams closed by the earlier
        # tests are noticed at their next heartbeat (1 s here)
        self.assertTrue(wait_polls(0))
        threads = [in_thread(call, "GET", "/api/v1/devices/lp-%d/commands/next?ttd=4" % i, auth=OP) for i in range(6)]
        self.assertTrue(wait_polls(6))
        r = call("GET", "/api/v1/devices/lp-x/commands/next?ttd=4", auth=OP)
        self.assertEqual(r.status_code, 503)
        self.assertEqual(r.headers["Retry-After"], "1")
        for t, out in threads:
            t.join(TIMEOUT)
            self.assertEqual(out["r"].status_code, 204)

    def test_zz_survives_and_closes_idle_connections(self):
        # after everything above c2d-http runs and its idle MQTT connections go away
        self.assertTrue(STACK.http_alive())
        end = time.monotonic() + 20
        h = None
        while time.monotonic() < end:
            h = call("GET", "/healthz", auth=None).json()
            if h["mqttConnections"] == 0 and h["longPolls"] == 0:
                break
            time.sleep(0.2)
        self.assertEqual((h["mqttConnections"], h["longPolls"]), (0, 0))


class Tls(unittest.TestCase):
    """HTTPS: a second c2d-http on the same broker with a certificate from a
    throw-away CA (openssl); the same API, credentials and statuses."""

    def test_https(self):
        d = STACK.dir
        subprocess.run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=c2d-test-ca "
                       "-keyout ca.key -out ca.crt && "
                       "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout srv.key -out srv.csr && "
                       "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
                       "openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
                       "-extfile san.ext -out srv.crt", shell=True, cwd=d, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = httpfix.free_port()
        log = open(os.path.join(d, "c2d-http-tls.log"), "w")
        p = subprocess.Popen([ARGS.http, "--port", str(port), "--mqtt-port", str(STACK.mqtt_port),
                              "--tls-cert", os.path.join(d, "srv.crt"), "--tls-key", os.path.join(d, "srv.key")],
                             stdout=subprocess.DEVNULL, stderr=log)
        try:
            self.assertTrue(httpfix.wait_port(port), "the HTTPS c2d-http did not start")
            base = "https://127.0.0.1:%d" % port
            ca = os.path.join(d, "ca.crt")
            r = requests.get(base + "/healthz", verify=ca, timeout=10)
            self.assertEqual(r.status_code, 200)
            r = requests.post(base + "/api/v1/devices/nodev-tls/rpc/ping", data="{}", auth=OP, verify=ca, timeout=10)
            self.assertEqual(r.status_code, 404, r.text)
            r = requests.post(base + "/api/v1/devices/nodev-tls/rpc/ping", data="{}", auth=("operator", "wrong"),
                              verify=ca, timeout=10)
            self.assertEqual(r.status_code, 401)
            # a client that does not trust the CA gets no connection
            with self.assertRaises(requests.exceptions.SSLError):
                requests.get(base + "/healthz", timeout=10)
            # plain HTTP on the HTTPS port is not served
            with self.assertRaises(requests.exceptions.ConnectionError):
                requests.get("http://127.0.0.1:%d/healthz" % port, timeout=5)
        finally:
            p.terminate()
            p.wait(10)


def main():
    global ARGS, STACK, API
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--http", required=True)
    ap.add_argument("-k", dest="pattern", help="only tests whose name contains this")
    ARGS = ap.parse_args()
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(top, "http", "openapi.json")) as f:
        API = httpfix.OpenAPI(json.load(f))
    STACK = httpfix.Stack(ARGS.plugin, ARGS.http, ["--max-polls", "6", "--http-timeout", "2", "--idle-timeout", "2",
                                                   "--device-linger", "300", "--sse-heartbeat", "1"])
    loader = unittest.TestLoader()
    if ARGS.pattern:
        loader.testNamePatterns = ["*%s*" % ARGS.pattern]
    suite = unittest.TestSuite()
    # the idle check runs last: it needs the others' connections to be gone
    for cls in (Apps, Devices, Tls, Events, Hostile):
        suite.addTests(loader.loadTestsFromTestCase(cls))
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    alive = STACK.http_alive()
    STACK.stop(keep=not res.wasSuccessful() or not alive)
    return httpfix.check_summary(res, alive)


if __name__ == "__main__":
    sys.exit(main())
