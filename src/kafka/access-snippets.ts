// What the account page shows under an account's Kafka credentials: ready-to-paste settings for
// the clients astronomers run — `nightjar register`, Python confluent_kafka (Lasair's consumer)
// and fink-client's credentials YAML. Pure text; the page escapes it for HTML.
import type { KafkaCredentials } from './access.ts';

export interface ClientSnippets {
  /** A shell command writing the nightjar (and fink-client compatible) credentials profile. */
  nightjarRegister: string;
  /** Python: a confluent_kafka Consumer reading the topics from the start. */
  confluentKafka: string;
}

/** Snippets for these credentials and topics; the group id is the account's prefix plus `groupName`. */
export function clientSnippets(credentials: KafkaCredentials, topics: readonly string[], groupName = 'mygroup'): ClientSnippets {
  const groupId = `${credentials.groupPrefix}${groupName}`;
  const topicList = topics.length === 0 ? '<topic>' : topics.join(',');
  const nightjarRegister = [
    'nightjar register',
    `--username ${shellWord(credentials.username)}`,
    `--password ${shellWord(credentials.password)}`,
    `--servers ${shellWord(credentials.bootstrap)}`,
    `--group-id ${shellWord(groupId)}`,
    `--topics ${shellWord(topicList)}`,
  ].join(' ');
  const py = (s: string): string => JSON.stringify(s); // a JSON string is a valid Python string literal
  const confluentKafka = [
    'from confluent_kafka import Consumer',
    'consumer = Consumer({',
    `    'bootstrap.servers': ${py(credentials.bootstrap)},`,
    `    'security.protocol': ${py(credentials.securityProtocol)},`,
    `    'sasl.mechanism': ${py(credentials.mechanism)},`,
    `    'sasl.username': ${py(credentials.username)},`,
    `    'sasl.password': ${py(credentials.password)},`,
    `    'group.id': ${py(groupId)},`,
    "    'auto.offset.reset': 'smallest',",
    '})',
    `consumer.subscribe(${JSON.stringify(topics.length === 0 ? ['<topic>'] : [...topics])})`,
  ].join('\n');
  return { nightjarRegister, confluentKafka };
}

/** A word safe for a POSIX shell: bare when plain, else single-quoted. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_.,:@/=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
