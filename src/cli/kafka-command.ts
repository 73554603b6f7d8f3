// `nightjar kafka start|stop|status|reset`: the local Apache Kafka for development, tests and
// the demo. Output is for people: one line per fact.
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../util/errors.ts';
import { localKafkaStatus, resetLocalKafka, startLocalKafka, stopLocalKafka, type LocalKafkaStatus } from '../kafka/local-broker.ts';
import { localKafkaConfig } from '../kafka/local-config.ts';

export function registerKafkaCommand(program: Command): void {
  const kafka = program
    .command('kafka')
    .description('run the local Apache Kafka broker (single KRaft node on 127.0.0.1; port from NIGHTJAR_KAFKA_PORT, default 19092)');

  kafka
    .command('start')
    .description('start the local broker (fetches its jars with Maven the first time); does nothing if it already runs')
    .option('--timeout <seconds>', 'give up if the broker does not answer within this time', '90')
    .action(async (opts: { timeout: string }) => {
      const timeoutMs = seconds(opts.timeout, '--timeout') * 1000;
      const config = localKafkaConfig();
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
    });

  kafka
    .command('stop')
    .description('stop the local broker (SIGTERM, then SIGKILL after the grace period); does nothing if it is stopped')
    .option('--grace <seconds>', 'how long to wait for a clean shutdown before killing it', '30')
    .action(async (opts: { grace: string }) => {
      const graceMs = seconds(opts.grace, '--grace') * 1000;
      const result = await stopLocalKafka(localKafkaConfig(), { graceMs });
      if (!result.wasRunning) say('Kafka is not running');
      else say(`Kafka stopped (pid ${result.pid}${result.killed ? ', killed after the grace period' : ''})`);
    });

  kafka
    .command('status')
    .description('say whether the local broker runs, with its pid, address, version and data folder (exit code 3 when stopped)')
    .action(async () => {
      const status = await localKafkaStatus(localKafkaConfig());
      for (const line of statusLines(status)) say(line);
      if (!status.running) process.exitCode = 3;
    });

  kafka
    .command('reset')
    .description('stop the local broker and delete all its data (topics, offsets, logs)')
    .action(async () => {
      const config = localKafkaConfig();
      const result = await resetLocalKafka(config);
      if (result.wasRunning) say(`Kafka stopped (pid ${result.pid})`);
      say(`deleted ${show(config.dataDir)}`);
    });
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
