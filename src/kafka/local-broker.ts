// The local Apache Kafka for development, tests, CI and the demo: one KRaft node (broker and
// controller in one JVM) on 127.0.0.1, its jars fetched by Maven, its files under .data/kafka.
// Start, stop, status and reset are idempotent and serialised by a lock file, so several
// processes (test runs, a terminal) can ask for the broker at the same time.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../util/errors.ts';
import { createAdmin } from './connection.ts';
import { readLocalAdminCredentials, writeLocalAdminCredentials } from './local-admin.ts';
import {
  type LocalAdminCredentials,
  type LocalKafkaConfig,
  type LocalKafkaPaths,
  kafkaVersionFromJars,
  localBootstrap,
  localKafkaPaths,
  newAdminCredentials,
  newClusterId,
  parseProperties,
  renderLog4jConfig,
  renderServerProperties,
  scramFormatArguments,
} from './local-config.ts';
import { ensureKafkaJars } from './local-jars.ts';

/** What the pid file records about a running broker. */
export interface BrokerState {
  pid: number;
  port: number;
  controllerPort: number;
  version: string;
  /** Who asked for it: 'cli' (a person) or 'test' (a test run, see test/setup). */
  owner: string;
  startedAt: string;
}

export interface LocalKafkaStatus {
  /** The broker process of this checkout is alive and answers Kafka requests. */
  running: boolean;
  /** Its process is alive (it may still be starting, or be stuck). */
  processAlive: boolean;
  pid?: number;
  bootstrap: string;
  /** Version of the running broker, or of the fetched jars when stopped. */
  version?: string;
  clusterId?: string;
  owner?: string;
  startedAt?: string;
  dataDir: string;
  logFile: string;
  /** When stopped: another process already listens on the broker port. */
  portTakenBy?: 'kafka' | 'other';
}

export interface StartOptions {
  /** Give up when the broker does not answer within this many ms (default 90 s). */
  timeoutMs?: number;
  /** Recorded in the pid file (default 'cli'). */
  owner?: string;
  /** Progress lines for a person ("Fetching jars...", "Formatting storage..."). */
  onProgress?: (line: string) => void;
}

export interface StartResult {
  alreadyRunning: boolean;
  status: LocalKafkaStatus;
  /** Milliseconds spent in each step of this start (empty when already running). */
  timings: { jarsMs?: number; formatMs?: number; bootMs?: number; totalMs: number };
  /** Maven fetched the jars during this start. */
  fetchedJars: boolean;
  /** The storage was formatted (a new, empty cluster) during this start. */
  formatted: boolean;
}

export interface StopOptions {
  /** Wait this long after SIGTERM before SIGKILL (default 30 s). */
  graceMs?: number;
  /** Decided under the lock: stop only when this returns true for the running broker. */
  onlyIf?: (state: BrokerState) => boolean | Promise<boolean>;
}

export interface StopResult {
  wasRunning: boolean;
  stopped: boolean;
  pid?: number;
  /** SIGTERM was not enough within graceMs. */
  killed: boolean;
}

const JAVA_MIN_MAJOR = 17;

/** Starts the broker unless it already runs; resolves once it answers a metadata request. */
export async function startLocalKafka(config: LocalKafkaConfig, options: StartOptions = {}): Promise<StartResult> {
  const began = Date.now();
  const progress = options.onProgress ?? (() => {});
  const paths = localKafkaPaths(config);
  return withLock(paths, async () => {
    const state = await readState(paths);
    if (state && isBrokerProcess(state.pid, paths)) {
      if (state.port !== config.port) {
        throw new UserError(`the local Kafka already runs on 127.0.0.1:${state.port} (pid ${state.pid}), not on port ${config.port}; run "nightjar kafka stop" first to change NIGHTJAR_KAFKA_PORT`);
      }
      // Alive: it answers now, or it is busy starting/recovering; give it the same time as a start.
      await waitUntilAnswering(config, paths, state.pid, options.timeoutMs ?? 90_000);
      return { alreadyRunning: true, status: await statusOf(config, paths), timings: { totalMs: Date.now() - began }, fetchedJars: false, formatted: false };
    }
    if (state) await rm(paths.pidFile, { force: true }); // stale: the process is gone

    const java = findJava();
    const jarsStart = Date.now();
    const jars = await ensureKafkaJars(config.pomFile, config.libsDir, progress);
    const jarsMs = Date.now() - jarsStart;
    await assertPortFree(config.port, 'broker');
    await assertPortFree(config.controllerPort, 'controller');

    await mkdir(paths.logsDir, { recursive: true });
    const formatted = !existsSync(paths.metaProperties);
    const admin = config.secure === true ? await secureAdmin(config, paths, formatted) : undefined;
    // A secure broker's file holds the admin password: owner only.
    await writeFile(paths.serverProperties, renderServerProperties(config, paths.storageDir, admin), { mode: 0o600 });
    await writeFile(paths.log4jConfig, renderLog4jConfig(paths.logsDir));

    let formatMs: number | undefined;
    if (formatted) {
      const formatStart = Date.now();
      const clusterId = newClusterId();
      progress(`Formatting new Kafka storage in ${paths.storageDir} (cluster id ${clusterId})`);
      formatStorage(java, config, paths, clusterId, admin === undefined ? [] : scramFormatArguments(admin));
      formatMs = Date.now() - formatStart;
    }

    const bootStart = Date.now();
    const pid = spawnBroker(java, config, paths);
    const newState: BrokerState = {
      pid,
      port: config.port,
      controllerPort: config.controllerPort,
      version: jars.version,
      owner: options.owner ?? 'cli',
      startedAt: new Date().toISOString(),
    };
    await writeFile(paths.pidFile, JSON.stringify(newState, null, 2) + '\n');
    try {
      await waitUntilAnswering(config, paths, pid, options.timeoutMs ?? 90_000);
    } catch (err) {
      // Do not leave a half-started JVM behind: the next start would find it "running".
      await terminate(pid, paths, 10_000);
      await rm(paths.pidFile, { force: true });
      throw err;
    }
    const bootMs = Date.now() - bootStart;
    return {
      alreadyRunning: false,
      status: await statusOf(config, paths),
      timings: { jarsMs, ...(formatMs !== undefined ? { formatMs } : {}), bootMs, totalMs: Date.now() - began },
      fetchedJars: jars.fetched,
      formatted,
    };
  });
}

/** Stops the broker gracefully (SIGTERM, then SIGKILL after graceMs); nothing to do when stopped. */
export async function stopLocalKafka(config: LocalKafkaConfig, options: StopOptions = {}): Promise<StopResult> {
  const paths = localKafkaPaths(config);
  return withLock(paths, () => stopLocked(paths, options));
}

/** Stops the broker and deletes its data folder: all topics, offsets and logs. */
export async function resetLocalKafka(config: LocalKafkaConfig, options: StopOptions = {}): Promise<StopResult> {
  const paths = localKafkaPaths(config);
  const result = await withLock(paths, async () => {
    const stopped = await stopLocked(paths, options);
    if (stopped.wasRunning && !stopped.stopped) return stopped;
    // Everything but the lock we hold; the lock goes when withLock releases it.
    for (const name of await readdir(config.dataDir).catch(() => [] as string[])) {
      const full = path.join(config.dataDir, name);
      if (full !== paths.lockFile) await rm(full, { recursive: true, force: true });
    }
    return stopped;
  });
  // Only if still empty: another process may have taken the lock for a new start meanwhile.
  await rmdir(config.dataDir).catch(() => {});
  return result;
}

/** Whether the broker runs and answers, with its pid, address, version and files. */
export async function localKafkaStatus(config: LocalKafkaConfig): Promise<LocalKafkaStatus> {
  return statusOf(config, localKafkaPaths(config));
}

async function stopLocked(paths: LocalKafkaPaths, options: StopOptions): Promise<StopResult> {
  const state = await readState(paths);
  if (!state || !isBrokerProcess(state.pid, paths)) {
    if (state) await rm(paths.pidFile, { force: true });
    return { wasRunning: false, stopped: false, killed: false };
  }
  if (options.onlyIf && !(await options.onlyIf(state))) {
    return { wasRunning: true, stopped: false, pid: state.pid, killed: false };
  }
  const killed = await terminate(state.pid, paths, options.graceMs ?? 30_000);
  await rm(paths.pidFile, { force: true });
  return { wasRunning: true, stopped: true, pid: state.pid, killed };
}

async function statusOf(config: LocalKafkaConfig, paths: LocalKafkaPaths): Promise<LocalKafkaStatus> {
  const state = await readState(paths);
  const alive = state !== undefined && isBrokerProcess(state.pid, paths);
  const base = { dataDir: config.dataDir, logFile: paths.serverLog };
  if (!alive) {
    const version = kafkaVersionFromJars(await readdir(config.libsDir).catch(() => [] as string[]));
    const bootstrap = localBootstrap(config);
    const status: LocalKafkaStatus = { running: false, processAlive: false, bootstrap, ...base };
    if (version) status.version = version;
    if (!(await portIsFree(config.port))) status.portTakenBy = (await probe(bootstrap)) ? 'kafka' : 'other';
    return status;
  }
  const bootstrap = localBootstrap(state);
  const answer = await probe(bootstrap, await probeAccount(config));
  const clusterId = await readClusterId(paths);
  return {
    // Answering is not enough: it must be our cluster, not another broker that took the port.
    running: answer !== undefined && (clusterId === undefined || answer.clusterId === clusterId),
    processAlive: true,
    pid: state.pid,
    bootstrap,
    version: state.version,
    ...(clusterId !== undefined ? { clusterId } : {}),
    owner: state.owner,
    startedAt: state.startedAt,
    ...base,
  };
}

// ---- the JVM ----

/** The java executable ($JAVA_HOME/bin/java, else java on PATH), checked to be Java 17+. */
function findJava(): string {
  const home = process.env.JAVA_HOME;
  const java = home && existsSync(path.join(home, 'bin', 'java')) ? path.join(home, 'bin', 'java') : 'java';
  const run = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (run.error) {
    const code = (run.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UserError(`Java is not installed (no "java" on PATH${home ? ` nor in JAVA_HOME=${home}` : ''}); the local Kafka needs Java ${JAVA_MIN_MAJOR} or newer (e.g. apt-get install openjdk-17-jre-headless)`);
    }
    throw new UserError(`cannot run ${java}: ${run.error.message}`);
  }
  const major = javaMajorVersion(`${run.stderr}${run.stdout}`);
  if (major !== undefined && major < JAVA_MIN_MAJOR) {
    throw new UserError(`${java} is Java ${major}; Kafka 4 needs Java ${JAVA_MIN_MAJOR} or newer (set JAVA_HOME to a newer JDK)`);
  }
  return java;
}

/** Major version from `java -version` output: `version "17.0.15"` → 17, `version "1.8.0_402"` → 8. */
export function javaMajorVersion(output: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

function classpath(config: LocalKafkaConfig): string {
  return path.join(config.libsDir, '*');
}

/**
 * The secure broker's admin account: a new one for new storage (its SCRAM credentials are then
 * created by the formatter), else the one kept since the storage was formatted.
 */
async function secureAdmin(config: LocalKafkaConfig, paths: LocalKafkaPaths, formatting: boolean): Promise<LocalAdminCredentials> {
  if (formatting) {
    const admin = newAdminCredentials();
    await writeLocalAdminCredentials(config, admin);
    return admin;
  }
  const admin = await readLocalAdminCredentials(config);
  if (admin === undefined) {
    throw new UserError(`the secure local Kafka in ${config.dataDir} lost its admin credentials (${paths.adminCredentials}); "nightjar kafka reset --secure" makes a new cluster`);
  }
  return admin;
}

function formatStorage(java: string, config: LocalKafkaConfig, paths: LocalKafkaPaths, clusterId: string, extraArgs: readonly string[]): void {
  const run = spawnSync(
    java,
    [`-Dlog4j2.configurationFile=${paths.log4jConfig}`, '-cp', classpath(config), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', paths.serverProperties, ...extraArgs],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (run.status !== 0) {
    const lines = `${run.stdout ?? ''}\n${run.stderr ?? ''}`.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    const why = run.error ? run.error.message : (lines.at(-1) ?? `exit code ${run.status}`);
    throw new UserError(`formatting the Kafka storage in ${paths.storageDir} failed: ${why}`);
  }
}

/** Launches the broker JVM detached from this process (it outlives the CLI); returns its pid. */
function spawnBroker(java: string, config: LocalKafkaConfig, paths: LocalKafkaPaths): number {
  const out = openSync(paths.jvmLog, 'a');
  try {
    const child = spawn(
      java,
      [
        '-Xms256m',
        `-Xmx${config.maxHeap}`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:+ExplicitGCInvokesConcurrent',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${paths.log4jConfig}`,
        // Where Kafka would put its own log files if anything ignored our log4j configuration.
        `-Dkafka.logs.dir=${paths.logsDir}`,
        '-cp',
        classpath(config),
        'kafka.Kafka',
        paths.serverProperties,
      ],
      { detached: true, stdio: ['ignore', out, out], cwd: config.dataDir },
    );
    if (child.pid === undefined) throw new UserError(`could not launch ${java} for the local Kafka`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** Polls with real metadata requests until the broker answers; fails early if the JVM exits. */
async function waitUntilAnswering(config: LocalKafkaConfig, paths: LocalKafkaPaths, pid: number, timeoutMs: number): Promise<void> {
  const bootstrap = localBootstrap(config);
  const deadline = Date.now() + timeoutMs;
  const expectedCluster = await readClusterId(paths);
  const admin = await probeAccount(config);
  for (;;) {
    if (!isAlive(pid)) {
      throw new UserError(`the local Kafka exited during start-up; see ${paths.serverLog} and ${paths.jvmLog}${await lastLogError(paths)}`);
    }
    const answer = await probe(bootstrap, admin);
    if (answer && (expectedCluster === undefined || answer.clusterId === expectedCluster)) return;
    if (Date.now() > deadline) {
      throw new UserError(`the local Kafka (pid ${pid}) did not answer on ${bootstrap} within ${timeoutMs / 1000} s; see ${paths.serverLog}${await lastLogError(paths)}`);
    }
    await sleep(250);
  }
}

/** The account a probe of this broker signs in with: the admin of a secure broker, none otherwise. */
async function probeAccount(config: LocalKafkaConfig): Promise<LocalAdminCredentials | undefined> {
  return config.secure === true ? readLocalAdminCredentials(config) : undefined;
}

/** One metadata request with a short timeout: the cluster id when a Kafka broker answers. */
async function probe(bootstrap: string, account?: LocalAdminCredentials): Promise<{ clusterId: string } | undefined> {
  const sasl = account === undefined ? {} : { sasl: { mechanism: 'SCRAM-SHA-512' as const, username: account.username, password: account.password } };
  const admin = createAdmin({ bootstrap: [bootstrap], clientId: 'nightjar-local-kafka', ...sasl }, { retries: 0, connectTimeout: 1000, timeout: 2000, role: 'probe' });
  try {
    const metadata = await admin.metadata({ topics: [] });
    return { clusterId: metadata.id };
  } catch {
    return undefined;
  } finally {
    await admin.close().catch(() => {});
  }
}

/** SIGTERM, wait up to graceMs, then SIGKILL. Returns true when SIGKILL was needed. */
async function terminate(pid: number, paths: LocalKafkaPaths, graceMs: number): Promise<boolean> {
  if (!signal(pid, 'SIGTERM')) return false;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return false;
    await sleep(100);
  }
  signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < killDeadline) await sleep(100);
  if (isAlive(pid)) throw new UserError(`the local Kafka (pid ${pid}) survived SIGKILL; see ${paths.serverLog}`);
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Alive and not a zombie (a child of this process that exited but was not reaped yet). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return true; // no procfs: trust kill(0)
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** The pid is alive and is the Kafka JVM of this data folder (pids get reused after a reboot). */
function isBrokerProcess(pid: number, paths: LocalKafkaPaths): boolean {
  if (!isAlive(pid)) return false;
  const cmdline = readProc(`/proc/${pid}/cmdline`);
  if (cmdline === undefined) return true; // no procfs: trust the pid file
  const args = cmdline.split('\0');
  return args.includes('kafka.Kafka') && args.includes(paths.serverProperties);
}

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

// ---- files ----

async function readState(paths: LocalKafkaPaths): Promise<BrokerState | undefined> {
  let text: string;
  try {
    text = await readFile(paths.pidFile, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const state = JSON.parse(text) as Partial<BrokerState>;
    if (typeof state.pid !== 'number' || typeof state.port !== 'number') return undefined;
    return {
      pid: state.pid,
      port: state.port,
      controllerPort: state.controllerPort ?? state.port + 1,
      version: state.version ?? 'unknown',
      owner: state.owner ?? 'cli',
      startedAt: state.startedAt ?? '',
    };
  } catch {
    return undefined; // a torn or hand-edited pid file is treated as absent
  }
}

async function readClusterId(paths: LocalKafkaPaths): Promise<string | undefined> {
  const text = await readFile(paths.metaProperties, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseProperties(text).get('cluster.id');
}

/** ": <last ERROR line>" from the broker's logs, to put the cause in the one-line message. */
async function lastLogError(paths: LocalKafkaPaths): Promise<string> {
  for (const file of [paths.serverLog, paths.jvmLog]) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    const line = lines.findLast((l) => / (ERROR|FATAL) /.test(l) || /^(Error|Exception)/.test(l)) ?? (file === paths.jvmLog ? lines.at(-1) : undefined);
    if (line) return `: ${line.length > 300 ? line.slice(0, 300) + '...' : line}`;
  }
  return '';
}

// ---- ports ----

/** True when nothing listens on 127.0.0.1:port (we can bind it ourselves). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function assertPortFree(port: number, role: 'broker' | 'controller'): Promise<void> {
  if (await portIsFree(port)) return;
  const what = role === 'broker' && (await probe(`127.0.0.1:${port}`)) ? 'another Kafka broker (not the one of this checkout)' : 'another process';
  throw new UserError(`port ${port} on 127.0.0.1 (Kafka ${role}) is in use by ${what}; stop it or choose other ports with NIGHTJAR_KAFKA_PORT (the controller uses port + 1)`);
}

// ---- lock ----

/**
 * An exclusive lock file holding the owner's pid. A lock whose owner died is taken over; a live
 * owner is waited for (it may be fetching jars or waiting for the broker to answer).
 */
async function withLock<T>(paths: LocalKafkaPaths, fn: () => Promise<T>, waitMs = 300_000): Promise<T> {
  await mkdir(path.dirname(paths.lockFile), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(paths.lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(paths.lockFile, 'utf8').catch(() => '')).trim());
    const abandoned = Number.isInteger(holder) && holder > 0 ? holder !== process.pid && !isAlive(holder) : await olderThan(paths.lockFile, 10_000);
    if (abandoned) {
      await unlink(paths.lockFile).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) {
      throw new UserError(`another nightjar process (pid ${holder || 'unknown'}) has been starting or stopping the local Kafka for ${Math.round(waitMs / 1000)} s; if none is running, delete ${paths.lockFile}`);
    }
    await sleep(200);
  }
  try {
    return await fn();
  } finally {
    await unlink(paths.lockFile).catch(() => {});
  }
}

/** A lock file without a pid (its writer died between creating and writing it) is stale after a while. */
async function olderThan(file: string, ms: number): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > ms;
}
