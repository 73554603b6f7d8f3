// Ready-to-paste consumer programs for a filter's stream: Python with confluent_kafka (as in
// Lasair's documentation, seed 001), TypeScript with Nightjar's AlertConsumer, and the
// `nightjar consume` command line. Pure text builders; the filter page shows them.
import type { StreamOutput } from '../../delivery/output-modes.ts';

export interface ConsumerCodeInput {
  /** Kafka bootstrap servers as clients reach them, host:port[,host:port]. */
  servers: string;
  topic: string;
  /** A suggested group id, unique to this user and filter. */
  groupId: string;
  output: StreamOutput;
}

/** A Python string literal (single-quoted) for any text. */
function py(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A TypeScript string literal (single-quoted). */
function ts(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function shell(text: string): string {
  return /^[A-Za-z0-9_.,:@/=-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

export function pythonConsumer(input: ConsumerCodeInput): string {
  if (input.output === 'kafka-avro') {
    return `# pip install fink-client   (reads Avro streams; or use confluent_kafka + fastavro)
from fink_client.consumer import AlertConsumer

config = {
    'bootstrap.servers': ${py(input.servers)},
    'group.id': ${py(input.groupId)},   # keep it to resume; change it to read from the start
}
consumer = AlertConsumer([${py(input.topic)}], config)
while True:
    topic, alert, key = consumer.poll(timeout=20)
    if alert is None:
        break
    print(topic, alert.get('diaObjectId'), alert.get('UTC'))
consumer.close()
print('No more messages available')
`;
  }
  return `# pip install confluent_kafka
import json
from confluent_kafka import Consumer

kafka_server = ${py(input.servers)}
group_id     = ${py(input.groupId)}   # keep it to resume; change it to read from the start
my_topic     = ${py(input.topic)}

consumer = Consumer({
    'bootstrap.servers': kafka_server,
    'group.id': group_id,
    'auto.offset.reset': 'smallest',
})
consumer.subscribe([my_topic])
n = 0
while n < 10:
    msg = consumer.poll(timeout=20)
    if msg is None:
        break
    if msg.error():
        print(str(msg.error()))
        break
    jmsg = json.loads(msg.value())
    print(json.dumps(jmsg, indent=2))
    print('===')
    n += 1
consumer.close()
print('No more messages available')
`;
}

export function typescriptConsumer(input: ConsumerCodeInput): string {
  return `// Node 24+, in the Nightjar repository (or with nightjar installed as a package)
import { AlertConsumer } from './src/client/consumer.ts';
import { stringify } from './src/util/json.ts';

const consumer = await AlertConsumer.create({
  topics: [${ts(input.topic)}],
  groupId: ${ts(input.groupId)}, // keep it to resume; change it to read from the start
  settings: { bootstrap: [${input.servers.split(',').map((s) => ts(s.trim())).join(', ')}] },
});
try {
  // Up to 100 records, waiting at most 20 s; 64-bit ids come back exact, as BigInt.
  for (const record of await consumer.consume(100, 20_000)) {
    console.log(stringify(record.value, 2));
  }
} finally {
  await consumer.close();
}
`;
}

export function cliConsumer(input: ConsumerCodeInput): string {
  return `./nightjar consume --servers ${shell(input.servers)} --topics ${shell(input.topic)} --group-id ${shell(input.groupId)} --display`;
}

/** A group id to suggest: the user's, the filter's, and a short random part so two readers do not share offsets by accident. */
export function suggestedGroupId(userId: number | null, filterId: number, random: string): string {
  return `${userId === null ? 'reader' : `user${userId}`}-filter${filterId}-${random}`;
}
