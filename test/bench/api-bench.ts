// SPDX-License-Identifier: Apache-2.0
// API server benchmark: `npm run bench:api` prints a table; `-- --json` prints one JSON object on
// stdout; `-- --quick` runs a tenth of the requests and stores 10,000 pods instead of 100,000 for
// the RSS row. The server (HttpApiServer over HTTPS, token authentication, the embedded in-memory
// store) runs here; the load comes from a child process (api/load.ts) over keep-alive connections.
// See docs/benchmarks.md for what each row means and recorded results.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { apiServerModule, HttpApiServer } from '@cpkit/apiserver';
import { type Pod } from '@cpkit/core';
import { startTestControlPlane } from '@cpkit/core/testing/control-plane';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import type { LoadJob, LoadResult } from './api/protocol.js';
import { formatCount, machine, percentile, printMarkdownTable } from './bench-kit.js';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
  },
});
const scale = flags.quick ? 0.1 : 1;
const counts = {
  creates: Math.round(30_000 * scale),
  gets: Math.round(60_000 * scale),
  concurrency: 32,
  listPods: 10_000,
  listRepeat: flags.quick ? 3 : 7,
  watchers: 1_000,
  watchWrites: Math.round(200 * Math.max(scale, 0.25)),
  rssPods: flags.quick ? 10_000 : 100_000,
};

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const log = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

const dir = mkdtempSync(join(tmpdir(), 'cpkit-api-bench-'));
const token = 'bench-admin-token';
const tokenFile = join(dir, 'tokens.csv');
writeFileSync(tokenFile, `${token},bench-admin,1,"system:masters"\n`);

const store = await openEmbeddedStore();
const cp = await startTestControlPlane({
  store,
  modules: [apiServerModule({ port: 0, dataDir: join(dir, 'pki'), tokenFile })],
});
const server = cp.controlPlane.get<HttpApiServer>(HttpApiServer);
const address = server.address();
const pki = server.pki;
if (!address || !pki) throw new Error('the API server did not start over HTTPS');
for (const name of ['bench', 'list', 'watch', 'rss']) {
  await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

// The ceiling: a bare node:https server on the same certificate that parses each JSON body and echoes
// it (POST), or answers a stored pod (GET): the least any HTTPS JSON server has to do.
const storedPod = JSON.stringify(await cp.client.create(podOf('list', 'ceiling-pod')));
const bare = createServer({ cert: pki.servingCertPem, key: pki.servingKeyPem }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const text =
      req.method === 'POST' ? JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8'))) : storedPod;
    res.writeHead(req.method === 'POST' ? 201 : 200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
  });
});
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
const bareUrl = `https://127.0.0.1:${(bare.address() as AddressInfo).port}`;

const child = fork(fileURLToPath(new URL('./api/load.ts', import.meta.url)), [], {
  execArgv: ['--conditions=source', '--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const pending: ((result: LoadResult) => void)[] = [];
child.on('message', (result: LoadResult) => pending.shift()?.(result));
function load<K extends LoadResult['kind']>(job: LoadJob): Promise<Extract<LoadResult, { kind: K }>> {
  return new Promise((resolve, reject) => {
    pending.push((result) => {
      if (result.kind === 'error') reject(new Error(result.message));
      else resolve(result as Extract<LoadResult, { kind: K }>);
    });
    child.send(job);
  });
}
const api = { url: address.url, ca: pki.caCertPem, token };
const ceiling = { url: bareUrl, ca: pki.caCertPem };

function podOf(namespace: string, name: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'bench' } },
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] },
  };
}

interface Rate {
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  failures: number;
}
function rateOf(result: Extract<LoadResult, { kind: 'requests' }>, ok: number): Rate {
  const sorted = result.latencies;
  const failures = Object.entries(result.statuses)
    .filter(([status]) => Number(status) !== ok)
    .reduce((sum, [, n]) => sum + n, 0);
  return {
    perSecond: sorted.length / result.seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? 0,
    failures,
  };
}

/** The closed-loop request phase: `total` pod POSTs or GETs by 32 clients against `target`. */
async function requests(
  target: typeof api | typeof ceiling,
  method: 'POST' | 'GET',
  total: number,
): Promise<Rate> {
  const result = await load({
    ...target,
    kind: 'requests',
    method,
    namespace: 'bench',
    prefix: 'p-',
    total,
    concurrency: counts.concurrency,
    ...(method === 'GET' ? { existing: counts.creates } : {}),
  });
  return rateOf(result as Extract<LoadResult, { kind: 'requests' }>, method === 'POST' ? 201 : 200);
}

const cpuBefore = process.cpuUsage();
log(`creates: ${counts.creates} pods, ${counts.concurrency} concurrent clients`);
const creates = await requests(api, 'POST', counts.creates);
const bareCreates = await requests(ceiling, 'POST', counts.creates);
log(`gets: ${counts.gets}`);
const gets = await requests(api, 'GET', counts.gets);
const bareGets = await requests(ceiling, 'GET', counts.gets);

log(`lists: storing ${counts.listPods} pods in namespace list`);
for (let i = 0; i < counts.listPods - 1; i += 500) {
  await Promise.all(
    Array.from({ length: Math.min(500, counts.listPods - 1 - i) }, (_, j) =>
      cp.client.create(podOf('list', `l-${i + j}`)),
    ),
  );
}
const listPath = '/api/v1/namespaces/list/pods';
const listJson = await load<'list'>({ ...api, kind: 'list', path: listPath, repeat: counts.listRepeat });
const listTable = await load<'list'>({
  ...api,
  kind: 'list',
  path: listPath,
  accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
  repeat: counts.listRepeat,
});

log(`watch: ${counts.watchers} watchers, ${counts.watchWrites} creates`);
const resourceVersion = String(await store.currentRevision());
const watch = await load<'watch'>({
  ...api,
  kind: 'watch',
  namespace: 'watch',
  resourceVersion,
  watchers: counts.watchers,
  writes: counts.watchWrites,
  writers: 2,
  pauseMs: 5,
});
const cpu = process.cpuUsage(cpuBefore);

log(`rss: storing ${counts.rssPods} pods in total`);
const stored = (await cp.client.list('Pod')).items.length;
for (let i = stored; i < counts.rssPods; i += 1000) {
  await Promise.all(
    Array.from({ length: Math.min(1000, counts.rssPods - i) }, (_, j) =>
      cp.client.create(podOf('rss', `r-${i + j}`)),
    ),
  );
}
gc();
const podsStored = Math.max(stored, counts.rssPods);
const rss = process.memoryUsage();

child.kill();
bare.close();
bare.closeAllConnections();
await cp.stop(); // closes the store too
rmSync(dir, { recursive: true, force: true });

const ms = (value: number): string => `${value.toFixed(1)} ms`;
const results = {
  machine: machine(),
  quick: flags.quick,
  counts,
  creates,
  bareCreates,
  createFraction: creates.perSecond / bareCreates.perSecond,
  gets,
  bareGets,
  getFraction: gets.perSecond / bareGets.perSecond,
  listJson: {
    medianMs: percentile(listJson.durations, 50),
    maxMs: listJson.durations.at(-1),
    bytes: listJson.bytes,
    status: listJson.status,
  },
  listTable: {
    medianMs: percentile(listTable.durations, 50),
    maxMs: listTable.durations.at(-1),
    bytes: listTable.bytes,
    status: listTable.status,
  },
  watch: {
    p50: percentile(watch.latencies, 50),
    p99: percentile(watch.latencies, 99),
    max: watch.latencies.at(-1),
    events: watch.events,
    expected: watch.expected,
  },
  serverCpuSeconds: (cpu.user + cpu.system) / 1e6,
  rss: {
    pods: podsStored,
    rssMiB: rss.rss / 2 ** 20,
    heapUsedMiB: rss.heapUsed / 2 ** 20,
    // What V8 has reserved for the heap, and memory outside it (Buffers, TLS and socket state).
    heapTotalMiB: rss.heapTotal / 2 ** 20,
    externalMiB: rss.external / 2 ** 20,
  },
};

if (flags.json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  const m = results.machine;
  process.stdout.write(
    `\n${m.cpu}, ${m.cores} cores, ${m.memory}, Node ${m.node}, load ${m.loadAverage}\n\n`,
  );
  const met = (ok: boolean): string => (ok ? 'yes' : 'NO');
  printMarkdownTable(
    ['metric', 'result', 'target', 'met'],
    [
      [
        `pod creates, ${counts.concurrency} clients`,
        `${formatCount(creates.perSecond)} /s (p50 ${ms(creates.p50)}, p99 ${ms(creates.p99)}, ${creates.failures} failed)`,
        '≥ 5,000 /s, p99 ≤ 50 ms',
        met(creates.perSecond >= 5000 && creates.p99 <= 50 && creates.failures === 0),
      ],
      [
        '  ceiling: bare HTTPS JSON echo',
        `${formatCount(bareCreates.perSecond)} /s (p99 ${ms(bareCreates.p99)})`,
        '',
        '',
      ],
      ['  API / ceiling', `${(results.createFraction * 100).toFixed(0)} %`, '', ''],
      [
        `pod GETs, ${counts.concurrency} clients`,
        `${formatCount(gets.perSecond)} /s (p50 ${ms(gets.p50)}, p99 ${ms(gets.p99)}, ${gets.failures} failed)`,
        '≥ 15,000 /s',
        met(gets.perSecond >= 15000 && gets.failures === 0),
      ],
      [
        '  ceiling: bare HTTPS GET',
        `${formatCount(bareGets.perSecond)} /s (p99 ${ms(bareGets.p99)})`,
        '',
        '',
      ],
      ['  API / ceiling', `${(results.getFraction * 100).toFixed(0)} %`, '', ''],
      [
        `LIST ${formatCount(counts.listPods)} pods, JSON`,
        `${ms(results.listJson.medianMs)} median, ${ms(results.listJson.maxMs ?? 0)} max (${(listJson.bytes / 2 ** 20).toFixed(1)} MiB)`,
        '≤ 300 ms',
        met(results.listJson.medianMs <= 300 && listJson.status === 200),
      ],
      [
        `LIST ${formatCount(counts.listPods)} pods, Table`,
        `${ms(results.listTable.medianMs)} median, ${ms(results.listTable.maxMs ?? 0)} max (${(listTable.bytes / 2 ** 20).toFixed(1)} MiB)`,
        '≤ 300 ms',
        met(results.listTable.medianMs <= 300 && listTable.status === 200),
      ],
      [
        `${formatCount(counts.watchers)} watchers, ack → event`,
        `p99 ${ms(results.watch.p99)} (p50 ${ms(results.watch.p50)}, max ${ms(results.watch.max ?? 0)}; ${formatCount(watch.events)}/${formatCount(watch.expected)} events)`,
        '≤ 100 ms',
        met(results.watch.p99 <= 100 && watch.events === watch.expected),
      ],
      [
        `RSS with ${formatCount(results.rss.pods)} pods`,
        `${results.rss.rssMiB.toFixed(0)} MiB (heap used ${results.rss.heapUsedMiB.toFixed(0)} of ${results.rss.heapTotalMiB.toFixed(0)} MiB, external ${results.rss.externalMiB.toFixed(0)} MiB)`,
        '(reported)',
        '',
      ],
    ],
  );
}
process.exit(0);
