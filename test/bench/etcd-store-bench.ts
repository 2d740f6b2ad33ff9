// SPDX-License-Identifier: Apache-2.0
// The Store benchmark on etcd: `npm run bench:store -- --etcd` (add `--json` for one JSON object on
// stdout, `--quick` for a tenth of the work). It starts one throwaway etcd member and measures, in
// one run and at the same concurrency, the EtcdStore next to the raw etcd3 client. See
// docs/benchmarks.md ("Store on etcd").
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Store } from '@cpkit/core';
// The etcd helper alone: the testing index also loads the vitest suites, which need a vitest run.
import { startEtcdCluster } from '@cpkit/core/testing/etcd-cluster';
import { openEtcdStore } from '@cpkit/store-etcd';
import { Etcd3 } from 'etcd3';
import {
  formatCount,
  keyOf,
  type MetricRow,
  machine,
  objectValue,
  percentile,
  printMetricRows,
} from './bench-kit.js';

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

type Row = MetricRow;

/** A distinct, flat 1 KiB JSON value (about the size of a small Pod), as in the embedded bench. */

/** CPU time per operation, in microseconds, of this process and of the etcd member. */
interface Cost {
  client: number;
  etcd: number;
}

/** The etcd member's process id, for its CPU time. */
let etcdPid: number | undefined;

/** User + system CPU seconds of a process, from /proc (clock ticks of 10 ms on Linux). */
function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat; index 11 and 12 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * Operations per wall-clock second of `operation(i)` for i in [0, count), `outstanding` at a time;
 * pushes the CPU cost per operation of both processes onto `costs`.
 */
async function rate(
  count: number,
  operation: (i: number) => Promise<unknown>,
  costs?: Cost[],
): Promise<number> {
  let next = 0;
  const started = performance.now();
  const clientCpu = process.cpuUsage();
  const etcdCpu = processCpuSeconds(etcdPid);
  // A pool of workers keeps exactly `outstanding` calls in flight (no batch barriers).
  const worker = async (): Promise<void> => {
    while (next < count) await operation(next++);
  };
  await Promise.all(Array.from({ length: outstanding }, worker));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(clientCpu);
  costs?.push({
    client: (used.user + used.system) / count,
    etcd: ((processCpuSeconds(etcdPid) - etcdCpu) * 1e6) / count,
  });
  return count / seconds;
}

/** "client N µs, etcd M µs of CPU per op" averaged over runs. */
function costNote(costs: Cost[]): string {
  const mean = (pick: (cost: Cost) => number): number =>
    costs.reduce((sum, cost) => sum + pick(cost), 0) / costs.length;
  return `CPU per op: client ${Math.round(mean((c) => c.client))} µs, etcd ${Math.round(mean((c) => c.etcd))} µs`;
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

const format = formatCount;

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
    pacedWatchWrites: Math.round(1_000 * scale),
  };
  const rows: Row[] = [];
  const started = performance.now();
  const etcd = await startEtcdCluster({ name: 'bench' });
  log(
    `machine: ${JSON.stringify(machine())}; etcd ${etcd.endpoints[0]}; ${outstanding} outstanding operations`,
  );
  etcdPid = etcd.members[0].pid;
  const store: Store = await openEtcdStore({ endpoints: etcd.endpoints });
  const raw = new Etcd3({ hosts: etcd.endpoints });
  try {
    const values = Array.from({ length: counts.creates }, (_, i) => objectValue(i));

    // Each side runs twice, in the orders A B C then C B A, so that none always runs on a fuller
    // database or a colder JIT; a side's figure is the mean of its two runs.
    const sides = {
      store: { label: 'Store creates', runs: [] as number[], costs: [] as Cost[] },
      put: { label: 'raw etcd3 puts, same rows', runs: [] as number[], costs: [] as Cost[] },
      txn: { label: 'raw etcd3 create txns, same rows', runs: [] as number[], costs: [] as Cost[] },
    };
    const createOrder = ['store', 'put', 'txn'] as const;
    // Warm-up, not measured: connections, JIT and etcd's first allocations for every kind of call.
    const warmUp = Math.max(200, Math.round(counts.creates / 10));
    log(`warm-up: ${warmUp} of each kind of call`);
    await rate(warmUp, (i) => store.create(keyOf('/bench/warm-store/', i), values[i % values.length]));
    await rate(warmUp, (i) =>
      raw
        .put(keyOf('/bench/warm-put/', i))
        .value(values[i % values.length])
        .exec(),
    );
    await rate(warmUp, (i) => {
      const at = keyOf('/bench/warm-txn/', i);
      return raw
        .if(at, 'Create', '==', 0)
        .then(raw.put(at).value(values[i % values.length]))
        .commit();
    });
    await rate(warmUp, (i) => store.get(keyOf('/bench/warm-store/', i)));
    await rate(warmUp, (i) => raw.get(keyOf('/bench/warm-put/', i)).exec());
    log(`creates: 2 x ${counts.creates} each through the Store, as raw puts and as raw create transactions`);
    for (const [round, order] of [
      ['a', createOrder],
      ['b', [...createOrder].reverse()],
    ] as const) {
      for (const side of order) {
        const at = (i: number): string => keyOf(`/bench/${side}-${round}/`, i);
        const operation =
          side === 'store'
            ? (i: number) => store.create(at(i), values[i])
            : side === 'put'
              ? (i: number) => raw.put(at(i)).value(values[i]).exec()
              : // What a create is underneath: a transaction on create_revision == 0.
                (i: number) =>
                  raw
                    .if(at(i), 'Create', '==', 0)
                    .then(raw.put(at(i)).value(values[i]))
                    .commit();
        sides[side].runs.push(await rate(counts.creates, operation, sides[side].costs));
      }
    }
    log(`gets: 2 x ${counts.gets} through the Store and 2 x ${counts.gets} raw`);
    const gets = {
      store: { runs: [] as number[], costs: [] as Cost[] },
      raw: { runs: [] as number[], costs: [] as Cost[] },
    };
    const spread = (i: number): number => (i * 7919) % counts.creates;
    for (const order of [
      ['store', 'raw'],
      ['raw', 'store'],
    ] as const) {
      for (const side of order) {
        const operation =
          side === 'store'
            ? (i: number) => store.get(keyOf('/bench/store-a/', spread(i)))
            : (i: number) => raw.get(keyOf('/bench/put-a/', spread(i))).exec();
        gets[side].runs.push(await rate(counts.gets, operation, gets[side].costs));
      }
    }
    const mean = (list: number[]): number => list.reduce((sum, x) => sum + x, 0) / list.length;
    const runsOf = (list: number[]): string => `runs ${list.map(format).join(', ')}`;
    const createRatio = mean(sides.store.runs) / mean(sides.put.runs);
    const getRatio = mean(gets.store.runs) / mean(gets.raw.runs);
    rows.push(
      {
        metric: 'Store creates',
        value: mean(sides.store.runs),
        unit: 'ops/s',
        target: '>= 0.8 x raw put',
        pass: createRatio >= 0.8,
        note: `${runsOf(sides.store.runs)}; Store/raw put ${createRatio.toFixed(2)}, Store/raw txn ${(mean(sides.store.runs) / mean(sides.txn.runs)).toFixed(2)}; ${costNote(sides.store.costs)}`,
      },
      {
        metric: sides.put.label,
        value: mean(sides.put.runs),
        unit: 'ops/s',
        note: `${runsOf(sides.put.runs)}; ${costNote(sides.put.costs)}`,
      },
      {
        metric: sides.txn.label,
        value: mean(sides.txn.runs),
        unit: 'ops/s',
        note: `${runsOf(sides.txn.runs)}; ${costNote(sides.txn.costs)}`,
      },
      {
        metric: 'Store gets',
        value: mean(gets.store.runs),
        unit: 'ops/s',
        target: '>= 0.8 x raw',
        pass: getRatio >= 0.8,
        note: `${runsOf(gets.store.runs)}; Store/raw ${getRatio.toFixed(2)}; ${costNote(gets.store.costs)}`,
      },
      {
        metric: 'raw etcd3 gets, same keys',
        value: mean(gets.raw.runs),
        unit: 'ops/s',
        note: `${runsOf(gets.raw.runs)}; ${costNote(gets.raw.costs)}`,
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

    // Watch delivery: every watcher must see every write once, in order. The same writes watched by
    // raw etcd3 watchers show how much of the latency is etcd's and the gRPC stream's.
    const delivery = async (
      side: 'store' | 'raw' | 'raw-prev',
      pace?: number,
    ): Promise<{
      p50: number;
      p99: number;
      max: number;
      complete: boolean;
      deliveries: number;
      writes: number;
    }> => {
      const writeCount = pace === undefined ? counts.watchWrites : counts.pacedWatchWrites;
      const load = pace === undefined ? `${outstanding} outstanding` : `${pace} per second`;
      log(`watch (${side}): ${watchers} watchers on one prefix, ${writeCount} creates, ${load}`);
      const watchPrefix = `/bench/watched-${side}-${pace ?? 'max'}/`;
      const base = await store.currentRevision();
      const sentAt = new Map<number, number>();
      const latencies: number[] = [];
      const early: { revision: number; at: number }[] = [];
      const received = new Int32Array(watchers);
      let outOfOrder = 0;
      const onEvent = (w: number, revision: number, last: number): number => {
        const now = performance.now();
        const sent = sentAt.get(revision);
        // An event can arrive before its create resolved (and the revision is known): settle later.
        if (sent === undefined) early.push({ revision, at: now });
        else latencies.push(now - sent);
        if (revision <= last) outOfOrder++;
        received[w]++;
        return revision;
      };
      const stops: (() => Promise<void> | void)[] = [];
      for (let w = 0; w < watchers; w++) {
        let last = base;
        if (side === 'store') {
          const subscription = store.watch(watchPrefix, { afterRevision: base }).subscribe((event) => {
            last = onEvent(w, event.revision, last);
          });
          stops.push(() => subscription.unsubscribe());
        } else {
          const builder = raw
            .watch()
            .prefix(watchPrefix)
            .startRevision(String(base + 1));
          // The Store asks for previous values (its events carry them); etcd then reads the
          // previous version of the key for every event of every watcher.
          const watcher = await (side === 'raw-prev' ? builder.withPreviousKV() : builder).create();
          watcher.on('put', (kv) => {
            last = onEvent(w, Number(kv.mod_revision), last);
          });
          stops.push(() => watcher.cancel());
        }
      }
      // Give the watch streams time to be established before the first write.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const create = async (i: number): Promise<void> => {
        const sent = performance.now();
        const entry = await store.create(keyOf(watchPrefix, i), values[i % values.length]);
        sentAt.set(entry.modRevision, sent);
      };
      let writes: number;
      if (pace === undefined) {
        writes = await rate(writeCount, create);
      } else {
        // An open-loop writer: one create every 1/pace s whether or not earlier ones finished.
        const started = performance.now();
        const pending: Promise<void>[] = [];
        for (let i = 0; i < writeCount; i++) {
          const wait = started + (i * 1000) / pace - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          pending.push(create(i));
        }
        await Promise.all(pending);
        writes = writeCount / ((performance.now() - started) / 1000);
      }
      const deadline = Date.now() + 30_000;
      while (received.some((count) => count < writeCount) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await Promise.all(stops.map((stop) => stop()));
      for (const { revision, at } of early) latencies.push(at - (sentAt.get(revision) ?? at));
      const sorted = Float64Array.from(latencies).sort();
      return {
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1],
        complete: received.every((count) => count === writeCount) && outOfOrder === 0,
        deliveries: sorted.length,
        writes,
      };
    };
    const pace = 200;
    const watchRuns = [
      {
        label: `Store watch delivery p99 (${watchers} watchers, ${pace} creates/s)`,
        result: await delivery('store', pace),
      },
      {
        label: `raw etcd3 watch delivery p99 (${watchers} watchers, ${pace} creates/s)`,
        result: await delivery('raw', pace),
      },
      {
        label: `raw etcd3 watch delivery with prev_kv p99 (${watchers} watchers, ${pace} creates/s)`,
        result: await delivery('raw-prev', pace),
      },
      {
        label: `Store watch delivery p99 (${watchers} watchers, ${outstanding} outstanding creates)`,
        result: await delivery('store'),
      },
      {
        label: `raw etcd3 watch delivery p99 (${watchers} watchers, ${outstanding} outstanding creates)`,
        result: await delivery('raw'),
      },
    ];
    for (const { label, result } of watchRuns) {
      rows.push({
        metric: label,
        value: result.p99,
        unit: 'ms',
        target: label.startsWith('Store') ? 'every event once, in order' : undefined,
        pass: label.startsWith('Store') ? result.complete : undefined,
        note: `${result.deliveries} deliveries, complete and in order: ${result.complete}; p50 ${result.p50.toFixed(2)} ms, max ${result.max.toFixed(2)} ms; ${format(result.writes)} creates/s`,
      });
    }
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
    printMetricRows(rows);
    process.stdout.write(`(${seconds.toFixed(1)} s)\n`);
  }
}
