// SPDX-License-Identifier: Apache-2.0
// Store benchmark: `npm run bench:store` prints a table; `npm run bench:store -- --json` prints one
// JSON object on stdout; `-- --etcd` measures the etcd Store instead (etcd-store-bench.ts). See
// docs/benchmarks.md for what each row means and recorded results.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Store } from '@cpkit/core';
import { EmbeddedStore } from '@cpkit/store-embedded';
import Database from 'better-sqlite3';
import { keyOf, type MetricRow, machine, objectValue, percentile, printMetricRows } from './bench-kit.js';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    etcd: { type: 'boolean', default: false },
  },
});

/** Outstanding write promises per window: enough for group commit to batch, small enough for latency. */
const window = 256;
/** Outstanding writes in the durable fan-out run: a group commit of 32 writes x 1,000 watchers. */
const fanOutWindow = 32;
const scale = flags.quick ? 0.1 : 1;
const counts = {
  memoryCreates: Math.round(200_000 * scale),
  memoryGets: Math.round(500_000 * scale),
  durableCreates: Math.round(50_000 * scale),
  watchers: 1_000,
  watchWrites: Math.round(10_000 * scale),
  memoryObjects: Math.round(50_000 * scale),
};

// The root script runs without --expose-gc; turning the flag on at run time and fetching `gc` from a
// fresh context gives the same function.
setFlagsFromString('--expose-gc');
const gc = (globalThis.gc ?? runInNewContext('gc')) as () => void;

const log = (message: string): void => {
  if (!flags.json) process.stderr.write(`${message}\n`);
};

/** Operations per second of wall-clock time, and per second of this process's CPU time. */
interface Rate {
  wall: number;
  cpu: number;
}

/** CPU seconds (user + system) this process used since `since`. */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

/** Runs `operation(i)` for i in [0, count) with `outstanding` promises in flight at most. */
async function rate(
  count: number,
  operation: (i: number) => Promise<unknown>,
  outstanding: number = window,
): Promise<Rate> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let base = 0; base < count; base += outstanding) {
    const end = Math.min(count, base + outstanding);
    const batch: Promise<unknown>[] = [];
    for (let i = base; i < end; i++) batch.push(operation(i));
    await Promise.all(batch);
  }
  return { wall: count / ((performance.now() - started) / 1000), cpu: count / cpuSeconds(cpu) };
}

/** The note that puts a wall-clock rate beside its CPU-time rate (the machine is shared). */
const perCpu = (measured: Rate): string =>
  `${Math.round(measured.cpu).toLocaleString('en-US')} ops per CPU-second`;

type Row = MetricRow;
const rows: Row[] = [];
const directories: string[] = [];
const temporaryDirectory = (): string => {
  const directory = mkdtempSync(join(tmpdir(), 'cpkit-store-bench-'));
  directories.push(directory);
  return directory;
};

async function memoryThroughput(): Promise<void> {
  log(`in-memory: ${counts.memoryCreates} creates, ${counts.memoryGets} gets`);
  const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
  const values = Array.from({ length: 1024 }, (_, i) => objectValue(i));
  const creates = await rate(counts.memoryCreates, (i) =>
    store.create(keyOf('/registry/pods/default/', i), values[i & 1023]),
  );
  const gets = await rate(counts.memoryGets, (i) =>
    store.get(keyOf('/registry/pods/default/', (i * 7919) % counts.memoryCreates)),
  );
  await store.close();
  rows.push({
    metric: 'in-memory creates',
    value: creates.wall,
    unit: 'ops/s',
    target: '>= 100000',
    pass: creates.wall >= 100_000,
    note: perCpu(creates),
  });
  rows.push({
    metric: 'in-memory gets',
    value: gets.wall,
    unit: 'ops/s',
    target: '>= 200000',
    pass: gets.wall >= 200_000,
    note: perCpu(gets),
  });
}

async function durableThroughput(): Promise<void> {
  log(`durable: ${counts.durableCreates} creates through the Store, then raw better-sqlite3 inserts`);
  const rowsToWrite = Array.from({ length: counts.durableCreates }, (_, i) => ({
    key: keyOf('/registry/pods/default/', i),
    value: objectValue(i),
  }));
  const store = await EmbeddedStore.open({ path: temporaryDirectory(), compactionIntervalMs: 0 });
  const creates = await rate(counts.durableCreates, (i) =>
    store.create(rowsToWrite[i].key, rowsToWrite[i].value),
  );
  await store.close();

  // The same rows straight into SQLite with the store's schema, pragmas and batch size.
  const db = new Database(join(temporaryDirectory(), 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('locking_mode = EXCLUSIVE');
  db.exec(
    'CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, create_revision INTEGER NOT NULL, mod_revision INTEGER NOT NULL);' +
      'CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);' +
      "INSERT INTO meta VALUES ('revision', 0);",
  );
  const insert = db.prepare('INSERT OR REPLACE INTO kv VALUES (?, ?, ?, ?)');
  const setRevision = db.prepare("UPDATE meta SET value = ? WHERE name = 'revision'");
  const insertBatch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run(rowsToWrite[i].key, rowsToWrite[i].value, i + 1, i + 1);
    setRevision.run(to);
  });
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let base = 0; base < counts.durableCreates; base += window) {
    insertBatch(base, Math.min(counts.durableCreates, base + window));
  }
  const raw: Rate = {
    wall: counts.durableCreates / ((performance.now() - started) / 1000),
    cpu: counts.durableCreates / cpuSeconds(cpu),
  };
  db.close();
  rows.push({
    metric: 'durable creates (synchronous=full)',
    value: creates.wall,
    unit: 'ops/s',
    target: '>= 20000',
    pass: creates.wall >= 20_000,
    note: perCpu(creates),
  });
  rows.push({
    metric: 'raw better-sqlite3 inserts, same rows',
    value: raw.wall,
    unit: 'ops/s',
    note: `${perCpu(raw)}; store/raw = ${(creates.wall / raw.wall).toFixed(2)} (wall), ${(creates.cpu / raw.cpu).toFixed(2)} (CPU)`,
  });
}

async function watchFanOut(mode: 'memory' | 'durable', outstanding: number): Promise<void> {
  log(
    `watch fan-out (${mode}): ${counts.watchers} watchers, ${counts.watchWrites} writes, ${outstanding} outstanding`,
  );
  const store: Store =
    mode === 'memory'
      ? await EmbeddedStore.open({ compactionIntervalMs: 0 })
      : await EmbeddedStore.open({ path: temporaryDirectory(), compactionIntervalMs: 0 });
  const base = await store.currentRevision();
  const sentAt = new Float64Array(counts.watchWrites);
  const latencies = new Float64Array(counts.watchers * counts.watchWrites);
  let delivered = 0;
  let outOfOrder = 0;
  const received = new Int32Array(counts.watchers);
  const subscriptions = Array.from({ length: counts.watchers }, (_, w) => {
    let last = base;
    return store.watch('/registry/pods/').subscribe((event) => {
      latencies[delivered++] = performance.now() - sentAt[event.revision - base - 1];
      if (event.revision !== last + 1) outOfOrder++;
      last = event.revision;
      received[w]++;
    });
  });
  const value = objectValue(0);
  const writes = await rate(
    counts.watchWrites,
    (i) => {
      sentAt[i] = performance.now();
      return store.create(keyOf('/registry/pods/default/', i), value);
    },
    outstanding,
  );
  for (const subscription of subscriptions) subscription.unsubscribe();
  await store.close();
  const complete = received.every((count) => count === counts.watchWrites) && outOfOrder === 0;
  const sorted = latencies.subarray(0, delivered).sort();
  const p99 = percentile(sorted, 99);
  rows.push({
    metric: `watch fan-out p99 latency (${mode}, ${outstanding} outstanding writes)`,
    value: p99,
    unit: 'ms',
    target: '<= 50',
    pass: p99 <= 50 && complete,
    note: `${delivered} deliveries, every watcher got every event in order: ${complete}; p50 ${percentile(sorted, 50).toFixed(2)} ms, max ${sorted[sorted.length - 1].toFixed(2)} ms; ${Math.round(writes.wall)} writes/s`,
  });
}

async function memoryPerObject(): Promise<void> {
  log(`memory: ${counts.memoryObjects} objects of 1 KiB`);
  const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
  gc();
  const before = process.memoryUsage().heapUsed;
  await rate(counts.memoryObjects, (i) => store.create(keyOf('/registry/pods/default/', i), objectValue(i)));
  gc();
  const held = (process.memoryUsage().heapUsed - before) / counts.memoryObjects;
  await store.compact(await store.currentRevision());
  gc();
  const compacted = (process.memoryUsage().heapUsed - before) / counts.memoryObjects;
  await store.close();
  rows.push({
    metric: 'heap per stored 1 KiB object (with watch history)',
    value: held,
    unit: 'bytes',
    target: '<= 2560',
    pass: held <= 2560,
    note: `key ~32 chars, value ${objectValue(1).length} chars`,
  });
  rows.push({ metric: 'heap per stored 1 KiB object (after compaction)', value: compacted, unit: 'bytes' });
}

if (flags.etcd) {
  // The same benchmark against a throwaway etcd member: see etcd-store-bench.ts.
  const { runEtcdStoreBench } = await import('./etcd-store-bench.js');
  await runEtcdStoreBench({ json: flags.json, quick: flags.quick });
} else {
  const started = performance.now();
  try {
    log(`machine: ${JSON.stringify(machine())}; window of ${window} outstanding writes`);
    await memoryThroughput();
    await durableThroughput();
    await watchFanOut('memory', window);
    await watchFanOut('durable', fanOutWindow);
    await watchFanOut('durable', window);
    await memoryPerObject();
  } finally {
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ benchmark: 'store', machine: machine(), window, counts, seconds, results: rows })}\n`,
    );
  } else {
    printMetricRows(rows);
    process.stdout.write(`(${seconds.toFixed(1)} s)\n`);
  }
}
