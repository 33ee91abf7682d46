"""paho_pub: the paho-mqtt publisher of bench/run.py (Debian python3-paho-mqtt 1.6).

Reproduces the loop of the original experiment (fredocr/mosquitto-edge-cloud-experiment,
load-test*.py): client.publish() called for every message in a plain Python loop, here
with loop_start() so that a network thread per client writes and reads (QoS 1 acks).
One process, N clients; message j of every client is published before message j+1.

    /usr/bin/python3 paho_pub.py --port P [--host H] [--conns N] [--messages M]
                                 [--qos Q] [--size BYTES] [--inflight W] [--timeout-s S]

Prints: paho_pub sent=... acked=... errors=... elapsed_s=...
"""
import argparse
import os
import sys
import time

import paho.mqtt.client as mqtt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=1883)
    ap.add_argument("--conns", type=int, default=10)
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--qos", type=int, default=0, choices=(0, 1))
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--inflight", type=int, default=20)
    ap.add_argument("--timeout-s", type=float, default=300)
    args = ap.parse_args()

    payload = bytes(0x30 + i % 10 for i in range(args.size))
    n = args.conns
    acked = [0] * n       # on_publish of client i runs in client i's thread only
    connected = [False] * n
    clients = []
    for i in range(n):
        c = mqtt.Client(client_id="paho_pub-%d-%d" % (os.getpid(), i), clean_session=True,
                        userdata=i)
        c.max_inflight_messages_set(args.inflight)

        def on_connect(client, userdata, flags, rc):
            if rc == 0:
                connected[userdata] = True
            else:
                print("paho_pub: client %d refused: %s" % (userdata, mqtt.connack_string(rc)),
                      file=sys.stderr)

        def on_publish(client, userdata, mid):
            acked[userdata] += 1

        c.on_connect = on_connect
        c.on_publish = on_publish
        c.connect(args.host, args.port, 60)
        c.loop_start()
        clients.append(c)

    deadline = time.monotonic() + args.timeout_s
    while not all(connected):
        if time.monotonic() > deadline:
            print("paho_pub: timed out connecting", file=sys.stderr)
            return 1
        time.sleep(0.01)

    topics = ["bench/%d" % i for i in range(n)]
    errors = 0
    start = time.monotonic()
    # The experiment's loop: publish every message, nothing else.
    for _ in range(args.messages):
        for i in range(n):
            info = clients[i].publish(topics[i], payload, args.qos)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                errors += 1
    total = n * args.messages
    while sum(acked) < total - errors and time.monotonic() < deadline:
        time.sleep(0.005)
    elapsed = time.monotonic() - start
    done = sum(acked)
    for c in clients:
        c.disconnect()
    for c in clients:
        c.loop_stop()
    print("paho_pub sent=%d acked=%d errors=%d elapsed_s=%.3f" % (total - errors, done, errors, elapsed))
    return 0 if done == total else 1


if __name__ == "__main__":
    sys.exit(main())
