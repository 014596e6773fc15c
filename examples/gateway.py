#!/usr/bin/python3
"""A gateway for mosquitto-c2d on paho-mqtt (Debian: python3-paho-mqtt 1.6),
for the walkthrough in docs/gateways.md and for prototyping.

One MQTT connection (client id GW) acts for the sub-devices SUB...:

- announces them all at once with the list form: $c2d/GW/out/gw/connect
  with the JSON array of ids (the registry must assign them: setGateway);
- prints every delivery as "SUB KIND ID PAYLOAD" (deliveries come to the
  gateway's client id on each sub-device's own $c2d/SUB/in/... topics) and
  answers it on $c2d/SUB/out/res/ID/200 (an RPC gets its params back);
- prints refusals ($c2d/GW/in/reply/gw/SUB/403) as "refused SUB ...";
- with -r, reports {"via":GW} for every sub-device ($c2d/SUB/out/reported);
- on Ctrl-C or after -n seconds disconnects: every announced sub-device
  goes offline (presence events with "via").

usage: gateway.py [-h host] [-p port] [-3] [-r] [-n seconds] GW SUB...
"""
import argparse
import json
import sys
import time

import paho.mqtt.client as mqtt


def main():
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("-h", dest="host", default="127.0.0.1")
    ap.add_argument("-p", dest="port", type=int, default=1883)
    ap.add_argument("-3", dest="v3", action="store_true", help="MQTT 3.1.1 (default 5)")
    ap.add_argument("-r", dest="report", action="store_true", help="report state for each sub-device")
    ap.add_argument("-n", dest="seconds", type=float, default=0, help="stop after this many seconds")
    ap.add_argument("--help", action="help")
    ap.add_argument("gw")
    ap.add_argument("subs", nargs="+")
    a = ap.parse_args()

    proto = mqtt.MQTTv311 if a.v3 else mqtt.MQTTv5
    c = mqtt.Client(client_id=a.gw, protocol=proto)

    def on_connect(client, userdata, flags, rc, props=None):
        client.publish("$c2d/%s/out/gw/connect" % a.gw, json.dumps(a.subs), qos=1)
        if a.report:
            for s in a.subs:
                client.publish("$c2d/%s/out/reported" % s, json.dumps({"via": a.gw}), qos=1)
        print("announced", " ".join(a.subs), flush=True)

    def on_message(client, userdata, m):
        level = m.topic.split("/")
        payload = m.payload.decode("utf-8", "replace")
        if len(level) >= 6 and level[1] == a.gw and level[2:5] == ["in", "reply", "gw"]:
            print("refused", level[5], payload, flush=True)
            return
        if len(level) < 5 or level[2] != "in":
            return
        sub, kind, did = level[1], "/".join(level[3:-1]), level[-1]
        print(sub, kind, did, payload, flush=True)
        if kind == "reply":
            return  # an answer to one of our calls
        answer = m.payload if kind.startswith("rpc/") else b""
        client.publish("$c2d/%s/out/res/%s/200" % (sub, did), answer, qos=1)

    c.on_connect = on_connect
    c.on_message = on_message
    c.connect(a.host, a.port, 60)
    c.loop_start()
    try:
        end = time.monotonic() + a.seconds
        while a.seconds == 0 or time.monotonic() < end:
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    c.disconnect()
    c.loop_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
