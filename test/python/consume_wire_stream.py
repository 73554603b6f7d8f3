"""Consume a Confluent wire-format alert topic the way a Rubin broker does in Python.

confluent_kafka reads the topic; each message's schema id (bytes 1..4) is looked up in the
schema registry over plain HTTP (GET /schemas/ids/{id}), the body is decoded with
fastavro.schemaless_reader, and one JSON line per alert is printed:
    {"partition": p, "offset": o, "key": "...", "schema_id": n, "diaSourceId": 169298432598474793, "midpointMjdTai": ...}
Python ints are exact, so json.dumps writes 64-bit ids digit for digit.

Usage: consume_wire_stream.py BOOTSTRAP TOPIC REGISTRY_URL EXPECTED_COUNT [TIMEOUT_SECONDS]
Exits 0 after EXPECTED_COUNT messages, 1 on a timeout or a decoding problem.
"""
import io
import json
import struct
import sys
import time
import urllib.request

import confluent_kafka
import fastavro


def fetch_schema(registry, schema_id, cache):
    """The parsed writer schema for a registry id (cached: registry ids never change)."""
    if schema_id not in cache:
        with urllib.request.urlopen(f"{registry}/schemas/ids/{schema_id}", timeout=10) as reply:
            text = json.loads(reply.read().decode("utf-8"))["schema"]
        cache[schema_id] = fastavro.parse_schema(json.loads(text))
    return cache[schema_id]


def main():
    bootstrap, topic, registry, expected = sys.argv[1], sys.argv[2], sys.argv[3].rstrip("/"), int(sys.argv[4])
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 60.0
    consumer = confluent_kafka.Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"nightjar-python-interop-{topic}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    consumer.subscribe([topic])
    schemas = {}
    received = 0
    deadline = time.monotonic() + timeout
    try:
        while received < expected:
            if time.monotonic() > deadline:
                print(f"timed out after {received} of {expected} messages", file=sys.stderr)
                return 1
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                print(f"kafka error: {msg.error()}", file=sys.stderr)
                return 1
            value = msg.value()
            magic, schema_id = struct.unpack(">bI", value[:5])
            if magic != 0:
                print(f"offset {msg.offset()}: not Confluent wire format (magic byte {magic})", file=sys.stderr)
                return 1
            schema = fetch_schema(registry, schema_id, schemas)
            body = io.BytesIO(value[5:])
            alert = fastavro.schemaless_reader(body, schema)
            if body.tell() != len(value) - 5:
                print(f"offset {msg.offset()}: {len(value) - 5 - body.tell()} bytes left after the record", file=sys.stderr)
                return 1
            source = alert["diaSource"]
            print(json.dumps({
                "partition": msg.partition(),
                "offset": msg.offset(),
                "key": msg.key().decode("utf-8") if msg.key() is not None else None,
                "schema_id": schema_id,
                "diaSourceId": source["diaSourceId"],
                "midpointMjdTai": source.get("midpointMjdTai", source.get("midPointTai")),
            }), flush=True)
            received += 1
    finally:
        consumer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
