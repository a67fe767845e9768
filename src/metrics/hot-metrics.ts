/**
 * Counters and histograms for the per-request hot path. prom-client's labelled children re-validate
 * and re-hash their labels on every `inc()`/`observe()`; here a cell is looked up once (per route,
 * per table) and updating it is a few arithmetic operations. At scrape time the cells are rendered in
 * prom-client's metric JSON form, so they aggregate across workers with everything else.
 */

/** One labelled counter value. */
export class CounterCell {
  value = 0;
  /** Adds `n` (default 1). */
  inc(n = 1): void {
    this.value += n;
  }
}

/** One labelled histogram: per-bucket counts (not cumulative), sum and count. */
export class HistogramCell {
  readonly #bounds: readonly number[];
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one observation. */
  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** A metric value in prom-client's JSON form (what `Registry.getMetricsAsJSON()` returns). */
export interface MetricJson {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  readonly values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

abstract class HotMetric<Cell> {
  readonly name: string;
  readonly help: string;
  readonly #labelNames: readonly string[];
  protected readonly cells = new Map<string, { labels: Record<string, string>; cell: Cell }>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.#labelNames = labelNames;
  }

  /** The cell for these label values (in label-name order), created on first use. */
  cell(...values: string[]): Cell {
    const key = values.join('\u0000');
    let entry = this.cells.get(key);
    if (entry === undefined) {
      const labels: Record<string, string> = {};
      this.#labelNames.forEach((name, i) => (labels[name] = values[i] ?? ''));
      entry = { labels, cell: this.create() };
      this.cells.set(key, entry);
    }
    return entry.cell;
  }

  protected abstract create(): Cell;
  /** The metric in prom-client JSON form. */
  abstract toJSON(): MetricJson;
}

/** A counter for the hot path; see the module comment. */
export class HotCounter extends HotMetric<CounterCell> {
  protected create(): CounterCell {
    return new CounterCell();
  }

  toJSON(): MetricJson {
    const values = [...this.cells.values()].map(({ labels, cell }) => ({ value: cell.value, labels: { ...labels } }));
    return { name: this.name, help: this.help, type: 'counter', aggregator: 'sum', values };
  }
}

/** A histogram for the hot path; see the module comment. */
export class HotHistogram extends HotMetric<HistogramCell> {
  readonly #bounds: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(name, help, labelNames);
    this.#bounds = [...bounds].sort((a, b) => a - b);
  }

  protected create(): HistogramCell {
    return new HistogramCell(this.#bounds);
  }

  toJSON(): MetricJson {
    const values: MetricJson['values'] = [];
    for (const { labels, cell } of this.cells.values()) {
      let cumulative = 0;
      this.#bounds.forEach((bound, i) => {
        cumulative += cell.counts[i]!;
        values.push({ value: cumulative, labels: { le: bound, ...labels }, metricName: `${this.name}_bucket` });
      });
      values.push({ value: cell.count, labels: { le: '+Inf', ...labels }, metricName: `${this.name}_bucket` });
      values.push({ value: cell.sum, labels: { ...labels }, metricName: `${this.name}_sum` });
      values.push({ value: cell.count, labels: { ...labels }, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }
}
