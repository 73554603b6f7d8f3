// The benchmark harness's pure parts: the result line each benchmark prints, the report made
// from them, percentiles, and the replication of real Rubin alerts into a night.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { encodeJsonRecord, jsonRecord } from '../src/delivery/records.ts';
import { jsonStreamEncoder } from '../src/delivery/stream-encoder.ts';
import { toAlert } from '../src/formats/adapters/index.ts';
import { encodeMessage } from '../src/formats/message.ts';
import { repoRoot } from '../src/kafka/local-config.ts';
import { benchFilters } from '../bench/lib/filters.ts';
import { loadRubinTemplates, OBJECT_ID_BASE, realNight, SOURCE_ID_BASE, visitOfSource } from '../bench/lib/real-night.ts';
import { formatValue, meetsTarget, parseBenchmarkOutput, renderMarkdown, resultBaseName, type Report } from '../bench/lib/report.ts';
import { percentile } from '../bench/lib/stats.ts';

const figure = { figure: 'pipeline throughput, 100 filters', value: 2500, unit: 'alerts/s', command: 'node bench/pipeline.ts', settings: { filters: 100, alerts: 30000 }, target: { min: 3000 } };

test('the last stdout line is the result; ids and bad lines are checked', () => {
  const out = parseBenchmarkOutput(`progress line\n{"name":"pipeline","results":[${JSON.stringify(figure)}]}\n\n`);
  assert.equal(out.name, 'pipeline');
  assert.deepEqual(out.results, [figure]);
  assert.throws(() => parseBenchmarkOutput(''), /printed nothing/);
  assert.throws(() => parseBenchmarkOutput('{"name":"x","results":[]}\nnot json'), /not JSON/);
  assert.throws(() => parseBenchmarkOutput('{"name":"x","results":[{"figure":"f","value":"fast","unit":"","command":"c","settings":{}}]}'), /"value" must be a number or null/);
  assert.throws(() => parseBenchmarkOutput('{"name":"x","results":[{"figure":"f","value":1,"unit":"","command":"","settings":{}}]}'), /"command"/);
});

test('targets: minimum, maximum, none, no value', () => {
  assert.equal(meetsTarget(figure), false);
  assert.equal(meetsTarget({ value: 3000, target: { min: 3000 } }), true);
  assert.equal(meetsTarget({ value: 1.9, target: { max: 2 } }), true);
  assert.equal(meetsTarget({ value: 2.1, target: { max: 2 } }), false);
  assert.equal(meetsTarget({ value: 5, target: undefined }), undefined);
  assert.equal(meetsTarget({ value: null, target: { min: 1 } }), undefined);
});

test('the markdown report has the machine, one row per figure with command and settings, and the misses', () => {
  const report: Report = {
    startedAt: '2026-11-22T05:00:00.000Z',
    finishedAt: '2026-11-22T05:20:00.000Z',
    quick: false,
    machine: { cores: 2, cpuModel: 'Test CPU', ramGB: 23.4, node: '24.21.0', platform: 'linux x64', loadAverage: [0.5, 0.4, 0.3] },
    loadAverageAtEnd: [1, 1, 1],
    benchmarks: [
      { name: 'pipeline', command: 'node bench/pipeline.ts', exitCode: 0, seconds: 100, results: [figure, { ...figure, figure: 'a | b', value: 0.034, unit: 'ratio', target: { min: 0.01 } }] },
      { name: 'latency', command: 'node bench/latency.ts', exitCode: 1, seconds: 5, results: [], error: 'failed (exit 1): boom' },
    ],
  };
  const md = renderMarkdown(report);
  assert.match(md, /2 cores \(Test CPU\), 23 GB RAM, Node 24\.21\.0/);
  assert.match(md, /\| pipeline \| pipeline throughput, 100 filters \| 2,500 \| alerts\/s \| ≥ 3,000 \| \*\*no\*\* \| filters=100 alerts=30000 \| `node bench\/pipeline\.ts` \|/);
  assert.match(md, /\| a \\\| b \| 0\.034 \| ratio \| ≥ 0\.010 \| yes \|/);
  assert.match(md, /latency \(`node bench\/latency\.ts`, exit 1\): failed \(exit 1\): boom/);
  assert.match(md, /Targets missed: pipeline: pipeline throughput, 100 filters\./);
});

test('value formatting and result file names', () => {
  assert.equal(formatValue(12345.6), '12,346');
  assert.equal(formatValue(42.25), '42.3');
  assert.equal(formatValue(1.234), '1.23');
  assert.equal(formatValue(0.0123), '0.012');
  assert.equal(formatValue(null), '—');
  assert.equal(resultBaseName(new Date('2026-11-22T05:06:07.890Z'), false), '2026-11-22T050607Z');
  assert.equal(resultBaseName(new Date('2026-11-22T05:06:07.890Z'), true), '2026-11-22T050607Z-quick');
});

test('percentiles by nearest rank', () => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  assert.equal(percentile(samples, 50), 50);
  assert.equal(percentile(samples, 99), 99);
  assert.equal(percentile(samples, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.throws(() => percentile([1], 101));
});

test('a night of real Rubin alerts: fresh exact ids, the visit in the id, real sizes, a moved sky', async () => {
  const templates = await loadRubinTemplates(path.resolve(repoRoot, '../shared/data'));
  assert.ok(templates.length >= 40, `${templates.length} real alerts`);
  const night = [...realNight(templates, { perVisit: 60, visits: 2, startMjd: 61000, seed: 3 })];
  assert.equal(night.length, 120);
  const sourceIds = new Set<bigint>();
  for (const a of night) {
    const alert = toAlert(a.record, a.schema.name);
    assert.equal(alert.sourceId, a.sourceId);
    assert.equal(typeof alert.objectId, 'bigint');
    assert.ok((alert.objectId as bigint) >= OBJECT_ID_BASE && (alert.objectId as bigint) < OBJECT_ID_BASE + 60n);
    assert.ok(a.sourceId > 2n ** 53n);
    assert.equal(visitOfSource(a.sourceId, 60), a.visit);
    assert.ok(Math.abs(alert.mjd - (61000 + (a.visit * 39) / 86400)) < 1e-6, `mjd ${alert.mjd}`);
    // History moved with the alert (two real rehearsal alerts have a point minutes after their trigger).
    for (const p of alert.lightcurve.detections) assert.ok(p.mjd <= alert.mjd + 0.01, `history point at ${p.mjd}, alert at ${alert.mjd}`);
    sourceIds.add(a.sourceId);
  }
  assert.equal(sourceIds.size, 120);
  assert.equal(night[0]?.sourceId, SOURCE_ID_BASE);
  // Cutouts kept: an encoded copy is as large as its template's encoding, within a few bytes.
  const first = night[0]!;
  const template = templates.find((t) => t.record.cutoutDifference === first.record.cutoutDifference)!;
  const size = (r: Record<string, unknown>): number => encodeMessage(r, { encoding: 'schemaless', schema: first.schema }).value.length;
  assert.ok(Math.abs(size(first.record) - size(template.record)) < 64);
  assert.ok(size(first.record) > 50_000);
  // The template is left as it was.
  assert.notEqual((template.record.diaSource as { diaSourceId: bigint }).diaSourceId, first.sourceId);
});

test('the filter mix: distinct SQL, every shape, Kafka outputs with topics', () => {
  const filters = benchFilters(1000, 'p');
  assert.equal(new Set(filters.map((f) => `${f.select} WHERE ${f.where}`)).size, 1000);
  const shapes = new Set(filters.map((f) => f.shape));
  assert.deepEqual([...shapes].sort(), ['broad', 'function', 'selective']);
  for (const f of filters) assert.equal(f.topic !== null, f.output.startsWith('kafka'));
  assert.ok(filters.filter((f) => f.shape === 'broad').every((f) => ['none', 'email', 'kafka'].includes(f.output)));
});

test('lite and full records written once per alert are byte for byte those of the plain writer, for every filter that reuses them', async () => {
  const templates = await loadRubinTemplates(path.resolve(repoRoot, '../shared/data'));
  const alerts = templates.slice(0, 12).map((t) => toAlert(t.record, t.schema.name));
  const rows = [
    { diaObjectId: 180_000_000_000_000_261n, alertSourceId: 170_000_000_000_000_001n, ra: 1.5, decl: Number.NaN, mag: null },
    { objectId: 'quote " and \\ backslash', UTC: 'replaced', n: 3 },
    { alert: 'a column named alert', x: 1 },
  ];
  for (const output of ['kafka', 'kafka-lite', 'kafka-full'] as const) {
    const encoder = jsonStreamEncoder(output);
    for (const alert of alerts) {
      for (const row of rows) {
        // Twice: the second time from the cached alert part.
        for (let pass = 0; pass < 2; pass++) assert.deepEqual(encoder.encode(row, alert, '2026-11-22 05:00:00').value, encodeJsonRecord(jsonRecord(output, row, alert, '2026-11-22 05:00:00')), `${output}, pass ${pass}`);
      }
      assert.deepEqual(encoder.encode(rows[0]!, undefined, 'u').value, encodeJsonRecord(jsonRecord(output, rows[0]!, undefined, 'u')));
    }
  }
});
