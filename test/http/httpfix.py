"""Fixture for the c2d-http tests: a real /usr/sbin/mosquitto with the built
plugin (password file, ACL file, anonymous refused) and a real c2d-http on
free loopback ports, both in a fresh temp dir; the OpenAPI checker; and a
Check-style summary line for scripts/run-tests.sh."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

USERS = {
    "operator": "op-secret",      # applications: everything (acl.example's operator)
    "fleet-app": "fleet-secret",  # may call reboot on sensor-1 only
    "lamp-1": "lamp-pw",          # devices (username = client id)
    "lamp-2": "lamp2-pw",
    "sensor-1": "s1-pw",
}

# Device rules name %u (the username), not %c: the client id of an HTTP
# device is the device id in the URL, so %u binds credentials to the device.
ACL = """pattern read $c2d/%u/in/#
pattern write $c2d/%u/out/#
pattern write devices/%u/telemetry

user operator
topic readwrite $c2d/+/twin/#
topic write $c2d/+/msg
topic write $c2d/+/rpc/#
topic read $c2d/+/events/#
topic read $c2d/$jobs/+/events
topic readwrite replies/operator/#
topic write $CONTROL/c2d/v1
topic read $CONTROL/c2d/v1/response
topic read devices/#

user fleet-app
topic write $c2d/sensor-1/rpc/reboot
topic readwrite replies/fleet-app/#
"""


def check_summary(res, alive):
    """Prints Check's summary line for scripts/run-tests.sh (c2d-http dying
    counts as an error); returns the exit status."""
    n, f, e = res.testsRun, len(res.failures), len(res.errors)
    if not alive:
        e += 1
        print("c2d-http died during the tests")
    print("%d%%: Checks: %d, Failures: %d, Errors: %d" % ((100 * (n - f - e) // n) if n else 0, n, f, e))
    return 0 if res.wasSuccessful() and alive else 1


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Stack:
    """Broker + plugin + c2d-http. http_args: extra c2d-http options."""

    def __init__(self, plugin, http_bin, http_args=()):
        self.dir = tempfile.mkdtemp(prefix="c2d-http-test-")
        self.mqtt_port = free_port()
        self.http_port = free_port()
        plain = "".join("%s:%s\n" % kv for kv in USERS.items())
        pw = os.path.join(self.dir, "passwd")
        with open(pw, "w") as f:
            f.write(plain)
        subprocess.run(["mosquitto_passwd", "-U", pw], check=True)
        with open(os.path.join(self.dir, "acl"), "w") as f:
            f.write(ACL)
        os.mkdir(os.path.join(self.dir, "db"))
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            if os.geteuid() == 0:
                f.write("user root\n")
            f.write("listener %d 127.0.0.1\nallow_anonymous false\npersistence false\n" % self.mqtt_port)
            f.write("log_dest file %s/broker.log\nlog_type all\n" % self.dir)
            f.write("plugin %s\nplugin_opt_db_path %s/db\n" % (plugin, self.dir))
            f.write("password_file %s\nacl_file %s/acl\n" % (pw, self.dir))
        self.broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                                       stderr=open(os.path.join(self.dir, "broker.stderr"), "w"))
        if not wait_port(self.mqtt_port):
            raise RuntimeError("broker did not start: see %s" % self.dir)
        self.http_log = os.path.join(self.dir, "c2d-http.log")
        self.http = subprocess.Popen([http_bin, "--port", str(self.http_port), "--mqtt-port", str(self.mqtt_port),
                                      "-v"] + list(http_args),
                                     stdout=subprocess.DEVNULL, stderr=open(self.http_log, "w"))
        if not wait_port(self.http_port):
            raise RuntimeError("c2d-http did not start: see %s" % self.http_log)
        self.base = "http://127.0.0.1:%d" % self.http_port

    def http_alive(self):
        return self.http.poll() is None

    def stop(self, keep=False):
        for p in (self.http, self.broker):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if keep or os.environ.get("C2D_KEEP"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


class OpenAPI:
    """Holds c2d-http to its OpenAPI document: every response's status must be
    listed for its path and method, and a JSON body must fit the schema."""

    def __init__(self, doc):
        self.doc = doc
        self.paths = []
        for tmpl, item in doc["paths"].items():
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(tmpl)) + "$"
            self.paths.append((tmpl.count("{"), re.compile(rx), tmpl, item))
        # fixed segments beat parameters (commands/next before commands/{id})
        self.paths.sort(key=lambda p: p[0])

    def deref(self, node):
        while isinstance(node, dict) and "$ref" in node:
            target = self.doc
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
        return node

    def validate(self, schema, value, where):
        schema = self.deref(schema)
        if value is None:
            if schema.get("nullable") or not schema.get("type"):
                return
            raise AssertionError("%s: null where %s is expected" % (where, schema.get("type")))
        t = schema.get("type")
        types = {"object": dict, "array": list, "string": str, "boolean": bool}
        if t in types and not isinstance(value, types[t]):
            raise AssertionError("%s: %r is not %s" % (where, value, t))
        if t == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
            raise AssertionError("%s: %r is not an integer" % (where, value))
        if t == "number" and not isinstance(value, (int, float)):
            raise AssertionError("%s: %r is not a number" % (where, value))
        if "enum" in schema and value not in schema["enum"]:
            raise AssertionError("%s: %r not in %r" % (where, value, schema["enum"]))
        if t == "object":
            for k in schema.get("required", []):
                if k not in value:
                    raise AssertionError("%s: required member %s missing in %r" % (where, k, value))
            for k, sub in schema.get("properties", {}).items():
                if k in value:
                    self.validate(sub, value[k], where + "." + k)
        if t == "array" and "items" in schema:
            for i, v in enumerate(value):
                self.validate(schema["items"], v, "%s[%d]" % (where, i))

    def check(self, method, path, resp):
        path = path.split("?")[0]
        item = None
        for _, rx, tmpl, it in self.paths:
            if rx.match(path):
                item = it
                break
        if item is None:
            if resp.status_code == 404:
                return  # unknown paths: 404 with the error shape
            raise AssertionError("path %s is not in the OpenAPI document" % path)
        op = item.get(method.lower())
        if op is None:
            if resp.status_code == 405:
                return
            raise AssertionError("%s %s is not in the OpenAPI document (status %d)" % (method, tmpl, resp.status_code))
        code = str(resp.status_code)
        rs = op["responses"]
        r = rs.get(code) or rs.get(code[0] + "XX") or rs.get("default")
        if r is None:
            raise AssertionError("%s %s answered %s, not in the document (%s)" % (method, tmpl, code, sorted(rs)))
        r = self.deref(r)
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip()
        content = r.get("content")
        if not resp.content:
            return
        if content is None:
            raise AssertionError("%s %s %s has a body but the document says none" % (method, tmpl, code))
        media = content.get(ctype) or content.get("*/*")
        if media is None:
            raise AssertionError("%s %s %s: content type %s not in %s" % (method, tmpl, code, ctype, sorted(content)))
        if ctype == "application/json":
            self.validate(media.get("schema", {}), json.loads(resp.content), "%s %s %s" % (method, tmpl, code))
