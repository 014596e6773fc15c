#!/usr/bin/python3
"""A thermostat for mosquitto-c2d on paho-mqtt (Debian: python3-paho-mqtt 1.6),
for prototyping; examples/thermostat.c is the same device on libc2d-device
and docs/device-library.md walks through both.

- desired "setpoint" from the twin ($c2d/DEV/in/twin/t{version}), acknowledged
  on $c2d/DEV/out/res/t{version}/200 (400 when out of range)
- reported "temperature", "setpoint", "heating" every 5 s on $c2d/DEV/out/reported
- RPC "reboot": 202 at once, the result 2 s later; RPC "getTemperature"
- a "time" call at start ($c2d/DEV/out/call/time/{rid}, reply on in/reply/{rid}/{status})
- redeliveries of an answered id get the same answer again (the handler runs once)

usage: thermostat.py [-h host] [-p port] [-3] [-n seconds] DEV
"""
import argparse
import collections
import json
import sys
import threading
import time

import paho.mqtt.client as mqtt


def js(o):
    """Compact JSON, as the platform and the C example write it."""
    return json.dumps(o, separators=(",", ":"))


class Thermostat:
    def __init__(self, dev, protocol):
        self.dev = dev
        self.setpoint = 20.0
        self.temperature = 18.0
        self.reboot_id = None
        self.reboot_done = 0.0
        self.answered = collections.OrderedDict()  # id -> (status, bytes), the last 64
        self.lock = threading.Lock()
        self.client = mqtt.Client(client_id=dev, protocol=protocol,
                                  **({} if protocol == mqtt.MQTTv5 else {"clean_session": True}))
        self.client.on_connect = self.on_connect
        self.client.on_message = self.on_message
        self.client.reconnect_delay_set(1, 60)

    def topic(self, suffix):
        return "$c2d/%s/%s" % (self.dev, suffix)

    def answer(self, delivery_id, status, payload=b""):
        self.client.publish(self.topic("out/res/%s/%d" % (delivery_id, status)), payload, qos=1)

    def on_connect(self, client, userdata, flags, rc, properties=None):
        if rc != 0:
            print("not connected: %s" % rc, file=sys.stderr)
            return
        # hello on every connect (a platform without hello support refuses it: harmless)
        client.publish(self.topic("out/hello"),
                       js({"model": "thermostat-example", "firmware": "1.0", "sdk": "python"}), qos=1)
        client.publish(self.topic("out/call/time/r%d" % int(time.time() * 1000)), b"", qos=1)

    def on_message(self, client, userdata, msg):
        prefix = self.topic("in/")
        if not msg.topic.startswith(prefix):
            return
        levels = msg.topic[len(prefix):].split("/")
        if levels[0] == "reply" and len(levels) == 3:
            self.on_reply(int(levels[2]), msg.payload)
            return
        delivery_id = levels[-1]
        with self.lock:
            if delivery_id in self.answered and not delivery_id.startswith("l"):
                status, payload = self.answered[delivery_id]  # a redelivery: same answer
                self.answer(delivery_id, status, payload)
                return
            if levels[0] == "twin" and len(levels) == 2:
                status, payload = self.on_desired(json.loads(msg.payload)), b""
            elif levels[0] == "rpc" and len(levels) == 3:
                status, payload = self.on_rpc(levels[1], delivery_id, msg.payload)
            else:
                status, payload = 501, b""
            self.answer(delivery_id, status, payload)
            if status != 202:
                self.answered[delivery_id] = (status, payload)
                while len(self.answered) > 64:
                    self.answered.popitem(last=False)

    def on_desired(self, push):
        sp = push["desired"].get("setpoint")
        if isinstance(sp, (int, float)) and 5 <= sp <= 30:
            self.setpoint = float(sp)
            print("desired v%d%s: setpoint %.1f" % (push["version"], " (full)" if push["full"] else "", sp))
            return 200
        if sp is not None:
            print("desired v%d: setpoint out of range, rejected" % push["version"])
            return 400
        return 200

    def on_rpc(self, method, delivery_id, params):
        if method == "getTemperature":
            return 200, js({"temperature": round(self.temperature, 1)})
        if method == "reboot":
            if self.reboot_id:
                return 409, js({"error": "already rebooting"})
            self.reboot_id, self.reboot_done = delivery_id, time.time() + 2
            print("reboot %s accepted" % delivery_id)
            return 202, b""
        return 501, b""

    def on_reply(self, status, payload):
        if status == 200:
            offset = json.loads(payload)["time"] - int(time.time() * 1000)
            print("time: platform clock offset %d ms" % offset)
        else:
            print("time: call failed with %d" % status)

    def tick(self, now):
        with self.lock:
            if self.temperature < self.setpoint - 0.25:
                self.temperature += 0.5
            elif self.temperature > self.setpoint + 0.25:
                self.temperature -= 0.5
            if self.reboot_id and now >= self.reboot_done:
                result = js({"rebooted": True})
                self.answer(self.reboot_id, 200, result)
                self.answered[self.reboot_id] = (200, result)
                print("reboot %s done" % self.reboot_id)
                self.reboot_id = None
            if int(now) % 5 == 0:
                self.client.publish(self.topic("out/reported"), js({
                    "temperature": round(self.temperature, 1), "setpoint": self.setpoint,
                    "heating": self.temperature < self.setpoint}), qos=1)
        sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(add_help=False, description="thermostat device for mosquitto-c2d")
    ap.add_argument("-h", dest="host", default="127.0.0.1")
    ap.add_argument("-p", dest="port", type=int, default=1883)
    ap.add_argument("-3", dest="v311", action="store_true", help="MQTT 3.1.1 (default 5)")
    ap.add_argument("-n", dest="seconds", type=int, default=0, help="stop after this many seconds")
    ap.add_argument("--help", action="help")
    ap.add_argument("dev")
    args = ap.parse_args()
    t = Thermostat(args.dev, mqtt.MQTTv311 if args.v311 else mqtt.MQTTv5)
    t.client.connect_async(args.host, args.port, 60)
    t.client.loop_start()
    start, last = time.time(), 0
    try:
        while args.seconds == 0 or time.time() - start < args.seconds:
            now = time.time()
            if int(now) != last:
                last = int(now)
                t.tick(now)
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    t.client.disconnect()
    t.client.loop_stop()


if __name__ == "__main__":
    main()
