// `nightjar kafka start|stop|status|reset`: the local Apache Kafka for development, tests and
// the demo. Output is for people: one line per fact.
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../util/errors.ts';
import { localKafkaStatus, resetLocalKafka, startLocalKafka, stopLocalKafka, type LocalKafkaStatus } from '../kafka/local-broker.ts';
import { LOCAL_ADMIN_USER, SCRAM_MECHANISMS, localKafkaConfig, localKafkaPaths, secureLocalKafkaConfig, type LocalKafkaConfig } from '../kafka/local-config.ts';

export function registerKafkaCommand(program: Command): void {
  const kafka = program
    .command('kafka')
    .description('run the local Apache Kafka broker (single KRaft node on 127.0.0.1; port from NIGHTJAR_KAFKA_PORT, default 19092)');

  kafka
    .command('start')
    .description('start the local broker (fetches its jars with Maven the first time); does nothing if it already runs')
    .option('--timeout <seconds>', 'give up if the broker does not answer within this time', '90')
    .option('--secure', SECURE_HELP)
    .action(async (opts: { timeout: string; secure?: boolean }) => {
      const timeoutMs = seconds(opts.timeout, '--timeout') * 1000;
      const config = configFor(opts);
      const result = await startLocalKafka(config, { timeoutMs, onProgress: (line) => say(line) });
      const s = result.status;
      if (result.alreadyRunning) {
        say(`Kafka is already running (pid ${s.pid}) on ${s.bootstrap}`);
      } else {
        const t = result.timings;
        const steps = [
          result.fetchedJars && t.jarsMs !== undefined ? `jars ${secs(t.jarsMs)}` : '',
          t.formatMs !== undefined ? `format ${secs(t.formatMs)}` : '',
          t.bootMs !== undefined && (result.fetchedJars || t.formatMs !== undefined) ? `boot ${secs(t.bootMs)}` : '',
        ].filter((x) => x !== '');
        say(`Kafka ${s.version} started (pid ${s.pid}) on ${s.bootstrap} in ${secs(t.totalMs)}${steps.length ? ` (${steps.join(', ')})` : ''}`);
        say(`data: ${show(s.dataDir)}`);
        say(`log: ${show(s.logFile)}`);
      }
      for (const line of securityLines(config)) say(line);
    });

  kafka
    .command('stop')
    .description('stop the local broker (SIGTERM, then SIGKILL after the grace period); does nothing if it is stopped')
    .option('--grace <seconds>', 'how long to wait for a clean shutdown before killing it', '30')
    .option('--secure', 'the secure broker (see kafka start --secure)')
    .action(async (opts: { grace: string; secure?: boolean }) => {
      const graceMs = seconds(opts.grace, '--grace') * 1000;
      const result = await stopLocalKafka(configFor(opts), { graceMs });
      if (!result.wasRunning) say('Kafka is not running');
      else say(`Kafka stopped (pid ${result.pid}${result.killed ? ', killed after the grace period' : ''})`);
    });

  kafka
    .command('status')
    .description('say whether the local broker runs, with its pid, address, version and data folder (exit code 3 when stopped)')
    .option('--secure', 'the secure broker (see kafka start --secure)')
    .action(async (opts: { secure?: boolean }) => {
      const config = configFor(opts);
      const status = await localKafkaStatus(config);
      for (const line of statusLines(status)) say(line);
      for (const line of securityLines(config)) say(line);
      if (!status.running) process.exitCode = 3;
    });

  kafka
    .command('reset')
    .description('stop the local broker and delete all its data (topics, offsets, logs)')
    .option('--secure', 'the secure broker (see kafka start --secure); its admin account goes too')
    .action(async (opts: { secure?: boolean }) => {
      const config = configFor(opts);
      const result = await resetLocalKafka(config);
      if (result.wasRunning) say(`Kafka stopped (pid ${result.pid})`);
      say(`deleted ${show(config.dataDir)}`);
    });
}

const SECURE_HELP =
  'the secure broker instead: SASL/SCRAM sign-in and ACLs (private filter streams), its own port (NIGHTJAR_KAFKA_SECURE_PORT, default 19192) and data (.data/kafka-secure)';

function configFor(opts: { secure?: boolean }): LocalKafkaConfig {
  return opts.secure === true ? secureLocalKafkaConfig() : localKafkaConfig();
}

/** For the secure broker: how to sign in (the admin password stays in its file, never on the terminal). */
export function securityLines(config: LocalKafkaConfig): string[] {
  if (config.secure !== true) return [];
  return [
    `security: SASL_PLAINTEXT, ${SCRAM_MECHANISMS.join(' or ')}, ACLs enforced (nothing allowed without one)`,
    `admin: user "${LOCAL_ADMIN_USER}" (super user), password in ${show(localKafkaPaths(config).adminCredentials)}`,
    `use it: NIGHTJAR_KAFKA_BOOTSTRAP=127.0.0.1:${config.port} NIGHTJAR_KAFKA_SASL_USERNAME=${LOCAL_ADMIN_USER} NIGHTJAR_KAFKA_SASL_PASSWORD=<from that file>`,
  ];
}

/** The status as lines of "fact: value". */
export function statusLines(s: LocalKafkaStatus): string[] {
  const lines: string[] = [];
  if (s.running) lines.push('status: running');
  else if (s.processAlive) lines.push('status: not answering (the process is alive: starting, or stuck; see the log)');
  else lines.push('status: stopped');
  if (s.pid !== undefined) lines.push(`pid: ${s.pid}`);
  lines.push(`bootstrap: ${s.bootstrap}`);
  if (s.version !== undefined) lines.push(`version: Kafka ${s.version}`);
  if (s.clusterId !== undefined) lines.push(`cluster id: ${s.clusterId}`);
  if (s.startedAt !== undefined && s.startedAt !== '') lines.push(`started: ${s.startedAt}${s.owner ? ` by ${s.owner}` : ''}`);
  lines.push(`data: ${show(s.dataDir)}`);
  lines.push(`log: ${show(s.logFile)}`);
  if (s.portTakenBy === 'kafka') lines.push(`note: another Kafka broker (not this checkout's) answers on ${s.bootstrap}`);
  if (s.portTakenBy === 'other') lines.push(`note: another process listens on ${s.bootstrap}`);
  return lines;
}

function seconds(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`${option} must be a positive number of seconds, got "${text}"`);
  return n;
}

/** A path relative to the current folder when it is inside it (shorter to read), else absolute. */
function show(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function say(line: string): void {
  process.stdout.write(line + '\n');
}
