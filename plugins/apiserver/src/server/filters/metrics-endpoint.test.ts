// SPDX-License-Identifier: Apache-2.0
// /metrics of a real HttpApiServer: upstream names and labels, bounded labels for unknown resources,
// and the rest of the process's metrics from the same MetricsRegistry.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsRegistry } from '@cpkit/core';
import { startTestControlPlane, type TestControlPlane } from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiServerModule, HttpApiServer } from '../http-api-server.js';

let cp: TestControlPlane;
let base: string;
let dir: string;
const admin = { Authorization: 'Bearer admin-token' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpkit-metrics-'));
  const tokenFile = join(dir, 'tokens.csv');
  await writeFile(tokenFile, 'admin-token,admin,1,"system:masters"\nnobody-token,nobody,2\n');
  cp = await startTestControlPlane({
    store: await openEmbeddedStore(),
    modules: [apiServerModule({ port: 0, tls: false, tokenFile, dataDir: join(dir, 'data') })],
  });
  base = cp.controlPlane.get<HttpApiServer>(HttpApiServer).address()?.url ?? '';
});
afterAll(async () => {
  await cp?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** fetch as the administrator. */
const get = (url: string, init: RequestInit = {}): Promise<Response> =>
  fetch(url, { ...init, headers: { ...admin, ...(init.headers as Record<string, string>) } });

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (enough of it for these assertions). */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `labels`; undefined when there are none. */
function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  const matching = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([key, expected]) => s.labels[key] === expected),
  );
  return matching.length === 0 ? undefined : matching.reduce((sum, s) => sum + s.value, 0);
}

async function scrape(): Promise<{ contentType: string; samples: Sample[]; text: string }> {
  const response = await get(`${base}/metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  return { contentType: response.headers.get('content-type') ?? '', samples: parseSamples(text), text };
}

const cmPath = '/api/v1/namespaces/default/configmaps';
const common = { group: '', version: 'v1', resource: 'configmaps', subresource: '', component: 'apiserver' };

describe('/metrics', () => {
  it('counts requests with upstream verbs, scopes and codes, and times them in upstream buckets', async () => {
    const create = (name: string) =>
      get(`${base}${cmPath}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ metadata: { name }, data: { a: '1' } }),
      });
    expect((await create('m1')).status).toBe(201);
    expect((await create('m1')).status).toBe(409);
    expect((await get(`${base}${cmPath}/m1`)).status).toBe(200);
    expect((await get(`${base}/api/v1/configmaps`)).status).toBe(200);
    const apply = await get(`${base}${cmPath}/m2?fieldManager=test`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/apply-patch+yaml' },
      body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m2\n',
    });
    expect(apply.status).toBe(201);
    const watch = await get(`${base}${cmPath}?watch=true&timeoutSeconds=1`);
    const watchBody = watch.text();
    // While the watch is open it shows as a long-running request.
    let samples = (await scrape()).samples;
    expect(
      value(samples, 'apiserver_longrunning_requests', { ...common, verb: 'WATCH', scope: 'namespace' }),
    ).toBe(1);
    await watchBody;
    const { contentType, text } = await scrape();
    samples = parseSamples(text);
    expect(contentType).toContain('text/plain');
    expect(text).toContain('# TYPE apiserver_request_total counter');
    expect(text).toContain('# TYPE apiserver_request_duration_seconds histogram');
    const total = (labels: Record<string, string>) =>
      value(samples, 'apiserver_request_total', { ...common, ...labels });
    expect(total({ verb: 'POST', scope: 'resource', code: '201', dry_run: '' })).toBe(1);
    expect(total({ verb: 'POST', scope: 'resource', code: '409' })).toBe(1);
    expect(total({ verb: 'GET', scope: 'resource', code: '200' })).toBe(1);
    expect(total({ verb: 'LIST', scope: 'cluster', code: '200' })).toBe(1);
    expect(total({ verb: 'APPLY', scope: 'resource', code: '201' })).toBe(1);
    expect(total({ verb: 'WATCH', scope: 'namespace', code: '200' })).toBe(1);
    expect(
      value(samples, 'apiserver_longrunning_requests', { ...common, verb: 'WATCH', scope: 'namespace' }),
    ).toBe(0);
    const buckets = samples
      .filter((s) => s.name === 'apiserver_request_duration_seconds_bucket' && s.labels.verb === 'POST')
      .map((s) => s.labels.le);
    expect(buckets).toEqual([
      ...['0.005', '0.025', '0.05', '0.1', '0.2', '0.4', '0.6', '0.8', '1', '1.25', '1.5', '2', '3', '4'],
      ...['5', '6', '8', '10', '15', '20', '30', '45', '60', '+Inf'],
    ]);
    expect(
      value(samples, 'apiserver_request_duration_seconds_count', {
        ...common,
        verb: 'POST',
        scope: 'resource',
      }),
    ).toBe(2);
    expect(
      value(samples, 'apiserver_response_sizes_count', { ...common, verb: 'GET', scope: 'resource' }),
    ).toBe(1);
    for (const kind of ['readOnly', 'mutating']) {
      expect(value(samples, 'apiserver_current_inflight_requests', { request_kind: kind })).toBe(0);
    }
  });

  it('reports every unknown resource under one fixed label, so garbage URLs cannot grow the series', async () => {
    for (const junk of [
      '/apis/evil.example/v9/things',
      '/api/v1/namespaces/default/nonsense-1',
      '/api/v1/x2/y',
    ]) {
      expect((await get(`${base}${junk}`)).status).toBe(404);
    }
    expect((await get(`${base}${cmPath}/m1/bogus`)).status).toBe(404);
    // A method outside the API's set is one `other` verb.
    expect((await get(`${base}${cmPath}`, { method: 'PROPFIND' })).status).toBe(405);
    const { samples, text } = await scrape();
    expect(text).not.toContain('evil.example');
    expect(text).not.toContain('nonsense-1');
    expect(text).not.toContain('bogus');
    const unknown = { group: 'unknown', version: 'unknown', resource: 'unknown', code: '404' };
    expect(value(samples, 'apiserver_request_total', { ...unknown, verb: 'LIST' })).toBe(2);
    expect(value(samples, 'apiserver_request_total', { ...unknown, verb: 'GET' })).toBe(1);
    expect(value(samples, 'apiserver_request_total', { ...common, verb: 'other', code: '405' })).toBe(1);
    expect(
      value(samples, 'apiserver_request_total', {
        ...common,
        verb: 'GET',
        subresource: 'unknown',
        code: '404',
      }),
    ).toBe(1);
  });

  it("serves the rest of the process's metrics from the same registry", async () => {
    const registry = cp.controlPlane.get<MetricsRegistry>(MetricsRegistry);
    const other = new Counter({
      name: 'workqueue_adds_total',
      help: 'test',
      labelNames: ['name'],
      registers: [registry],
    });
    other.inc({ name: 'deployments' }, 3);
    const { samples } = await scrape();
    expect(value(samples, 'workqueue_adds_total', { name: 'deployments' })).toBe(3);
    registry.removeSingleMetric('workqueue_adds_total');
  });
});

describe('/metrics access', () => {
  it('needs credentials (401) and the right to get /metrics (403), as every other path', async () => {
    const anonymous = await fetch(`${base}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const nobody = await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer nobody-token' } });
    expect(nobody.status).toBe(403);
    expect(await nobody.json()).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    expect((await get(`${base}/metrics`)).status).toBe(200);
  });

  it('honours impersonation: the admin acting as nobody is refused, nobody cannot act as the admin', async () => {
    const asNobody = await fetch(`${base}/metrics`, { headers: { ...admin, 'Impersonate-User': 'nobody' } });
    expect(asNobody.status).toBe(403);
    expect(await asNobody.json()).toMatchObject({
      reason: 'Forbidden',
      message: expect.stringContaining('"nobody"'),
    });
    const escalating = await fetch(`${base}/metrics`, {
      headers: {
        Authorization: 'Bearer nobody-token',
        'Impersonate-User': 'admin',
        'Impersonate-Group': 'system:masters',
      },
    });
    expect(escalating.status).toBe(403);
    expect(await escalating.json()).toMatchObject({ message: expect.stringContaining('impersonate') });
  });
});
