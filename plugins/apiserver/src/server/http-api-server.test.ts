// SPDX-License-Identifier: Apache-2.0
// The API server over the real in-process registry and the embedded store, driven with fetch.
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { type ApiReply, usePlainApiServer } from '../testing/api-server.js';
import { aggregatedDiscoveryContentType } from './discovery.js';

// Plain HTTP with anonymous access and AlwaysAllow: this file tests the REST semantics; the
// security layers have their own tests (src/auth, and kubectl over HTTPS in test/e2e).
const api = usePlainApiServer();
const { call } = api;

const cmPath = '/api/v1/namespaces/default/configmaps';
const tableAccept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

describe('non-resource endpoints and discovery', () => {
  it('/version reports v1.32.4 and the health endpoints answer ok', async () => {
    expect((await call('GET', '/version')).body).toMatchObject({
      major: '1',
      minor: '32',
      gitVersion: 'v1.32.4',
    });
    for (const path of ['/healthz', '/livez', '/readyz']) {
      expect(await call('GET', path)).toMatchObject({ status: 200, body: 'ok' });
    }
  });

  it('/api and /apis answer legacy lists, or aggregated discovery with its exact content type', async () => {
    expect((await call('GET', '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await call('GET', '/apis')).body;
    expect(groups.kind).toBe('APIGroupList');
    expect(groups.groups).toContainEqual(
      expect.objectContaining({ name: 'apps', preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }),
    );
    const accept = `${aggregatedDiscoveryContentType},application/json`;
    const aggregated = await call('GET', '/apis', undefined, { Accept: accept });
    expect(aggregated.contentType).toBe(aggregatedDiscoveryContentType);
    const apps = aggregated.body.items.find((item: any) => item.metadata.name === 'apps');
    expect(apps.versions[0].resources).toContainEqual(
      expect.objectContaining({
        resource: 'deployments',
        scope: 'Namespaced',
        shortNames: ['deploy'],
        categories: ['all'],
        responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      }),
    );
    const core = await call('GET', '/api', undefined, { Accept: accept });
    expect(core.body.items.map((item: any) => item.metadata.name)).toEqual(['']);
  });

  it('/api/v1 and /apis/apps/v1 list resources with subresources as separate entries', async () => {
    const core = (await call('GET', '/api/v1')).body;
    expect(core).toMatchObject({ kind: 'APIResourceList', groupVersion: 'v1' });
    expect(core.resources).toContainEqual(
      expect.objectContaining({
        name: 'pods',
        singularName: 'pod',
        namespaced: true,
        kind: 'Pod',
        shortNames: ['po'],
      }),
    );
    expect(core.resources).toContainEqual(expect.objectContaining({ name: 'pods/status', kind: 'Pod' }));
    expect(core.resources).toContainEqual(expect.objectContaining({ name: 'namespaces', namespaced: false }));
    const apps = (await call('GET', '/apis/apps/v1')).body;
    expect(apps.groupVersion).toBe('apps/v1');
    expect(apps.resources.map((r: any) => r.name)).toContain('deployments/status');
    // Subresources the kind does not define are not advertised.
    expect(apps.resources.map((r: any) => r.name)).not.toContain('daemonsets/scale');
  });

  it('serves OpenAPI v3 documents that announce fieldValidation, and no OpenAPI v2', async () => {
    const index = (await call('GET', '/openapi/v3')).body;
    expect(index.paths['api/v1'].serverRelativeURL).toMatch(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]+$/);
    const apps = (await call('GET', index.paths['apis/apps/v1'].serverRelativeURL)).body;
    const deployment = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
    expect(deployment.patch['x-kubernetes-group-version-kind']).toEqual({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
    });
    expect(deployment.patch.parameters).toContainEqual(
      expect.objectContaining({ name: 'fieldValidation', in: 'query' }),
    );
    const core = (await call('GET', '/openapi/v3/api/v1')).body;
    expect(core.paths).toHaveProperty(['/api/v1/namespaces/{name}']);
    expect((await call('GET', '/openapi/v3/apis/nope/v1')).status).toBe(404);
    expect((await call('GET', '/openapi/v2')).body).toMatchObject({ kind: 'Status', code: 404 });
  });

  it('accepts a known-fields body under fieldValidation=Strict without warnings, and rejects unknown modes', async () => {
    const path = '/api/v1/namespaces/kube-public/configmaps';
    const response = await fetch(`${api.base}${path}?fieldValidation=Strict`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'fv' }, data: { a: 'b' } }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('warning')).toBeNull();
    const bad = await call('POST', `${path}?fieldValidation=Loose`, { metadata: { name: 'fv2' } });
    expect(bad).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
    expect(bad.body.message).toContain('fieldValidation');
  });

  it('unknown paths, groups and resources are 404 Status objects in JSON', async () => {
    for (const path of [
      '/apis/nope/v1',
      '/api/v2',
      '/api/v1/namespaces/default/widgets',
      '/apis/apps/v2/deployments',
    ]) {
      const reply = await call('GET', path);
      expect(reply.status, path).toBe(404);
      expect(reply.contentType).toMatch(/^application\/json/);
      expect(reply.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
    }
  });
});

describe('resources', () => {
  it('creates with apiVersion/kind inferred from the URL, gets, and lists as JSON and as Table', async () => {
    const created = await call('POST', cmPath, {
      metadata: { name: 'a', labels: { app: 'x' } },
      data: { k: 'v' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { namespace: 'default' },
    });
    expect((await call('GET', `${cmPath}/a`)).body.data).toEqual({ k: 'v' });
    await call('POST', cmPath, { metadata: { name: 'b' } });
    const list = (await call('GET', `${cmPath}?labelSelector=app%3Dx`)).body;
    expect(list.kind).toBe('ConfigMapList');
    expect(list.metadata.resourceVersion).toEqual(expect.any(String));
    expect(list.items.map((i: any) => i.metadata.name)).toEqual(['a']);
    const page = (await call('GET', `${cmPath}?limit=1`)).body;
    expect(page.items).toHaveLength(1);
    const next = (
      await call('GET', `${cmPath}?limit=1&continue=${encodeURIComponent(page.metadata.continue)}`)
    ).body;
    expect(next.items.map((i: any) => i.metadata.name)).toEqual(['b']);
    const table = (await call('GET', cmPath, undefined, { Accept: tableAccept })).body;
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Data', 'Age']);
    expect(table.rows.map((r: any) => r.cells[0])).toEqual(['a', 'b']);
    const one = (await call('GET', `${cmPath}/a`, undefined, { Accept: tableAccept })).body;
    expect(one.rows).toHaveLength(1);
  });

  it.each([
    [
      'a namespace mismatch',
      'POST',
      cmPath,
      { metadata: { name: 'c', namespace: 'other' } },
      400,
      'BadRequest',
    ],
    ['malformed JSON', 'POST', cmPath, '{"metadata":', 400, 'BadRequest'],
    ['a non-object body', 'POST', cmPath, '[1]', 400, 'BadRequest'],
    ['a duplicate', 'POST', cmPath, { metadata: { name: 'dup' } }, 409, 'AlreadyExists'],
    ['a bad limit', 'GET', `${cmPath}?limit=-3`, undefined, 400, 'BadRequest'],
    [
      'a PUT whose name differs from the URL',
      'PUT',
      `${cmPath}/dup`,
      { metadata: { name: 'zzz' } },
      400,
      'BadRequest',
    ],
    ['a subresource the kind lacks', 'GET', `${cmPath}/dup/scale`, undefined, 404, 'NotFound'],
    ['a missing object', 'GET', `${cmPath}/missing`, undefined, 404, 'NotFound'],
  ])('rejects %s with a Status', async (_what, method, path, body, code, reason) => {
    await call('POST', cmPath, { metadata: { name: 'dup' } });
    const reply = await call(method, path, body);
    expect(reply.status).toBe(code);
    expect(reply.contentType).toMatch(/^application\/json/);
    expect(reply.body).toMatchObject({ kind: 'Status', reason, code });
  });

  it('updates with optimistic concurrency', async () => {
    const created = (await call('POST', cmPath, { metadata: { name: 'u' }, data: { n: '1' } })).body;
    const updated = await call('PUT', `${cmPath}/u`, { ...created, data: { n: '2' } });
    expect(updated.status).toBe(200);
    expect(updated.body.data).toEqual({ n: '2' });
    const stale = await call('PUT', `${cmPath}/u`, { ...created, data: { n: '3' } });
    expect(stale).toMatchObject({ status: 409, body: { reason: 'Conflict' } });
  });

  it('patches with all three JSON patch types and 415 for anything else', async () => {
    await call('POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'p' },
      spec: {
        selector: { matchLabels: { app: 'p' } },
        template: {
          metadata: { labels: { app: 'p' } },
          spec: {
            containers: [
              { name: 'a', image: 'a:1' },
              { name: 'b', image: 'b:1' },
            ],
          },
        },
      },
    });
    const path = '/apis/apps/v1/namespaces/default/deployments/p';
    const patch = (type: string, body: unknown): Promise<ApiReply> =>
      call('PATCH', path, body, { 'Content-Type': `application/${type}` });
    const strategic = await patch('strategic-merge-patch+json', {
      spec: { template: { spec: { containers: [{ name: 'b', image: 'b:2' }] } } },
    });
    expect(strategic.status).toBe(200);
    expect(strategic.body.spec.template.spec.containers.map((c: any) => c.image)).toEqual(['a:1', 'b:2']);
    const merge = await patch('merge-patch+json', { metadata: { labels: { tier: 'fe' } } });
    expect(merge.body.metadata.labels).toEqual({ tier: 'fe' });
    const json = await patch('json-patch+json', [{ op: 'replace', path: '/spec/replicas', value: 4 }]);
    expect(json.body.spec.replicas).toBe(4);
    const wrong = await patch('xml', '<x/>');
    expect(wrong).toMatchObject({ status: 415, body: { reason: 'UnsupportedMediaType', code: 415 } });
    expect(wrong.body.message).toContain('application/strategic-merge-patch+json');
  });

  it('server-side apply creates a missing object (201), then merges into it (200)', async () => {
    const path = `${cmPath}/ssa?fieldManager=test`;
    const yaml = (value: string): string =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  labels: {a: b}\ndata:\n  k: ${value}\n`;
    const headers = { 'Content-Type': 'application/apply-patch+yaml' };
    const created = await call('PATCH', path, yaml('one'), headers);
    expect(created).toMatchObject({ status: 201, body: { kind: 'ConfigMap', data: { k: 'one' } } });
    const merged = await call('PATCH', path, yaml('two'), headers);
    expect(merged).toMatchObject({
      status: 200,
      body: { data: { k: 'two' }, metadata: { labels: { a: 'b' } } },
    });
    expect(merged.body.metadata.uid).toBe(created.body.metadata.uid);
    const noManager = await call('PATCH', `${cmPath}/ssa`, yaml('x'), headers);
    expect(noManager).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
    expect(noManager.body.message).toContain('fieldManager');
    const wrongKind = await call('PATCH', path, 'apiVersion: v1\nkind: Secret\n', headers);
    expect(wrongKind).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
    const broken = await call('PATCH', path, 'a: [', headers);
    expect(broken).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
  });

  it('writes status only through the status subresource', async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments/s';
    await call('POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 's' },
      spec: {
        selector: { matchLabels: { app: 's' } },
        template: { metadata: { labels: { app: 's' } }, spec: { containers: [{ name: 'a', image: 'a' }] } },
      },
    });
    const reply = await call(
      'PATCH',
      `${path}/status`,
      { status: { replicas: 7 } },
      {
        'Content-Type': 'application/merge-patch+json',
      },
    );
    expect(reply.status).toBe(200);
    expect((await call('GET', `${path}/status`)).body.status.replicas).toBe(7);
    await call(
      'PATCH',
      path,
      { status: { replicas: 1 } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    expect((await call('GET', path)).body.status.replicas).toBe(7);
  });

  it('serves deployments/scale as an autoscaling/v1 Scale that writes only spec.replicas', async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments/sc';
    await call('POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'sc' },
      spec: {
        replicas: 2,
        selector: {
          matchLabels: { app: 'sc' },
          matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }],
        },
        template: {
          metadata: { labels: { app: 'sc', tier: 'a' } },
          spec: { containers: [{ name: 'a', image: 'a' }] },
        },
      },
    });
    const scale = (await call('GET', `${path}/scale`)).body;
    expect(scale).toMatchObject({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: 'sc', namespace: 'default' },
      spec: { replicas: 2 },
      status: { replicas: 0, selector: 'app=sc,tier in (a,b)' },
    });
    const patched = await call(
      'PATCH',
      `${path}/scale`,
      { spec: { replicas: 5 } },
      {
        'Content-Type': 'application/merge-patch+json',
      },
    );
    expect(patched).toMatchObject({ status: 200, body: { kind: 'Scale', spec: { replicas: 5 } } });
    expect((await call('GET', path)).body.spec.replicas).toBe(5);
    // A PUT of the stale Scale (no Content-Type, as kubectl sends it) is a Conflict.
    const stale = await fetch(`${api.base}${path}/scale`, {
      method: 'PUT',
      // Bytes, so fetch adds no Content-Type.
      body: new TextEncoder().encode(JSON.stringify({ ...scale, spec: { replicas: 9 } })),
    });
    expect(stale.status).toBe(409);
    const invalid = await call(
      'PATCH',
      `${path}/scale`,
      { spec: { replicas: -1 } },
      {
        'Content-Type': 'application/merge-patch+json',
      },
    );
    expect(invalid).toMatchObject({ status: 422, body: { reason: 'Invalid' } });
    const apps = (await call('GET', '/apis/apps/v1')).body;
    expect(apps.resources).toContainEqual(
      expect.objectContaining({
        name: 'deployments/scale',
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
      }),
    );
  });

  it('deletes with preconditions from the body', async () => {
    const created = (await call('POST', cmPath, { metadata: { name: 'd' } })).body;
    const wrong = await call('DELETE', `${cmPath}/d`, { preconditions: { uid: 'not-it' } });
    expect(wrong).toMatchObject({ status: 409, body: { reason: 'Conflict' } });
    const bad = await call('DELETE', `${cmPath}/d`, { propagationPolicy: 'Sideways' });
    expect(bad).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
    const done = await call('DELETE', `${cmPath}/d`, {
      propagationPolicy: 'Background',
      preconditions: { uid: created.metadata.uid },
    });
    expect(done.status).toBe(200);
    expect((await call('GET', `${cmPath}/d`)).status).toBe(404);
  });

  it('watches: one JSON event per line, from the given resourceVersion', async () => {
    const first = (await call('POST', cmPath, { metadata: { name: 'w1', labels: { w: 'y' } } })).body;
    const controller = new AbortController();
    const response = await fetch(
      `${api.base}${cmPath}?watch=true&labelSelector=w%3Dy&resourceVersion=${first.metadata.resourceVersion}`,
      { signal: controller.signal },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    await call('POST', cmPath, { metadata: { name: 'w2', labels: { w: 'y' } } });
    await call('POST', cmPath, { metadata: { name: 'other' } });
    await call('DELETE', `${cmPath}/w1`);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (text.split('\n').length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    const events = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line));
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'w2'],
      ['DELETED', 'w1'],
    ]);
  });

  it('watches as one-row Tables when asked, with the columns only in the first event', async () => {
    const first = (await call('POST', cmPath, { metadata: { name: 't1', labels: { t: 'y' } } })).body;
    const controller = new AbortController();
    const response = await fetch(
      `${api.base}${cmPath}?watch=true&labelSelector=t%3Dy&resourceVersion=${first.metadata.resourceVersion}`,
      { signal: controller.signal, headers: { Accept: tableAccept } },
    );
    await call('POST', cmPath, { metadata: { name: 't2', labels: { t: 'y' } }, data: { a: 'b' } });
    await call('POST', cmPath, { metadata: { name: 't3', labels: { t: 'y' } } });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (text.split('\n').length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    const events = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line));
    expect(events.map((e) => [e.type, e.object.kind, e.object.rows[0].cells.slice(0, 2)])).toEqual([
      ['ADDED', 'Table', ['t2', 1]],
      ['ADDED', 'Table', ['t3', 0]],
    ]);
    expect(events[0].object.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Data', 'Age']);
    expect(events[1].object.columnDefinitions).toEqual([]);
  });

  it('answers 415 to an update body that is not JSON, and to protobuf of a kind it cannot decode', async () => {
    const put = await call('PUT', `${cmPath}/dup`, '<x/>', { 'Content-Type': 'application/xml' });
    expect(put).toMatchObject({ status: 415, body: { kind: 'Status', reason: 'UnsupportedMediaType' } });
    // k8s\0 + runtime.Unknown{typeMeta{apiVersion "v1", kind "Pod"}, raw ""}, written by hand.
    const typeMeta = protobuf.Writer.create().uint32(10).string('v1').uint32(18).string('Pod').finish();
    const unknown = protobuf.Writer.create()
      .uint32(10)
      .bytes(typeMeta)
      .uint32(18)
      .bytes(new Uint8Array())
      .finish();
    const body = Buffer.concat([Buffer.from('k8s\u0000', 'latin1'), Buffer.from(unknown)]);
    const response = await fetch(`${api.base}/api/v1/namespaces/default/pods`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf' },
      body,
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { message: string }).message).toContain('v1/Pod');
    const garbage = await call('POST', cmPath, 'not protobuf', {
      'Content-Type': 'application/vnd.kubernetes.protobuf',
    });
    expect(garbage).toMatchObject({ status: 400, body: { reason: 'BadRequest' } });
  });

  it('answers self reviews for the caller: anonymous, and allowed under AlwaysAllow', async () => {
    const review = await call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      spec: {
        resourceAttributes: { verb: 'create', group: 'apps', resource: 'deployments', namespace: 'x' },
      },
    });
    expect(review).toMatchObject({
      status: 201,
      body: {
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb: 'create' } },
        status: { allowed: true },
      },
    });
    const whoami = await call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {});
    expect(whoami.body.status.userInfo).toEqual({
      username: 'system:anonymous',
      groups: ['system:unauthenticated'],
    });
    const neither = await call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      spec: {},
    });
    expect(neither).toMatchObject({ status: 422, body: { reason: 'Invalid' } });
  });

  it('rejects a broken watch resourceVersion with a 400 Status before streaming, as upstream', async () => {
    const response = await fetch(`${api.base}${cmPath}?watch=true&resourceVersion=abc`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'BadRequest' });
  });
});
