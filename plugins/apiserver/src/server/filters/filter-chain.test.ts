// SPDX-License-Identifier: Apache-2.0
// The filter chain on a real node:http server: in-flight limits, timeouts, /metrics, graceful drain.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMetricsRegistry, DefaultScheme, errors } from '@cpkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGoDuration } from './duration.js';
import { ApiFilterChain, type ApiFilterChainOptions, type ApiRequestHandler } from './filter-chain.js';

const podsPath = '/api/v1/namespaces/default/pods';
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(
  handler: ApiRequestHandler,
  options: Partial<ApiFilterChainOptions> = {},
): Promise<{ base: string; chain: ApiFilterChain; server: Server }> {
  const chain = new ApiFilterChain(handler, { scheme: new DefaultScheme(), ...options });
  const server = createServer(chain.listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, chain, server };
}

/** A handler whose pod requests wait until `release()`; it answers 200 with the URL it saw. */
function gatedHandler(): { handler: ApiRequestHandler; release: () => void; waiting: () => number } {
  let waiters: (() => void)[] = [];
  return {
    handler: async (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith(podsPath) && !req.url.includes('watch=true'))
        await new Promise<void>((resolve) => waiters.push(resolve));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ url: req.url }));
    },
    release: () => {
      for (const wake of waiters) wake();
      waiters = [];
    },
    waiting: () => waiters.length,
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

describe('in-flight limits', () => {
  it('count only authenticated requests: without credentials it is 401, never 429 (as upstream)', async () => {
    const gate = gatedHandler();
    const seen: string[] = [];
    const { base } = await serve(gate.handler, {
      maxMutatingRequestsInFlight: 1,
      authenticate: async (req) => {
        seen.push(req.url ?? '');
        if (req.headers.authorization !== 'Bearer ok') throw errors.unauthorized('Unauthorized');
      },
    });
    const auth = { Authorization: 'Bearer ok' };
    const held = fetch(`${base}${podsPath}`, { method: 'POST', body: '{}', headers: auth });
    await until(() => gate.waiting() === 1);
    // The only mutating slot is taken: a request without credentials is refused as such.
    const anonymous = await fetch(`${base}${podsPath}`, { method: 'POST', body: '{}' });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    // An authenticated one gets the 429.
    expect((await fetch(`${base}${podsPath}`, { method: 'POST', body: '{}', headers: auth })).status).toBe(
      429,
    );
    gate.release();
    expect((await held).status).toBe(200);
    expect(seen).toHaveLength(3);
  });

  it('answer 429 TooManyRequests with Retry-After beyond the mutating limit, separately from reads', async () => {
    const gate = gatedHandler();
    const metrics = createMetricsRegistry();
    const { base } = await serve(gate.handler, {
      maxMutatingRequestsInFlight: 2,
      maxRequestsInFlight: 1,
      metrics,
    });
    const held = [1, 2].map(() => fetch(`${base}${podsPath}`, { method: 'POST', body: '{}' }));
    await until(() => gate.waiting() === 2);
    const rejected = await fetch(`${base}${podsPath}`, { method: 'POST', body: '{}' });
    expect(rejected.status).toBe(429);
    expect(rejected.headers.get('retry-after')).toBe('1');
    expect(await rejected.json()).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'TooManyRequests',
      code: 429,
      details: { retryAfterSeconds: 1 },
    });
    // Reads have their own budget: one fits, the second is rejected.
    const read = fetch(`${base}${podsPath}`);
    await until(() => gate.waiting() === 3);
    expect((await fetch(`${base}${podsPath}/x`)).status).toBe(429);
    // Watches are long-running: never limited; probes and /metrics neither.
    expect((await fetch(`${base}${podsPath}?watch=true`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const scrape = await (await fetch(`${base}/metrics`)).text();
    expect(scrape).toContain('apiserver_current_inflight_requests{request_kind="mutating"} 2');
    expect(scrape).toContain('apiserver_current_inflight_requests{request_kind="readOnly"} 1');
    expect(scrape).toMatch(/apiserver_dropped_requests_total\{request_kind="mutating"\} 1/);
    gate.release();
    for (const response of await Promise.all([...held, read])) expect(response.status).toBe(200);
    // The slots are free again.
    const again = fetch(`${base}${podsPath}`, { method: 'POST', body: '{}' });
    await until(() => gate.waiting() === 1);
    gate.release();
    expect((await again).status).toBe(200);
  });
});

describe('request timeouts', () => {
  it('answer 504 Timeout at the default deadline and keep the connection usable', async () => {
    const gate = gatedHandler();
    const { base } = await serve(gate.handler, { requestTimeoutSeconds: 0.3 });
    const started = Date.now();
    const response = await fetch(`${base}${podsPath}/slow`);
    expect(response.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(await response.json()).toMatchObject({ kind: 'Status', reason: 'Timeout', code: 504 });
    // The handler's late answer goes nowhere; the server keeps serving.
    gate.release();
    await new Promise((r) => setTimeout(r, 20));
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('honour a shorter ?timeout=, ignore a longer one and reject a malformed one with 400', async () => {
    const gate = gatedHandler();
    const { base } = await serve(gate.handler, { requestTimeoutSeconds: 5 });
    let started = Date.now();
    expect((await fetch(`${base}${podsPath}?timeout=150ms`)).status).toBe(504);
    expect(Date.now() - started).toBeLessThan(2000);
    const bad = await fetch(`${base}${podsPath}?timeout=soon`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ reason: 'BadRequest', code: 400 });
    gate.release();
    started = Date.now();
    const long = fetch(`${base}${podsPath}?timeout=1h`);
    await until(() => gate.waiting() === 1);
    gate.release();
    expect((await long).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('turn ?timeout= on a watch into timeoutSeconds, unless timeoutSeconds is given', async () => {
    const gate = gatedHandler();
    const { base } = await serve(gate.handler, { requestTimeoutSeconds: 0.1 });
    const watch = await fetch(`${base}${podsPath}?watch=true&timeout=1500ms`);
    expect(watch.status).toBe(200);
    expect((await watch.json()).url).toBe(`${podsPath}?watch=true&timeout=1500ms&timeoutSeconds=2`);
    const explicit = await fetch(`${base}${podsPath}?watch=true&timeout=1m&timeoutSeconds=7`);
    expect((await explicit.json()).url).toBe(`${podsPath}?watch=true&timeout=1m&timeoutSeconds=7`);
  });
});

describe('graceful shutdown bookkeeping', () => {
  it('idle() waits for in-flight requests, and replies carry Connection: close once shutting down', async () => {
    const gate = gatedHandler();
    const { base, chain } = await serve(gate.handler);
    const pending = fetch(`${base}${podsPath}/a`);
    await until(() => gate.waiting() === 1);
    let idle = false;
    void chain.idle().then(() => {
      idle = true;
    });
    chain.beginShutdown();
    await new Promise((r) => setTimeout(r, 50));
    expect(idle).toBe(false);
    const late = fetch(`${base}${podsPath}/b`);
    await until(() => gate.waiting() === 2);
    gate.release();
    expect((await pending).status).toBe(200);
    const lateResponse = await late;
    expect(lateResponse.headers.get('connection')).toBe('close');
    await until(() => idle);
    expect(chain.activeRequests).toBe(0);
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
    ['0', 0],
    ['-5s', -5000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });
  it.each(['', 'abc', '5', '1x', 's', '1s2'])('%j is a BadRequest', (text) => {
    expect(() => parseGoDuration(text)).toThrow(expect.objectContaining({ reason: 'BadRequest', code: 400 }));
  });
});
