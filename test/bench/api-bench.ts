// SPDX-License-Identifier: Apache-2.0
// API server benchmark: `npm run bench:api` prints a table; `-- --json` prints one JSON object;
// `-- --quick` runs a shorter version. This process runs the API server (HTTPS, client-certificate
// authentication, RBAC, admission, the embedded in-memory store) as `npm start` would; the load
// comes from a separate process (api/load-client.ts) over keep-alive HTTPS. The ceiling row is a
// bare Node HTTPS server in this same process that parses and echoes the same bodies. See
// docs/benchmarks.md for what each row means and recorded results.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { apiServerModule, HttpApiServer } from '@cpkit/apiserver';
import {
  ApiClient,
  ContainerModule,
  ControlPlaneBuilder,
  createLogger,
  inProcessApiClientModule,
  Logger,
  loadKubeconfig,
  registryModule,
  systemNamespacesModule,
} from '@cpkit/core';
import { embeddedStoreModule, openEmbeddedStore } from '@cpkit/store-embedded';
import type { LoadJob, LoadResult, Target } from './api/load-client.js';
import { formatCount, machine, percentile, printMarkdownTable } from './bench-kit.js';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    // Run only some measurements (repeatable): creates, gets, lists, watch, memory. For profiling.
    only: { type: 'string', multiple: true },
  },
});
const runs = (phase: string): boolean => !flags.only || flags.only.includes(phase);

const scale = flags.quick ? 0.1 : 1;
const counts = {
  concurrency: 32,
  creates: Math.round(50_000 * scale),
  gets: Math.round(100_000 * scale),
  listPods: 10_000,
  listRepeats: flags.quick ? 3 : 5,
  watchers: 1_000,
  watchWrites: Math.round(1_000 * scale),
  watchConcurrency: 4,
  storedPods: flags.quick ? 20_000 : 100_000,
};

const gc = ((): (() => void) => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

// ------------------------------------------------------------------------------------------------
// The server under test, wired as the single-node starter wires it (minus the scheduler: no nodes).

const dataDir = mkdtempSync(join(tmpdir(), 'cpkit-bench-api-'));
const kubeconfigPath = join(dataDir, 'kubeconfig');
const store = await openEmbeddedStore();
const controlPlane = await new ControlPlaneBuilder({ gracePeriodMs: 10_000 })
  .withModules(
    new ContainerModule((bind) =>
      bind(Logger).toConstantValue(createLogger({ level: 'silent', name: 'bench' })),
    ),
    embeddedStoreModule(store),
    registryModule(),
    inProcessApiClientModule(),
    systemNamespacesModule(),
    apiServerModule({ port: 0, dataDir, kubeconfigPath }),
  )
  .build();
await controlPlane.start();
const server = controlPlane.get<HttpApiServer>(HttpApiServer);
const kubeconfig = loadKubeconfig(kubeconfigPath);
const credentials = {
  ca: kubeconfig.caPem ?? '',
  cert: kubeconfig.clientCertPem ?? '',
  key: kubeconfig.clientKeyPem ?? '',
};
const apiTarget: Target = { url: server.address()?.url ?? '', ...credentials };

// The ceiling: a bare HTTPS server with the same certificate that parses each body and echoes it.
const pki = join(dataDir, 'pki');
const bare = createServer(
  { key: readFileSync(join(pki, 'apiserver.key')), cert: readFileSync(join(pki, 'apiserver.crt')) },
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text =
        chunks.length > 0 ? JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8'))) : '{}';
      res.writeHead(req.method === 'POST' ? 201 : 200, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    });
  },
);
await new Promise<void>((listening) => bare.listen(0, '127.0.0.1', listening));
const bareTarget: Target = { ...apiTarget, url: `https://127.0.0.1:${(bare.address() as AddressInfo).port}` };

// ------------------------------------------------------------------------------------------------
// The load process.

const loader: ChildProcess = fork(resolve(import.meta.dirname, 'api/load-client.ts'), [], {
  execArgv: ['--conditions=source', '--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
await new Promise<void>((ready) => loader.once('message', () => ready()));

function run(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolveJob, reject) => {
    loader.once('message', (reply: { ok: boolean; result?: LoadResult; error?: string }) => {
      if (reply.ok && reply.result) resolveJob(reply.result);
      else reject(new Error(reply.error));
    });
    loader.send(job);
  });
}

async function createNamespace(name: string): Promise<void> {
  await controlPlane
    .get<ApiClient>(ApiClient)
    .create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

interface Row {
  name: string;
  value: string;
  target: string;
  detail: string;
}
const rows: Row[] = [];
const results: Record<string, unknown> = {};
const ms = (value: number): string => `${value.toFixed(1)} ms`;
const check = (result: LoadResult, what: string): void => {
  if (result.errors > 0) throw new Error(`${what}: ${result.errors} errors, first: ${result.firstError}`);
};

// 1. Pod creates at 32 concurrent clients, and the same bodies against the bare server.
await createNamespace('bench');
await createNamespace('list');
await createNamespace('watch');
await createNamespace('bulk');
// A short warm-up so JIT and TLS sessions do not count (and GETs have pods to read).
check(
  await run({
    kind: 'creates',
    target: apiTarget,
    namespace: 'bench',
    prefix: 'warm',
    count: 2_000,
    concurrency: 32,
  }),
  'warm-up',
);
if (runs('creates')) {
  const creates = await run({
    kind: 'creates',
    target: apiTarget,
    namespace: 'bench',
    prefix: 'pod',
    count: counts.creates,
    concurrency: counts.concurrency,
  });
  check(creates, 'creates');
  const createRate = creates.count / creates.seconds;
  const ceiling = await run({
    kind: 'creates',
    target: bareTarget,
    namespace: 'bench',
    prefix: 'pod',
    count: counts.creates,
    concurrency: counts.concurrency,
  });
  check(ceiling, 'ceiling');
  const ceilingRate = ceiling.count / ceiling.seconds;
  rows.push({
    name: `pod creates, ${counts.concurrency} clients`,
    value: `${formatCount(createRate)}/s`,
    target: '≥ 5,000/s',
    detail: `p50 ${ms(percentile(creates.latenciesMs, 50))}, p99 ${ms(percentile(creates.latenciesMs, 99))} (≤ 50 ms)`,
  });
  rows.push({
    name: 'ceiling: bare HTTPS echo of the same bodies',
    value: `${formatCount(ceilingRate)}/s`,
    target: '',
    detail: `creates are ${(createRate / ceilingRate).toFixed(2)} of it; echo p99 ${ms(percentile(ceiling.latenciesMs, 99))}`,
  });
  results.creates = {
    perSecond: createRate,
    p50Ms: percentile(creates.latenciesMs, 50),
    p99Ms: percentile(creates.latenciesMs, 99),
    ceilingPerSecond: ceilingRate,
    fractionOfCeiling: createRate / ceilingRate,
  };
}

// 2. GETs of those pods.
if (runs('gets')) {
  const names = Array.from({ length: 2_000 }, (_, i) => `warm-${i}`);
  const gets = await run({
    kind: 'gets',
    target: apiTarget,
    namespace: 'bench',
    names,
    count: counts.gets,
    concurrency: counts.concurrency,
  });
  check(gets, 'gets');
  const getRate = gets.count / gets.seconds;
  rows.push({
    name: `pod GETs, ${counts.concurrency} clients`,
    value: `${formatCount(getRate)}/s`,
    target: '≥ 15,000/s',
    detail: `p99 ${ms(percentile(gets.latenciesMs, 99))}`,
  });
  results.gets = { perSecond: getRate, p99Ms: percentile(gets.latenciesMs, 99) };
}

// 3. LIST of 10,000 pods, as JSON and as a Table.
if (runs('lists')) {
  check(
    await run({
      kind: 'creates',
      target: apiTarget,
      namespace: 'list',
      prefix: 'listed',
      count: counts.listPods,
      concurrency: counts.concurrency,
    }),
    'list fill',
  );
  const tableAccept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
  for (const [label, accept] of [
    ['JSON', 'application/json'],
    ['Table', tableAccept],
  ] as const) {
    const list = await run({
      kind: 'lists',
      target: apiTarget,
      path: '/api/v1/namespaces/list/pods',
      accept,
      repeats: counts.listRepeats,
    });
    check(list, `list ${label}`);
    rows.push({
      name: `LIST 10,000 pods as ${label}`,
      value: ms(percentile(list.latenciesMs, 50)),
      target: '≤ 300 ms',
      detail: `max ${ms(list.latenciesMs.at(-1) ?? 0)} of ${list.count}, ${((list.bytes ?? 0) / 1e6).toFixed(1)} MB`,
    });
    results[`list${label}`] = {
      medianMs: percentile(list.latenciesMs, 50),
      maxMs: list.latenciesMs.at(-1),
      bytes: list.bytes,
    };
  }
}

// 4. 1,000 watchers, write acknowledged → event received.
if (runs('watch')) {
  const watch = await run({
    kind: 'watch',
    target: apiTarget,
    namespace: 'watch',
    watchers: counts.watchers,
    writes: counts.watchWrites,
    concurrency: counts.watchConcurrency,
  });
  check(watch, 'watch');
  rows.push({
    name: `${formatCount(counts.watchers)} pod watchers, ${formatCount(counts.watchWrites)} writes`,
    value: `p99 ${ms(percentile(watch.latenciesMs, 99))}`,
    target: '≤ 100 ms',
    detail: `p50 ${ms(percentile(watch.latenciesMs, 50))}, max ${ms(watch.latenciesMs.at(-1) ?? 0)}; ${formatCount(watch.count)} deliveries`,
  });
  results.watch = {
    p50Ms: percentile(watch.latenciesMs, 50),
    p99Ms: percentile(watch.latenciesMs, 99),
    maxMs: watch.latenciesMs.at(-1),
    deliveries: watch.count,
  };
}

// 5. RSS of this (the server) process with 100,000 pods stored.
if (runs('memory')) {
  const stored = (await store.list('/registry/core/pods/')).items.length;
  const bulk = await run({
    kind: 'creates',
    target: apiTarget,
    namespace: 'bulk',
    prefix: 'bulk',
    count: Math.max(0, counts.storedPods - stored),
    concurrency: counts.concurrency,
  });
  check(bulk, 'bulk fill');
  gc();
  const memory = process.memoryUsage();
  rows.push({
    name: `RSS with ${formatCount(counts.storedPods)} pods stored`,
    value: `${(memory.rss / 2 ** 20).toFixed(0)} MiB`,
    target: '(report)',
    detail: `heap used ${(memory.heapUsed / 2 ** 20).toFixed(0)} MiB; fill ran at ${formatCount(bulk.count / Math.max(bulk.seconds, 1e-9))}/s`,
  });
  results.memory = { pods: counts.storedPods, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed };
}

// ------------------------------------------------------------------------------------------------

loader.kill();
bare.close();
await controlPlane.stop();
rmSync(dataDir, { recursive: true, force: true });

if (flags.json) {
  console.log(JSON.stringify({ machine: machine(), counts, results }, null, 2));
} else {
  console.log(`API server benchmark (${flags.quick ? 'quick' : 'full'}) on ${JSON.stringify(machine())}\n`);
  printMarkdownTable(
    ['measure', 'result', 'target', 'detail'],
    rows.map((row) => [row.name, row.value, row.target, row.detail]),
  );
}
process.exit(0);
