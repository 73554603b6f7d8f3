"""Reads a Nightjar Avro filter stream with fink-client: AlertConsumer (schema from each
message's key), fink-client's own table display for the ZTF and LSST survey settings (to
stderr), and its save handler (Avro container files named as fink-client names them). Prints
each alert as one line of JSON (fastavro gives Python ints, so 64-bit ids stay exact), then the
line {"end": <reason>}.

usage: delivery_fink_consumer.py SERVER GROUP_ID TOPIC MAX_ALERTS TIMEOUT_SECONDS OUTDIR
"""
import contextlib
import json
import math
import sys

from fink_client.consumer import AlertConsumer
from fink_client.handlers import display_alerts_as_table, store_alert

server, group_id, topic_name = sys.argv[1], sys.argv[2], sys.argv[3]
max_alerts, timeout, outdir = int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]


def finite(value):
    """NaN and infinities as None: JSON has no NaN (Rubin writes NaN for "not measured")."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


config = {"bootstrap.servers": server, "group.id": group_id}
consumer = AlertConsumer([topic_name], config, survey="lsst")
n = 0
end = "timeout"
while n < max_alerts:
    topic, alert, key = consumer.poll(timeout)
    if alert is None:
        break
    with contextlib.redirect_stdout(sys.stderr):
        display_alerts_as_table("ztf", topic, alert)
        display_alerts_as_table("lsst", topic, alert)
    store_alert(alert, consumer._parsed_schema, outdir=outdir, survey="lsst")
    store_alert(alert, consumer._parsed_schema, outdir=outdir, survey="ztf")
    print(json.dumps({"topic": topic, "alert": finite(alert), "key_is_schema": json.loads(key)["type"] == "record"}), flush=True)
    n += 1
else:
    end = "count"
consumer.close()
print(json.dumps({"end": end}), flush=True)
