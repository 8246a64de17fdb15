#!/usr/bin/env python3
"""Reproduce, without Spontra's code, how the test broker (tansu 0.6) treats a consumer-group
member killed with SIGKILL. Needs `tansu` on PATH and `pip install confluent-kafka` (librdkafka,
the same library the Rust `rdkafka` crate wraps).

    python3 scripts/kafka-group-repro.py

Three groups read the same four-partition topic, with a 6 s session timeout:
  once      a member is killed after consuming; a new one starts. Kafka's expected behaviour:
            after the session timeout the newcomer owns all four partitions.
  repeated  four members are each killed 2 s after starting (so some die in the middle of a
            rebalance), then a fifth runs for 60 s: with Kafka it owns all four partitions
            within about a session timeout of the last kill.
  static    the same with static membership (group.instance.id, KIP-345): with Kafka the
            newcomer takes the dead member's place at once.
Each line printed is what the last member was assigned and how much it read.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PORT = 19092
ADDRESS = f"127.0.0.1:{PORT}"

MEMBER = r"""
import os, sys, time
from confluent_kafka import Consumer
group, life, instance = sys.argv[1], float(sys.argv[2]), sys.argv[3]
conf = {"bootstrap.servers": "%s", "group.id": group, "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 1000}
if instance:
    conf["group.instance.id"] = instance
start = time.time()
assigned = []
c = Consumer(conf)
c.subscribe(["t1"], on_assign=lambda c, parts: assigned.append(sorted(p.partition for p in parts)))
n = 0
while time.time() - start < life:
    m = c.poll(0.2)
    if m is not None and not m.error():
        n += 1
print(f"assignments {assigned}, read {n} records", flush=True)
os.kill(os.getpid(), 9)
""" % ADDRESS


def member(group: str, life: float, instance: str = "") -> str:
    out = subprocess.run([sys.executable, "-c", MEMBER, group, str(life), instance],
                         capture_output=True, text=True)
    return out.stdout.strip()


def main() -> int:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    work = tempfile.mkdtemp(prefix="tansu-repro-")
    broker = subprocess.Popen(
        ["tansu", "broker", "--listener-url", f"tcp://{ADDRESS}",
         "--advertised-listener-url", f"tcp://{ADDRESS}", "--storage-engine", "sqlite://tansu.db"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    print("tansu did not listen")
                    return 1
                time.sleep(0.1)
        admin = AdminClient({"bootstrap.servers": ADDRESS})
        for f in admin.create_topics([NewTopic("t1", num_partitions=4, replication_factor=1)]).values():
            f.result()
        producer = Producer({"bootstrap.servers": ADDRESS})
        for i in range(20_000):
            producer.produce("t1", key=str(i % 97), value=b"x" * 200)
            if i % 1000 == 0:
                producer.poll(0)
        producer.flush(60)

        member("once", 4)
        print("once:    ", member("once", 20))
        for _ in range(4):
            member("repeated", 2)
        print("repeated:", member("repeated", 60))
        for _ in range(4):
            member("static", 2, "ingest-1")
        print("static:  ", member("static", 40, "ingest-1"))
        return 0
    finally:
        broker.send_signal(signal.SIGKILL)
        broker.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
