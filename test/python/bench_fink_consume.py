"""fink-client's consumer as `finkctl stream --save` runs it: AlertConsumer (survey lsst, each
message decoded with the schema in its key), a poll loop, and store_alert writing each alert
as an Avro container file (<diaSourceId>.avro) into OUTDIR. Used by bench/consume.ts.

Stops after COUNT alerts, or when a poll of TIMEOUT seconds brings nothing. Prints one JSON
line: {"alerts": n, "seconds": s, "first_alert_seconds": f} where s is the time from creating
the consumer to the last file written and f when the first alert arrived (joining the group).

usage: bench_fink_consume.py SERVER GROUP_ID TOPIC COUNT TIMEOUT_SECONDS OUTDIR
"""
import json
import os
import sys
import time

from fink_client.consumer import AlertConsumer
from fink_client.handlers import store_alert


def main():
    server, group_id, topic = sys.argv[1], sys.argv[2], sys.argv[3]
    count, timeout, outdir = int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    os.makedirs(outdir, exist_ok=True)
    started = time.monotonic()
    consumer = AlertConsumer([topic], {"bootstrap.servers": server, "group.id": group_id}, survey="lsst")
    n = 0
    first = None
    try:
        while n < count:
            _, alert, _ = consumer.poll(timeout=timeout)
            if alert is None:
                break
            if first is None:
                first = time.monotonic() - started
            store_alert(alert, consumer._parsed_schema, outdir=outdir, survey="lsst", overwrite=True)
            n += 1
        seconds = time.monotonic() - started
    finally:
        consumer.close()
    print(json.dumps({"alerts": n, "seconds": seconds, "first_alert_seconds": first}), flush=True)
    return 0 if n == count else 1


if __name__ == "__main__":
    sys.exit(main())
