// Summarises a V8 CPU profile (node --cpu-prof): the functions with the most self time, and the
// files they are in, so a profile of a benchmark run can be read in the terminal.
// Run: node bench/profile-summary.ts FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) return file.slice(nm + 'node_modules/'.length);
  return path.relative(process.cwd(), file);
}

/** Self time per function and per file, and total time (self + callees) per function, largest first. */
export function summarise(profile: Profile): { total: number; functions: SelfTime[]; files: SelfTime[]; inclusive: SelfTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (node === undefined) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = shortUrl(url);
    const name = `${functionName || '(anonymous)'} ${where}${url === '' ? '' : `:${lineNumber + 1}`}`;
    fn.set(name, (fn.get(name) ?? 0) + dt);
    file.set(where, (file.get(where) ?? 0) + dt);
    total += dt;
    // Each function on the stack once (recursion would count twice).
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame === undefined || frame.url === '') continue;
      onStack.add(`${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`);
    }
    for (const f of onStack) inclusive.set(f, (inclusive.get(f) ?? 0) + dt);
  });
  const sorted = (m: Map<string, number>): SelfTime[] => [...m].map(([name, ms]) => ({ name, ms, share: ms / total })).sort((a, b) => b.ms - a.ms);
  return { total, functions: sorted(fn), files: sorted(file), inclusive: sorted(inclusive) };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, match: { type: 'string' } } });
  // --match REGEX: total time of the functions whose name or file matches (e.g. "src/").
  const top = Number(values.top);
  for (const file of positionals) {
    const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    console.log(`${file}: ${(s.total / 1000).toFixed(1)} s sampled`);
    console.log('  self time by function:');
    for (const f of s.functions.slice(0, top)) console.log(`  ${(f.share * 100).toFixed(1).padStart(5)}% ${(f.ms / 1000).toFixed(2).padStart(7)} s  ${f.name}`);
    console.log('  self time by file:');
    for (const f of s.files.slice(0, Math.min(top, 15))) console.log(`  ${(f.share * 100).toFixed(1).padStart(5)}% ${(f.ms / 1000).toFixed(2).padStart(7)} s  ${f.name}`);
    const match = new RegExp(values.match ?? '^src/|\\ssrc/');
    console.log(`  total time (self + callees) by function${values.match === undefined ? ' in src/' : ` matching ${values.match}`}:`);
    for (const f of s.inclusive.filter((f) => match.test(f.name)).slice(0, top)) console.log(`  ${(f.share * 100).toFixed(1).padStart(5)}% ${(f.ms / 1000).toFixed(2).padStart(7)} s  ${f.name}`);
  }
}
