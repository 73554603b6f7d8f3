// The local broker's jars: fetched from Maven Central by Maven (kafka/pom.xml) into a cache
// folder, again only when the folder is missing or the pom changed since the last fetch.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../util/errors.ts';
import { kafkaVersionFromJars } from './local-config.ts';

/** Written into the libs folder after a complete fetch: the sha256 of the pom it came from. */
const STAMP = '.pom.sha256';

export interface JarsResult {
  /** The Kafka version of the jars (from kafka_2.13-X.jar). */
  readonly version: string;
  /** True when Maven ran (first start, or the pom changed). */
  readonly fetched: boolean;
}

/** Makes sure libsDir holds the jars the pom lists; runs Maven when it does not. */
export async function ensureKafkaJars(pomFile: string, libsDir: string, onProgress: (line: string) => void = () => {}): Promise<JarsResult> {
  let pom: Buffer;
  try {
    pom = await readFile(pomFile);
  } catch (err) {
    throw new UserError(`cannot read the Kafka pom ${pomFile}: ${(err as Error).message}`);
  }
  const digest = createHash('sha256').update(pom).digest('hex');
  const stamp = await readFile(path.join(libsDir, STAMP), 'utf8').catch(() => '');
  if (stamp.trim() === digest) {
    const version = kafkaVersionFromJars(await readdir(libsDir));
    if (version) return { version, fetched: false };
  }

  onProgress(`Fetching the Kafka jars with Maven into ${libsDir}`);
  // Fetch into a fresh folder and swap it in at the end: an interrupted fetch never leaves a
  // half-filled libs folder that looks complete, and jars of an older pom do not linger.
  const staging = `${libsDir}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(path.dirname(libsDir), { recursive: true });
  const logFile = path.join(path.dirname(libsDir), 'maven.log');
  await runMaven(pomFile, staging, logFile, libsDir);
  const names = await readdir(staging);
  const version = kafkaVersionFromJars(names);
  if (!version) {
    throw new UserError(`Maven ran but no kafka_2.13 jar is in ${staging}; check ${pomFile} (log: ${logFile})`);
  }
  await writeFile(path.join(staging, STAMP), digest + '\n');
  await rm(libsDir, { recursive: true, force: true });
  await rename(staging, libsDir);
  return { version, fetched: true };
}

async function runMaven(pomFile: string, outputDir: string, logFile: string, libsDir: string): Promise<void> {
  const args = ['-B', '-q', '-f', pomFile, 'dependency:copy-dependencies', `-DoutputDirectory=${outputDir}`, '-DincludeScope=runtime'];
  const output: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => output.push(b));
    child.stderr.on('data', (b: Buffer) => output.push(b));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(new UserError(`the Kafka jars are not in ${libsDir} yet and Maven (mvn) is not installed; install Maven 3 (e.g. apt-get install maven) so they can be fetched from Maven Central`));
      } else {
        reject(new UserError(`cannot run Maven: ${err.message}`));
      }
    });
    child.on('close', resolve);
  });
  const text = Buffer.concat(output).toString('utf8');
  await writeFile(logFile, text);
  if (code !== 0) {
    throw new UserError(`Maven could not fetch the Kafka jars (exit code ${code}): ${firstMavenError(text)} (full log: ${logFile})`);
  }
}

/** The most telling line of Maven's output: its first [ERROR] line, without ANSI colours. */
export function firstMavenError(output: string): string {
  const clean = output.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex
  const lines = clean.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const error = lines.find((l) => l.startsWith('[ERROR]') && l.length > '[ERROR]'.length);
  return (error ?? lines.at(-1) ?? 'no output').replace(/^\[ERROR\]\s*/, '');
}
