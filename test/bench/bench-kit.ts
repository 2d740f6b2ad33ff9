// SPDX-License-Identifier: Apache-2.0
// What every benchmark script shares: the machine description, the printed table, percentiles and the
// 1 KiB object the store benchmarks write.
import { cpus, freemem, loadavg, totalmem } from 'node:os';

/** The machine a run happened on, for the table's header line and the JSON output. */
export function machine(): Record<string, string | number> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free)`,
    node: process.version,
    loadAverage: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

/** Prints a Markdown table with padded columns to stdout. */
export function printMarkdownTable(header: string[], body: string[][]): void {
  const widths = header.map((_, c) => Math.max(header[c].length, ...body.map((line) => line[c].length)));
  const format = (line: string[]): string =>
    `| ${line.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  const lines = [format(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(format)];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The p-th percentile (nearest rank) of ascending `sorted`. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** A whole number with thousands separators. */
export const formatCount = (value: number): string => Math.round(value).toLocaleString('en-US');

/** A distinct, flat 1 KiB JSON value (about the size of a small Pod). */
export function objectValue(i: number): string {
  const head = JSON.stringify({
    kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: 'default' },
    spec: '',
  });
  return JSON.stringify({
    kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: 'default' },
    spec: 'x'.repeat(1024 - head.length),
  });
}

/** The i-th key under `prefix`, zero-padded so keys sort in creation order. */
export const keyOf = (prefix: string, i: number): string => `${prefix}${String(i).padStart(8, '0')}`;

/** One measured row of the store benchmarks' tables. */
export interface MetricRow {
  metric: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
  note?: string;
}

/** Prints metric rows as `metric | value | unit | target | ok | note`. */
export function printMetricRows(rows: readonly MetricRow[]): void {
  printMarkdownTable(
    ['metric', 'value', 'unit', 'target', 'ok', 'note'],
    rows.map((row) => [
      row.metric,
      row.value >= 100 ? formatCount(row.value) : row.value.toFixed(2),
      row.unit,
      row.target ?? '',
      row.pass === undefined ? '' : row.pass ? 'yes' : 'NO',
      row.note ?? '',
    ]),
  );
}
