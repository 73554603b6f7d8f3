// Lease files shared by the local servers tests use (Kafka, PostgreSQL): whoever needs a server
// writes a lease file named after its pid; the server is stopped only when no live test process
// still holds one, so concurrent test runs never stop a server under each other's feet.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Writes a lease file in leasesDir; returns its path. */
export async function takeLease(leasesDir: string): Promise<string> {
  await mkdir(leasesDir, { recursive: true });
  const file = path.join(leasesDir, `${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(file, new Date().toISOString() + '\n');
  return file;
}

/** Counts leases of live processes and deletes those of dead ones (a crashed test run). */
export async function liveLeases(leasesDir: string): Promise<number> {
  let live = 0;
  for (const name of await readdir(leasesDir).catch(() => [] as string[])) {
    const pid = Number(name.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) live++;
    else await rm(path.join(leasesDir, name), { force: true });
  }
  return live;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
