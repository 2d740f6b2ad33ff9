// SPDX-License-Identifier: Apache-2.0
// The load process of `npm run bench:api`: a child of the benchmark, so the load it generates never
// shares an event loop with the server it measures. It receives one job at a time over IPC, drives
// it over HTTPS with keep-alive connections (node:https Agent) and sends back raw timings.
import { Agent, request } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { LoadJob, LoadResult } from './protocol.js';

interface Target {
  base: URL;
  agent: Agent;
  headers: Record<string, string>;
}

function target(job: LoadJob, maxSockets: number): Target {
  return {
    base: new URL(job.url),
    agent: new Agent({ keepAlive: true, maxSockets, ca: job.ca }),
    headers: job.token ? { Authorization: `Bearer ${job.token}` } : {},
  };
}

/** One request; resolves with the status and the body's length once the reply has ended. */
function send(
  t: Target,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const extra: Record<string, string> =
      body === undefined
        ? {}
        : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) };
    const req = request(
      {
        host: t.base.hostname,
        port: t.base.port,
        method,
        path,
        agent: t.agent,
        headers: { ...t.headers, ...extra, ...headers },
      },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A pod body of about 1 KiB, like the store benchmarks' objects. */
export function podBody(namespace: string, name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { app: 'bench', tier: 'load' },
      annotations: { note: 'x'.repeat(400) },
    },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'registry.example/app:1.0',
          ports: [{ containerPort: 8080 }],
          resources: { requests: { cpu: '100m', memory: '64Mi' } },
          env: [{ name: 'MODE', value: 'bench' }],
        },
      ],
    },
  });
}

async function closedLoop(job: Extract<LoadJob, { kind: 'requests' }>): Promise<LoadResult> {
  const t = target(job, job.concurrency);
  const latencies = new Float64Array(job.total);
  const statuses: Record<string, number> = {};
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let i = next++; i < job.total; i = next++) {
      const name = `${job.prefix}${i}`;
      const path =
        job.method === 'POST'
          ? `/api/v1/namespaces/${job.namespace}/pods`
          : `/api/v1/namespaces/${job.namespace}/pods/${job.prefix}${i % (job.existing ?? 1)}`;
      const begin = performance.now();
      const { status } = await send(
        t,
        job.method,
        path,
        job.method === 'POST' ? podBody(job.namespace, name) : undefined,
      );
      latencies[i] = performance.now() - begin;
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  t.agent.destroy();
  return { kind: 'requests', seconds, latencies: Array.from(latencies).sort((a, b) => a - b), statuses };
}

async function lists(job: Extract<LoadJob, { kind: 'list' }>): Promise<LoadResult> {
  const t = target(job, 1);
  const durations: number[] = [];
  let bytes = 0;
  let status = 0;
  for (let i = 0; i < job.repeat; i++) {
    const begin = performance.now();
    const reply = await send(t, 'GET', job.path, undefined, job.accept ? { Accept: job.accept } : {});
    durations.push(performance.now() - begin);
    bytes = reply.bytes;
    status = reply.status;
  }
  t.agent.destroy();
  return { kind: 'list', durations: durations.sort((a, b) => a - b), bytes, status };
}

/**
 * Opens `watchers` watches, then creates `writes` pods (a few at a time) and measures, for every
 * event every watcher receives, the time from the create's reply (its acknowledgement) to the
 * event's arrival. An event that arrives before the reply counts as 0.
 */
async function watchFanOut(job: Extract<LoadJob, { kind: 'watch' }>): Promise<LoadResult> {
  const watchAgent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, ca: job.ca });
  const t = target(job, 4);
  const base = new URL(job.url);
  const received = new Map<string, number[]>();
  let events = 0;
  const streams: import('node:http').IncomingMessage[] = [];
  const open = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: base.hostname,
          port: base.port,
          path: `/api/v1/namespaces/${job.namespace}/pods?watch=true&resourceVersion=${job.resourceVersion}`,
          agent: watchAgent,
          headers: t.headers,
        },
        (res) => {
          streams.push(res);
          let buffered = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const now = performance.now();
            buffered += chunk;
            let newline = buffered.indexOf('\n');
            while (newline !== -1) {
              const line = buffered.slice(0, newline);
              buffered = buffered.slice(newline + 1);
              const name = /"name":"([^"]+)"/.exec(line)?.[1];
              if (name) {
                const times = received.get(name);
                if (times) times.push(now);
                else received.set(name, [now]);
                events++;
              }
              newline = buffered.indexOf('\n');
            }
          });
          res.on('error', () => undefined);
          resolve();
        },
      );
      req.on('error', reject);
      req.end();
    });
  // Open in batches so the TLS handshakes do not all land at once.
  for (let i = 0; i < job.watchers; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, job.watchers - i) }, open));
  }
  const acknowledged = new Map<string, number>();
  let next = 0;
  const writer = async (): Promise<void> => {
    for (let i = next++; i < job.writes; i = next++) {
      const name = `w-${i}`;
      await send(t, 'POST', `/api/v1/namespaces/${job.namespace}/pods`, podBody(job.namespace, name));
      acknowledged.set(name, performance.now());
      if (job.pauseMs) await new Promise((r) => setTimeout(r, job.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: job.writers }, writer));
  const expected = job.writes * job.watchers;
  const deadline = performance.now() + 30_000;
  while (events < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const latencies: number[] = [];
  for (const [name, times] of received) {
    const ack = acknowledged.get(name);
    if (ack === undefined) continue;
    for (const time of times) latencies.push(Math.max(0, time - ack));
  }
  for (const stream of streams) stream.destroy();
  watchAgent.destroy();
  t.agent.destroy();
  return { kind: 'watch', latencies: latencies.sort((a, b) => a - b), events, expected };
}

process.on('message', (job: LoadJob) => {
  const run = job.kind === 'requests' ? closedLoop(job) : job.kind === 'list' ? lists(job) : watchFanOut(job);
  run.then(
    (result) => process.send?.(result),
    (error: unknown) => process.send?.({ kind: 'error', message: String((error as Error)?.stack ?? error) }),
  );
});
