// SPDX-License-Identifier: Apache-2.0
// The Store benchmark on etcd: `npm run bench:store -- --etcd` (add `--json` for one JSON object on
// stdout, `--quick` for a tenth of the work). It starts one throwaway etcd member and measures, in
// one run and at the same concurrency, the EtcdStore next to the raw etcd3 client. See
// docs/benchmarks.md ("Store on etcd").
import { cpus, freemem, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Store } from '@cpkit/core';
import { startEtcdCluster } from '@cpkit/core/testing';
import { openEtcdStore } from '@cpkit/store-etcd';
import { Etcd3 } from 'etcd3';

/** Flags the root store benchmark passes on. */
export interface EtcdStoreBenchFlags {
  json: boolean;
  quick: boolean;
}

/** Outstanding operations in every throughput measurement, Store and raw alike. */
const outstanding = 64;
const listSize = 1_000;
const listPageSize = 100;
const watchers = 100;

interface Row {
  metric: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
  note?: string;
}

/** A distinct, flat 1 KiB JSON value (about the size of a small Pod), as in the embedded bench. */
function objectValue(i: number): string {
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

const keyOf = (prefix: string, i: number): string => `${prefix}${String(i).padStart(8, '0')}`;

/** Operations per wall-clock second of `operation(i)` for i in [0, count), `outstanding` at a time. */
async function rate(count: number, operation: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  // A pool of workers keeps exactly `outstanding` calls in flight (no batch barriers).
  const worker = async (): Promise<void> => {
    while (next < count) await operation(next++);
  };
  await Promise.all(Array.from({ length: outstanding }, worker));
  return count / ((performance.now() - started) / 1000);
}

function percentile(sorted: Float64Array | number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** p50 and p99 in ms of `runs` sequential calls of `operation`. */
async function latency(
  runs: number,
  operation: () => Promise<unknown>,
): Promise<{ p50: number; p99: number }> {
  const samples = new Float64Array(runs);
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await operation();
    samples[i] = performance.now() - started;
  }
  samples.sort();
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

const format = (value: number): string => Math.round(value).toLocaleString('en-US');

function machine(): Record<string, string | number> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free)`,
    node: process.version,
  };
}

function printTable(rows: Row[]): void {
  const header = ['metric', 'value', 'unit', 'target', 'ok', 'note'];
  const body = rows.map((row) => [
    row.metric,
    row.value >= 100 ? format(row.value) : row.value.toFixed(2),
    row.unit,
    row.target ?? '',
    row.pass === undefined ? '' : row.pass ? 'yes' : 'NO',
    row.note ?? '',
  ]);
  const widths = header.map((_, c) => Math.max(header[c].length, ...body.map((line) => line[c].length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  process.stdout.write(
    `${[line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n')}\n`,
  );
}

/** Runs the etcd benchmark and prints its table (or JSON). */
export async function runEtcdStoreBench(flags: EtcdStoreBenchFlags): Promise<void> {
  const log = (message: string): void => {
    if (!flags.json) process.stderr.write(`${message}\n`);
  };
  const scale = flags.quick ? 0.1 : 1;
  const counts = {
    creates: Math.round(10_000 * scale),
    gets: Math.round(20_000 * scale),
    listRuns: Math.max(20, Math.round(200 * scale)),
    watchWrites: Math.round(2_000 * scale),
  };
  const rows: Row[] = [];
  const started = performance.now();
  const etcd = await startEtcdCluster({ name: 'bench' });
  log(
    `machine: ${JSON.stringify(machine())}; etcd ${etcd.endpoints[0]}; ${outstanding} outstanding operations`,
  );
  const store: Store = await openEtcdStore({ endpoints: etcd.endpoints });
  const raw = new Etcd3({ hosts: etcd.endpoints });
  try {
    const values = Array.from({ length: counts.creates }, (_, i) => objectValue(i));

    // Creates and gets alternate Store and raw twice (store, raw, raw, store) so neither side
    // always runs on a fuller database or a warmer JIT; each side's figure is the mean of its two runs.
    log(`creates: 2 x ${counts.creates} through the Store and 2 x ${counts.creates} raw puts`);
    const storeCreates: number[] = [];
    const rawPuts: number[] = [];
    const rawTxns: number[] = [];
    for (const [round, order] of [['a', ['store', 'raw']] as const, ['b', ['raw', 'store']] as const]) {
      for (const side of order) {
        if (side === 'store') {
          storeCreates.push(
            await rate(counts.creates, (i) => store.create(keyOf(`/bench/store-${round}/`, i), values[i])),
          );
        } else {
          rawPuts.push(
            await rate(counts.creates, (i) =>
              raw
                .put(keyOf(`/bench/raw-${round}/`, i))
                .value(values[i])
                .exec(),
            ),
          );
        }
      }
    }
    // What a create is underneath: a transaction on create_revision == 0 (for reference only).
    log(`raw create transactions: ${counts.creates}`);
    rawTxns.push(
      await rate(counts.creates, (i) => {
        const key = keyOf('/bench/txn/', i);
        return raw.if(key, 'Create', '==', 0).then(raw.put(key).value(values[i])).commit();
      }),
    );

    log(`gets: 2 x ${counts.gets} through the Store and 2 x ${counts.gets} raw`);
    const storeGets: number[] = [];
    const rawGets: number[] = [];
    const spread = (i: number): number => (i * 7919) % counts.creates;
    for (const order of [
      ['store', 'raw'],
      ['raw', 'store'],
    ] as const) {
      for (const side of order) {
        if (side === 'store')
          storeGets.push(await rate(counts.gets, (i) => store.get(keyOf('/bench/store-a/', spread(i)))));
        else rawGets.push(await rate(counts.gets, (i) => raw.get(keyOf('/bench/raw-a/', spread(i))).exec()));
      }
    }
    const mean = (list: number[]): number => list.reduce((sum, x) => sum + x, 0) / list.length;
    const createRatio = mean(storeCreates) / mean(rawPuts);
    const getRatio = mean(storeGets) / mean(rawGets);
    rows.push(
      {
        metric: 'Store creates',
        value: mean(storeCreates),
        unit: 'ops/s',
        target: '>= 0.8 x raw',
        pass: createRatio >= 0.8,
        note: `runs ${storeCreates.map(format).join(', ')}; Store/raw put = ${createRatio.toFixed(2)}`,
      },
      {
        metric: 'raw etcd3 puts, same rows',
        value: mean(rawPuts),
        unit: 'ops/s',
        note: `runs ${rawPuts.map(format).join(', ')}`,
      },
      {
        metric: 'raw etcd3 create txns (reference)',
        value: mean(rawTxns),
        unit: 'ops/s',
        note: `Store/raw txn = ${(mean(storeCreates) / mean(rawTxns)).toFixed(2)}`,
      },
      {
        metric: 'Store gets',
        value: mean(storeGets),
        unit: 'ops/s',
        target: '>= 0.8 x raw',
        pass: getRatio >= 0.8,
        note: `runs ${storeGets.map(format).join(', ')}; Store/raw = ${getRatio.toFixed(2)}`,
      },
      {
        metric: 'raw etcd3 gets, same keys',
        value: mean(rawGets),
        unit: 'ops/s',
        note: `runs ${rawGets.map(format).join(', ')}`,
      },
    );

    // Lists of 1,000 keys: sequential calls, so these are latencies of one whole listing.
    log(`lists: ${counts.listRuns} listings of ${listSize} keys, unpaged and in pages of ${listPageSize}`);
    const listPrefix = '/bench/list/';
    await rate(listSize, (i) => store.create(keyOf(listPrefix, i), values[i % values.length]));
    const unpaged = await latency(counts.listRuns, async () => {
      const page = await store.list(listPrefix);
      if (page.items.length !== listSize)
        throw new Error(`listed ${page.items.length} keys, expected ${listSize}`);
    });
    const paged = await latency(counts.listRuns, async () => {
      let token: string | undefined;
      let total = 0;
      do {
        const page = await store.list(listPrefix, { limit: listPageSize, continue: token });
        total += page.items.length;
        token = page.continue;
      } while (token !== undefined);
      if (total !== listSize) throw new Error(`listed ${total} keys, expected ${listSize}`);
    });
    const rawList = await latency(counts.listRuns, () => raw.getAll().prefix(listPrefix).exec());
    rows.push(
      {
        metric: `Store list of ${listSize} keys, unpaged, p50`,
        value: unpaged.p50,
        unit: 'ms',
        note: `p99 ${unpaged.p99.toFixed(2)} ms; raw etcd3 getAll p50 ${rawList.p50.toFixed(2)}, p99 ${rawList.p99.toFixed(2)} ms`,
      },
      { metric: `Store list of ${listSize} keys, unpaged, p99`, value: unpaged.p99, unit: 'ms' },
      {
        metric: `Store list of ${listSize} keys, pages of ${listPageSize}, p50`,
        value: paged.p50,
        unit: 'ms',
        note: `p99 ${paged.p99.toFixed(2)} ms (whole listing, ${listSize / listPageSize} pages)`,
      },
      {
        metric: `Store list of ${listSize} keys, pages of ${listPageSize}, p99`,
        value: paged.p99,
        unit: 'ms',
      },
      {
        metric: `raw etcd3 getAll of ${listSize} keys, p50`,
        value: rawList.p50,
        unit: 'ms',
        note: `p99 ${rawList.p99.toFixed(2)} ms`,
      },
    );

    // Watch delivery: every watcher must see every write once, in order.
    log(
      `watch: ${watchers} watchers on one prefix, ${counts.watchWrites} creates, ${outstanding} outstanding`,
    );
    const watchPrefix = '/bench/watched/';
    const base = await store.currentRevision();
    const sentAt = new Map<number, number>();
    const sentByIndex = new Float64Array(counts.watchWrites);
    const latencies: number[] = [];
    const early: { revision: number; at: number }[] = [];
    const received = new Int32Array(watchers);
    let outOfOrder = 0;
    const subscriptions = Array.from({ length: watchers }, (_, w) => {
      let last = base;
      return store.watch(watchPrefix, { afterRevision: base }).subscribe((event) => {
        const now = performance.now();
        const sent = sentAt.get(event.revision);
        // An event can arrive before its create resolved (and the revision is known): settle later.
        if (sent === undefined) early.push({ revision: event.revision, at: now });
        else latencies.push(now - sent);
        if (event.revision <= last) outOfOrder++;
        last = event.revision;
        received[w]++;
      });
    });
    // Give the watch streams time to be established before the first write.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const writes = await rate(counts.watchWrites, async (i) => {
      sentByIndex[i] = performance.now();
      const entry = await store.create(keyOf(watchPrefix, i), values[i % values.length]);
      sentAt.set(entry.modRevision, sentByIndex[i]);
    });
    const deadline = Date.now() + 30_000;
    while (received.some((count) => count < counts.watchWrites) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const subscription of subscriptions) subscription.unsubscribe();
    for (const { revision, at } of early) latencies.push(at - (sentAt.get(revision) ?? at));
    const complete = received.every((count) => count === counts.watchWrites) && outOfOrder === 0;
    const sorted = Float64Array.from(latencies).sort();
    const p99 = percentile(sorted, 99);
    rows.push({
      metric: `watch delivery p99 (${watchers} watchers, ${outstanding} outstanding creates)`,
      value: p99,
      unit: 'ms',
      target: 'every event once, in order',
      pass: complete,
      note: `${sorted.length} deliveries, every watcher got every event once, in order: ${complete}; p50 ${percentile(sorted, 50).toFixed(2)} ms, max ${sorted[sorted.length - 1].toFixed(2)} ms; ${format(writes)} creates/s`,
    });
  } finally {
    raw.close();
    await store.close();
    await etcd.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ benchmark: 'store-etcd', machine: machine(), outstanding, counts, seconds, results: rows })}\n`,
    );
  } else {
    printTable(rows);
    process.stdout.write(`(${seconds.toFixed(1)} s)\n`);
  }
}
