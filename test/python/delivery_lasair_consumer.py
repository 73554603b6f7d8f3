"""Reads a Nightjar JSON filter stream the way seed 001's sample code does: Lasair's own client
(lasair_consumer = confluent_kafka Consumer, auto.offset.reset smallest) and json.loads of each
message value. Prints each record as one line of JSON (Python ints are exact, so 64-bit ids
print as the same digits), then the line {"end": <reason>}.

usage: delivery_lasair_consumer.py SERVER GROUP_ID TOPIC MAX_RECORDS TIMEOUT_SECONDS
"""
import json
import sys

from lasair import lasair_consumer

kafka_server, group_id, my_topic = sys.argv[1], sys.argv[2], sys.argv[3]
max_records, timeout = int(sys.argv[4]), float(sys.argv[5])

consumer = lasair_consumer(kafka_server, group_id, my_topic)
n = 0
end = "timeout"
while n < max_records:
    msg = consumer.poll(timeout=timeout)
    if msg is None:
        break
    if msg.error():
        end = "error: " + str(msg.error())
        break
    jmsg = json.loads(msg.value())
    print(json.dumps(jmsg), flush=True)
    n += 1
else:
    # Asked-for count reached: one short poll tells whether more records were waiting.
    extra = consumer.poll(timeout=2)
    end = "more" if extra is not None and not extra.error() else "count"
# Closing commits the group's offsets (auto commit), so a later run with the same group resumes.
consumer.close()
print(json.dumps({"end": end}), flush=True)
