"""Produce real Rubin alerts as the three kinds of stream a Nightjar user consumes, with
Python's confluent_kafka and fastavro (what other brokers and survey tools run):

  JSON_TOPIC   Lasair-style JSON records, as Lasair's filter streams carry them: the selected
               attributes (diaObjectId, diaSourceId, ra, decl, nSources) and UTC, then for even
               positions the full alert {"diaObject", "diaSourcesList", "diaForcedSourcesList"}
               (the alert's own records, no cutouts) and for odd ones the lite lightcurve
               ({psfFlux, psfFluxErr, midpointMjdTai, band, reliability} per source). NaN
               becomes null (JSON has no NaN); json.dumps writes Python ints digit for digit.
  FINK_TOPIC   Fink's livestream framing: value = schemaless Avro, key = the writer schema's
               JSON text (what fink-client's AlertConsumer decodes with).
  WIRE_TOPIC   Confluent wire format: the writer schema registered at REGISTRY_URL under
               "<WIRE_TOPIC>-value" (POST /subjects/{subject}/versions), value = 0x00 + the
               4-byte big-endian id + schemaless Avro; key = the diaObjectId as text.

The alerts are every record of the Avro container FILES given, in order (the same alerts go to
each topic). Prints one JSON line per alert read, {"diaSourceId": n, "diaObjectId": n}, then
{"end": "ok", "schema_ids": [...]} once every message is acknowledged.

usage: produce_alert_streams.py BOOTSTRAP REGISTRY_URL JSON_TOPIC FINK_TOPIC WIRE_TOPIC FILE...
"""
import io
import json
import math
import struct
import sys
import urllib.request
from datetime import datetime, timezone

import confluent_kafka
import fastavro


def finite(value):
    """NaN and infinities as None, bytes left out: what a JSON stream can carry."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items() if not isinstance(v, (bytes, bytearray))}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def lasair_record(alert, full, utc):
    source = alert["diaSource"]
    sources = [source] + list(alert.get("prvDiaSources") or [])
    forced = list(alert.get("prvDiaForcedSources") or [])
    record = {
        "diaObjectId": source.get("diaObjectId"),
        "diaSourceId": source["diaSourceId"],
        "ra": source["ra"],
        "decl": source.get("dec", source.get("decl")),
        "nSources": len(sources),
        "UTC": utc,
    }
    if full:
        record["alert"] = {"diaObject": alert.get("diaObject"), "diaSourcesList": sources, "diaForcedSourcesList": forced}
    else:
        record["alert"] = {
            "diaSourcesList": [{k: s.get(k) for k in ("psfFlux", "psfFluxErr", "midpointMjdTai", "band", "reliability")} for s in sources],
            "diaForcedSourcesList": [{k: s.get(k) for k in ("psfFlux", "psfFluxErr", "midpointMjdTai", "band")} for s in forced],
        }
    return finite(record)


def register(registry, subject, schema_text):
    body = json.dumps({"schema": schema_text}).encode("utf-8")
    request = urllib.request.Request(f"{registry}/subjects/{subject}/versions", data=body, method="POST", headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read().decode("utf-8"))["id"]


def main():
    bootstrap, registry, json_topic, fink_topic, wire_topic = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4], sys.argv[5]
    files = sys.argv[6:]
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "message.max.bytes": 10_000_000, "linger.ms": 20})
    failures = []

    def delivered(err, msg):
        if err is not None:
            failures.append(f"{msg.topic()}: {err}")

    utc = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    schema_ids = {}
    n = 0
    for path in files:
        with open(path, "rb") as f:
            reader = fastavro.reader(f)
            schema_text = reader.metadata["avro.schema"]
            parsed = fastavro.parse_schema(json.loads(schema_text))
            if schema_text not in schema_ids:
                schema_ids[schema_text] = register(registry, f"{wire_topic}-value", schema_text)
            for alert in reader:
                body = io.BytesIO()
                fastavro.schemaless_writer(body, parsed, alert)
                value = body.getvalue()
                source = alert["diaSource"]
                producer.produce(json_topic, json.dumps(lasair_record(alert, n % 2 == 0, utc)).encode("utf-8"), on_delivery=delivered)
                producer.produce(fink_topic, value, key=schema_text.encode("utf-8"), on_delivery=delivered)
                framed = b"\x00" + struct.pack(">I", schema_ids[schema_text]) + value
                producer.produce(wire_topic, framed, key=str(source.get("diaObjectId")).encode("utf-8"), on_delivery=delivered)
                producer.poll(0)
                print(json.dumps({"diaSourceId": source["diaSourceId"], "diaObjectId": source.get("diaObjectId")}), flush=True)
                n += 1
    remaining = producer.flush(60)
    if remaining > 0 or failures:
        print(f"{remaining} messages not delivered; failures: {failures}", file=sys.stderr)
        return 1
    print(json.dumps({"end": "ok", "schema_ids": sorted(schema_ids.values())}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
