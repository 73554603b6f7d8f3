// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
// Prometheus text exposition format (version 0.0.4), which every Prometheus server and agent
// scrapes. Small on purpose: the broker needs a few dozen series, not a client library.

export type Labels = Readonly<Record<string, string | number>>;

interface Series {
  labels: Labels;
  key: string;
}

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  render(out: string[]): void;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function checkLabels(metric: string, allowed: readonly string[], labels: Labels): void {
  const given = Object.keys(labels);
  if (given.length !== allowed.length || given.some((l) => !allowed.includes(l))) {
    throw new Error(`metric ${metric}: labels must be {${allowed.join(', ')}}, got {${given.join(', ')}}`);
  }
}

function seriesKey(labels: Labels, names: readonly string[]): string {
  return names.map((n) => String(labels[n])).join('\u0000');
}

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(labels: Labels, names: readonly string[], extra?: [string, string]): string {
  const parts = names.map((n) => `${n}="${escapeLabelValue(String(labels[n]))}"`);
  if (extra !== undefined) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** A number as the text format writes it (+Inf, -Inf, NaN; integers without exponent). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return Number.isInteger(value) && Math.abs(value) < 1e21 ? value.toFixed(0) : String(value);
}

abstract class Labelled<S extends Series> implements Metric {
  readonly name: string;
  readonly help: string;
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  protected readonly labelNames: readonly string[];
  protected readonly series = new Map<string, S>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    for (const l of labelNames) if (!LABEL.test(l) || l.startsWith('__') || l === 'le') throw new Error(`metric ${name}: invalid label name ${l}`);
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  protected abstract create(labels: Labels, key: string): S;

  protected get(labels: Labels): S {
    const key = seriesKey(labels, this.labelNames);
    let s = this.series.get(key);
    if (s === undefined) {
      checkLabels(this.name, this.labelNames, labels);
      s = this.create({ ...labels }, key);
      this.series.set(key, s);
    }
    return s;
  }

  /** Forgets one series (e.g. a removed filter's, or a partition no longer assigned). */
  remove(labels: Labels): void {
    this.series.delete(seriesKey(labels, this.labelNames));
  }

  /** Forgets every series. */
  reset(): void {
    this.series.clear();
  }

  abstract render(out: string[]): void;
}

interface ValueSeries extends Series {
  value: number;
}

export class Counter extends Labelled<ValueSeries> {
  readonly type = 'counter';

  protected create(labels: Labels, key: string): ValueSeries {
    return { labels, key, value: 0 };
  }

  inc(labels: Labels = {}, amount = 1): void {
    if (!(amount >= 0)) throw new Error(`counter ${this.name} can only go up, not by ${amount}`);
    this.get(labels).value += amount;
  }

  value(labels: Labels = {}): number {
    return this.series.get(seriesKey(labels, this.labelNames))?.value ?? 0;
  }

  render(out: string[]): void {
    for (const s of this.series.values()) out.push(`${this.name}${labelText(s.labels, this.labelNames)} ${formatValue(s.value)}`);
  }
}

export class Gauge extends Labelled<ValueSeries> {
  readonly type = 'gauge';

  protected create(labels: Labels, key: string): ValueSeries {
    return { labels, key, value: 0 };
  }

  set(labels: Labels, value: number): void {
    this.get(labels).value = value;
  }

  value(labels: Labels = {}): number | undefined {
    return this.series.get(seriesKey(labels, this.labelNames))?.value;
  }

  render(out: string[]): void {
    for (const s of this.series.values()) out.push(`${this.name}${labelText(s.labels, this.labelNames)} ${formatValue(s.value)}`);
  }
}

interface HistogramSeries extends Series {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Labelled<HistogramSeries> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  constructor(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []) {
    super(name, help, labelNames);
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= (buckets[i - 1] as number)))) {
      throw new Error(`histogram ${name}: buckets must be finite and increasing`);
    }
    this.buckets = buckets;
  }

  protected create(labels: Labels, key: string): HistogramSeries {
    return { labels, key, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }

  observe(value: number, labels: Labels = {}): void {
    const s = this.get(labels);
    // Cumulative buckets: a value counts in every bucket whose bound it does not exceed.
    for (let i = 0; i < this.buckets.length; i++) if (value <= (this.buckets[i] as number)) s.counts[i] = (s.counts[i] as number) + 1;
    s.sum += value;
    s.count++;
  }

  /** Observations so far (all series of these labels). */
  count(labels: Labels = {}): number {
    return this.series.get(seriesKey(labels, this.labelNames))?.count ?? 0;
  }

  render(out: string[]): void {
    for (const s of this.series.values()) {
      this.buckets.forEach((bound, i) => out.push(`${this.name}_bucket${labelText(s.labels, this.labelNames, ['le', formatValue(bound)])} ${formatValue(s.counts[i] as number)}`));
      out.push(`${this.name}_bucket${labelText(s.labels, this.labelNames, ['le', '+Inf'])} ${formatValue(s.count)}`);
      out.push(`${this.name}_sum${labelText(s.labels, this.labelNames)} ${formatValue(s.sum)}`);
      out.push(`${this.name}_count${labelText(s.labels, this.labelNames)} ${formatValue(s.count)}`);
    }
  }
}

/** The content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }

  histogram(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []): Histogram {
    return this.add(new Histogram(name, help, buckets, labelNames));
  }

  /** Every metric in the text exposition format, in registration order. */
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics.values()) {
      out.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.type}`);
      m.render(out);
    }
    return `${out.join('\n')}\n`;
  }

  private add<M extends Metric>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new Error(`metric ${metric.name} is registered twice`);
    this.metrics.set(metric.name, metric);
    return metric;
  }
}
