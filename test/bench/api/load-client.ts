// SPDX-License-Identifier: Apache-2.0
// The load side of `npm run bench:api`: a separate process, as a real client would be, driving the
// API server over HTTPS with keep-alive connections. The bench process sends it one job at a time
// over IPC and gets the measurements back; nothing here is timed by the server process.
import { Agent, request } from 'node:https';
import { performance } from 'node:perf_hooks';

/** TLS material and address of the server under test. */
export interface Target {
  url: string;
  ca: string;
  cert: string;
  key: string;
}

/** The jobs the bench process can ask for. */
export type LoadJob =
  | { kind: 'creates'; target: Target; namespace: string; prefix: string; count: number; concurrency: number }
  | { kind: 'gets'; target: Target; namespace: string; names: string[]; count: number; concurrency: number }
  | { kind: 'lists'; target: Target; path: string; accept: string; repeats: number }
  | {
      kind: 'watch';
      target: Target;
      namespace: string;
      watchers: number;
      writes: number;
      concurrency: number;
    };

/** What a throughput job measured: every latency in ms, sorted, and the wall time. */
export interface LoadResult {
  count: number;
  errors: number;
  firstError?: string;
  seconds: number;
  latenciesMs: number[];
  /** For lists: the size of the last reply in bytes. */
  bytes?: number;
}

/** A small but realistic pod, as a controller would create it (~700 bytes of JSON). */
export function podBody(namespace: string, name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { app: 'bench', tier: 'web', shard: String(name.length % 7) },
      annotations: { 'bench.cpkit.io/run': 'api' },
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'nginx:1.27',
          ports: [{ containerPort: 80, name: 'http' }],
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
          env: [{ name: 'MODE', value: 'bench' }],
        },
      ],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
    },
  });
}

function agentFor(target: Target, maxSockets: number): Agent {
  return new Agent({
    keepAlive: true,
    maxSockets,
    ca: target.ca,
    cert: target.cert,
    key: target.key,
  });
}

interface Reply {
  status: number;
  body: string;
}

function send(
  agent: Agent,
  target: Target,
  method: string,
  path: string,
  body?: string,
  accept = 'application/json',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Accept: accept };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const req = request(new URL(path, target.url), { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `count` calls with `concurrency` outstanding; each call's latency is recorded. */
async function closedLoop(
  count: number,
  concurrency: number,
  call: (i: number) => Promise<Reply>,
  okStatus: number,
): Promise<LoadResult> {
  const latencies = new Float64Array(count);
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const t0 = performance.now();
      try {
        const reply = await call(i);
        if (reply.status !== okStatus) {
          errors++;
          firstError ??= `${reply.status} ${reply.body.slice(0, 300)}`;
        }
      } catch (error) {
        errors++;
        firstError ??= String(error);
      }
      latencies[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { count, errors, firstError, seconds, latenciesMs: Array.from(latencies).sort((a, b) => a - b) };
}

async function creates(job: Extract<LoadJob, { kind: 'creates' }>): Promise<LoadResult> {
  const agent = agentFor(job.target, job.concurrency);
  const path = `/api/v1/namespaces/${job.namespace}/pods`;
  try {
    return await closedLoop(
      job.count,
      job.concurrency,
      (i) => send(agent, job.target, 'POST', path, podBody(job.namespace, `${job.prefix}-${i}`)),
      201,
    );
  } finally {
    agent.destroy();
  }
}

async function gets(job: Extract<LoadJob, { kind: 'gets' }>): Promise<LoadResult> {
  const agent = agentFor(job.target, job.concurrency);
  const base = `/api/v1/namespaces/${job.namespace}/pods/`;
  try {
    return await closedLoop(
      job.count,
      job.concurrency,
      (i) => send(agent, job.target, 'GET', base + job.names[i % job.names.length]),
      200,
    );
  } finally {
    agent.destroy();
  }
}

async function lists(job: Extract<LoadJob, { kind: 'lists' }>): Promise<LoadResult> {
  const agent = agentFor(job.target, 1);
  const latencies: number[] = [];
  let bytes = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  try {
    for (let i = 0; i < job.repeats; i++) {
      const t0 = performance.now();
      const reply = await send(agent, job.target, 'GET', job.path, undefined, job.accept);
      latencies.push(performance.now() - t0);
      bytes = Buffer.byteLength(reply.body);
      if (reply.status !== 200) {
        errors++;
        firstError ??= `${reply.status} ${reply.body.slice(0, 300)}`;
      }
    }
  } finally {
    agent.destroy();
  }
  return {
    count: job.repeats,
    errors,
    firstError,
    seconds: (performance.now() - started) / 1000,
    latenciesMs: latencies.sort((a, b) => a - b),
    bytes,
  };
}

/**
 * Opens `watchers` watches on a namespace, then writes pods there; the latency of one delivery is
 * the time from the write's acknowledgement (its 201 arriving) to the event arriving on a watcher.
 * Deliveries that beat the acknowledgement count as 0.
 */
async function watch(job: Extract<LoadJob, { kind: 'watch' }>): Promise<LoadResult> {
  const watchAgent = agentFor(job.target, job.watchers);
  const writeAgent = agentFor(job.target, job.concurrency);
  const acked = new Map<string, number>();
  const early = new Map<string, number>();
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const expected = job.watchers * job.writes;
  let received = 0;
  let allReceived!: () => void;
  const done = new Promise<void>((resolve) => {
    allReceived = resolve;
  });
  const onEvent = (name: string, at: number): void => {
    const ack = acked.get(name);
    if (ack === undefined) early.set(name, (early.get(name) ?? 0) + 1);
    else latencies.push(Math.max(0, at - ack));
    if (++received === expected) allReceived();
  };
  const requests: ReturnType<typeof request>[] = [];
  const path = `/api/v1/namespaces/${job.namespace}/pods?watch=true`;
  await Promise.all(
    Array.from(
      { length: job.watchers },
      () =>
        new Promise<void>((resolve, reject) => {
          const req = request(
            new URL(path, job.target.url),
            { agent: watchAgent, headers: { Accept: 'application/json' } },
            (res) => {
              if (res.statusCode !== 200) {
                reject(new Error(`watch answered ${res.statusCode}`));
                return;
              }
              resolve();
              let buffered = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => {
                const at = performance.now();
                buffered += chunk;
                for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
                  const line = buffered.slice(0, newline);
                  buffered = buffered.slice(newline + 1);
                  // The name is all we need; a full parse per event per watcher would measure us.
                  const match = /"name":"([^"]+)"/.exec(line);
                  if (match?.[1]) onEvent(match[1], at);
                }
              });
              res.on('error', () => {});
            },
          );
          req.on('error', reject);
          req.end();
          requests.push(req);
        }),
    ),
  );
  const started = performance.now();
  const writes = await closedLoop(
    job.writes,
    job.concurrency,
    async (i) => {
      const name = `watched-${i}`;
      const reply = await send(
        writeAgent,
        job.target,
        'POST',
        `/api/v1/namespaces/${job.namespace}/pods`,
        podBody(job.namespace, name),
      );
      const at = performance.now();
      acked.set(name, at);
      const before = early.get(name);
      if (before) for (let k = 0; k < before; k++) latencies.push(0);
      early.delete(name);
      return reply;
    },
    201,
  );
  errors += writes.errors;
  firstError ??= writes.firstError;
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, 60_000));
  await Promise.race([done, timeout]);
  if (received < expected) {
    errors += expected - received;
    firstError ??= `${expected - received} of ${expected} events never arrived`;
  }
  for (const req of requests) req.destroy();
  watchAgent.destroy();
  writeAgent.destroy();
  return {
    count: latencies.length,
    errors,
    firstError,
    seconds: (performance.now() - started) / 1000,
    latenciesMs: latencies.sort((a, b) => a - b),
  };
}

const jobs = { creates, gets, lists, watch } as const;

process.on('message', (job: LoadJob) => {
  const run = jobs[job.kind] as (job: LoadJob) => Promise<LoadResult>;
  run(job).then(
    (result) => process.send?.({ ok: true, result }),
    (error: unknown) => process.send?.({ ok: false, error: String(error) }),
  );
});
process.send?.({ ready: true });
