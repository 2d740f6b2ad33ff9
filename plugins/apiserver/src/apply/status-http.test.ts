// SPDX-License-Identifier: Apache-2.0
// Field management of the status subresource over HTTP, against the real registry and embedded
// store: status applies (ownership with subresource `status`, conflicts, force, pruning, nothing
// but status written, no create) and status PUT/PATCH recorded as Updates with subresource `status`.
import { describe, expect, it } from 'vitest';
import { usePlainApiServer } from '../testing/api-server.js';

const { call } = usePlainApiServer();
// biome-ignore lint/suspicious/noExplicitAny: JSON replies, checked by the assertions
type Json = any;

const applyYaml = { 'Content-Type': 'application/apply-patch+yaml' };
const apply = (path: string, body: unknown, query: string) =>
  call('PATCH', `${path}?${query}`, JSON.stringify(body), applyYaml);

const deployments = '/apis/apps/v1/namespaces/default/deployments';
const pods = '/api/v1/namespaces/default/pods';
const entryName = (e: Json) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`;
const managers = (object: Json) => (object.metadata.managedFields ?? []).map(entryName);
const entry = (object: Json, name: string) =>
  (object.metadata.managedFields ?? []).find((e: Json) => entryName(e) === name);

function deployment(name: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: 'nginx' }] },
      },
    },
    ...extra,
  };
}

async function createDeployment(name: string): Promise<Json> {
  const created = await apply(`${deployments}/${name}`, deployment(name), 'fieldManager=owner');
  expect(created.status).toBe(201);
  return created.body;
}

describe('server-side apply on the status subresource', () => {
  it('needs an existing object (404), and a kind with a status subresource', async () => {
    const missing = await apply(`${deployments}/nobody/status`, deployment('nobody'), 'fieldManager=c');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    expect((await call('GET', `${deployments}/nobody`)).status).toBe(404);
    const noStatus = await apply(
      '/api/v1/namespaces/default/configmaps/c/status',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } },
      'fieldManager=c',
    );
    expect(noStatus.status).toBe(404);
    const noManager = await apply(`${deployments}/nobody/status`, deployment('nobody'), '');
    expect(noManager.status).toBe(400);
  });

  it('owns the applied status under subresource status and leaves the main resource alone', async () => {
    const created = await createDeployment('own');
    const mainEntry = entry(created, 'owner/Apply');
    // As `kubectl apply --subresource=status` sends it: the whole file, spec and labels included.
    const config = deployment('own', {
      status: { replicas: 2, readyReplicas: 1, conditions: [{ type: 'Available', status: 'False' }] },
    });
    (config.spec as Json).replicas = 9;
    (config.metadata as Json).labels = { sneaky: 'yes' };
    const applied = await apply(`${deployments}/own/status`, config, 'fieldManager=owner');
    expect(applied.status).toBe(200);
    expect(applied.body.spec.replicas).toBe(2);
    expect(applied.body.metadata.labels).toBeUndefined();
    expect(applied.body.metadata.generation).toBe(created.metadata.generation);
    expect(applied.body.status).toEqual({
      replicas: 2,
      readyReplicas: 1,
      conditions: [{ type: 'Available', status: 'False' }],
    });
    // One manager, two entries: its main-resource apply, untouched, and its status apply.
    expect(managers(applied.body)).toEqual(['owner/Apply', 'owner/Apply/status']);
    expect(entry(applied.body, 'owner/Apply')).toEqual(mainEntry);
    const statusEntry = entry(applied.body, 'owner/Apply/status');
    expect(statusEntry).toMatchObject({ operation: 'Apply', apiVersion: 'apps/v1', subresource: 'status' });
    expect(statusEntry.fieldsV1).toEqual({
      'f:status': {
        'f:replicas': {},
        'f:readyReplicas': {},
        'f:conditions': { 'k:{"type":"Available"}': { '.': {}, 'f:type': {}, 'f:status': {} } },
      },
    });
    const stored = (await call('GET', `${deployments}/own`)).body;
    expect(stored.metadata.managedFields).toEqual(applied.body.metadata.managedFields);
    // The same status applied again writes nothing.
    const again = await apply(`${deployments}/own/status`, config, 'fieldManager=owner');
    expect(again.status).toBe(200);
    expect(again.body.metadata.resourceVersion).toBe(applied.body.metadata.resourceVersion);
    // A main-resource apply never touches status or the status entry.
    const main = await apply(`${deployments}/own`, deployment('own'), 'fieldManager=owner');
    expect(main.body.status).toEqual(applied.body.status);
    expect(entry(main.body, 'owner/Apply/status')).toEqual(statusEntry);
  });

  it('conflicts only with status owners, removes dropped fields and honours force', async () => {
    await createDeployment('race');
    const withStatus = (status: Record<string, unknown>) => deployment('race', { status });
    const first = await apply(
      `${deployments}/race/status`,
      withStatus({ replicas: 2, readyReplicas: 1, availableReplicas: 1 }),
      'fieldManager=ctrl-a',
    );
    expect(first.status).toBe(200);
    // spec.replicas belongs to "owner", but a status apply does not set it: no conflict there.
    const other = withStatus({ readyReplicas: 2, updatedReplicas: 2 });
    (other.spec as Json).replicas = 5;
    const conflict = await apply(`${deployments}/race/status`, other, 'fieldManager=ctrl-b');
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({
      reason: 'Conflict',
      message:
        'Apply failed with 1 conflict: conflict with "ctrl-a" with subresource "status": .status.readyReplicas',
      details: {
        causes: [
          {
            reason: 'FieldManagerConflict',
            field: '.status.readyReplicas',
            message: 'conflict with "ctrl-a" with subresource "status"',
          },
        ],
      },
    });
    // The same value is shared ownership, not a conflict.
    const shared = await apply(
      `${deployments}/race/status`,
      withStatus({ readyReplicas: 1, updatedReplicas: 2 }),
      'fieldManager=ctrl-b',
    );
    expect(shared.status).toBe(200);
    expect(shared.body.status).toEqual({
      replicas: 2,
      readyReplicas: 1,
      availableReplicas: 1,
      updatedReplicas: 2,
    });
    const forced = await apply(`${deployments}/race/status`, other, 'fieldManager=ctrl-b&force=true');
    expect(forced.status).toBe(200);
    expect(forced.body.status.readyReplicas).toBe(2);
    expect(forced.body.spec.replicas).toBe(2);
    expect(entry(forced.body, 'ctrl-a/Apply/status').fieldsV1).toEqual({
      'f:status': { 'f:replicas': {}, 'f:availableReplicas': {} },
    });
    expect(entry(forced.body, 'ctrl-b/Apply/status').fieldsV1).toEqual({
      'f:status': { 'f:readyReplicas': {}, 'f:updatedReplicas': {} },
    });
    // ctrl-a drops availableReplicas (only it owned it: removed) and readyReplicas (ctrl-b's now).
    const dropped = await apply(
      `${deployments}/race/status`,
      withStatus({ replicas: 2 }),
      'fieldManager=ctrl-a',
    );
    expect(dropped.status).toBe(200);
    expect(dropped.body.status).toEqual({ replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
    expect(dropped.body.spec.replicas).toBe(2);
  });

  it("is never excused by, nor rewrites, client-side apply's annotation", async () => {
    const lastApplied = JSON.stringify(deployment('csa', { status: { readyReplicas: 1 } }));
    const created = await call('POST', `${deployments}?fieldManager=kubectl-client-side-apply`, {
      ...deployment('csa'),
      metadata: {
        name: 'csa',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied },
      },
    });
    expect(created.status).toBe(201);
    const put = await call('PUT', `${deployments}/csa/status?fieldManager=ctrl`, {
      ...created.body,
      status: { readyReplicas: 1 },
    });
    expect(put.status).toBe(200);
    // On the main resource kubectl could take fields its annotation records; on status it may not.
    const conflict = await apply(
      `${deployments}/csa/status`,
      deployment('csa', { status: { readyReplicas: 2 } }),
      'fieldManager=kubectl',
    );
    expect(conflict.status).toBe(409);
    const applied = await apply(
      `${deployments}/csa/status`,
      deployment('csa', { status: { replicas: 1 } }),
      'fieldManager=kubectl',
    );
    expect(applied.status).toBe(200);
    expect(applied.body.status).toEqual({ readyReplicas: 1, replicas: 1 });
    expect(applied.body.metadata.annotations).toEqual({
      'kubectl.kubernetes.io/last-applied-configuration': lastApplied,
    });
  });

  it('takes labels from a pod status apply, as the registry allows for pods', async () => {
    const created = await call('POST', `${pods}?fieldManager=maker`, {
      metadata: { name: 'p', labels: { app: 'p' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    expect(created.status).toBe(201);
    const applied = await apply(
      `${pods}/p/status`,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', labels: { ready: 'yes' } },
        spec: { containers: [{ name: 'c', image: 'other' }] },
        status: { phase: 'Running' },
      },
      'fieldManager=kubelet',
    );
    expect(applied.status).toBe(200);
    expect(applied.body.metadata.labels).toEqual({ app: 'p', ready: 'yes' });
    expect(applied.body.spec.containers[0].image).toBe('busybox');
    expect(applied.body.status.phase).toBe('Running');
    expect(entry(applied.body, 'kubelet/Apply/status').fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:ready': {} } },
      'f:status': { 'f:phase': {} },
    });
  });
});

describe('status writes record an Update with subresource status', () => {
  it('PUT and every patch type on status record their manager with the status fields alone', async () => {
    const created = await createDeployment('rec');
    // PUT .../status with a changed spec too: the spec is not written, so not owned.
    const put = await call('PUT', `${deployments}/rec/status?fieldManager=putter`, {
      ...created,
      spec: { ...created.spec, replicas: 7 },
      status: { replicas: 2 },
    });
    expect(put.status).toBe(200);
    expect(put.body.spec.replicas).toBe(2);
    expect(managers(put.body)).toEqual(['owner/Apply', 'putter/Update/status']);
    expect(entry(put.body, 'putter/Update/status')).toMatchObject({
      manager: 'putter',
      operation: 'Update',
      apiVersion: 'apps/v1',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:status': { 'f:replicas': {} } },
      subresource: 'status',
    });
    expect(entry(put.body, 'putter/Update/status').time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // A stale resourceVersion stays a precondition.
    const stale = await call('PUT', `${deployments}/rec/status?fieldManager=putter`, {
      ...created,
      status: { replicas: 3 },
    });
    expect(stale.status).toBe(409);

    const merge = await call(
      'PATCH',
      `${deployments}/rec/status?fieldManager=merger`,
      { status: { readyReplicas: 1 }, spec: { replicas: 4 } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    expect(merge.status).toBe(200);
    expect(merge.body.spec.replicas).toBe(2);
    expect(entry(merge.body, 'merger/Update/status').fieldsV1).toEqual({
      'f:status': { 'f:readyReplicas': {} },
    });

    const json = await call(
      'PATCH',
      `${deployments}/rec/status`,
      [{ op: 'add', path: '/status/availableReplicas', value: 1 }],
      { 'Content-Type': 'application/json-patch+json', 'User-Agent': 'jsoner/1.0' },
    );
    expect(json.status).toBe(200);
    expect(entry(json.body, 'jsoner/Update/status').fieldsV1).toEqual({
      'f:status': { 'f:availableReplicas': {} },
    });

    const strategic = await call(
      'PATCH',
      `${deployments}/rec/status?fieldManager=strategist`,
      { status: { conditions: [{ type: 'Available', status: 'True' }], replicas: 5 } },
      { 'Content-Type': 'application/strategic-merge-patch+json' },
    );
    expect(strategic.status).toBe(200);
    // The strategist took status.replicas from the putter, whose entry, now empty, is gone.
    // (Updaters sort by time, then name: the order within one second is by name.)
    expect(managers(strategic.body).sort()).toEqual([
      'jsoner/Update/status',
      'merger/Update/status',
      'owner/Apply',
      'strategist/Update/status',
    ]);
    expect(entry(strategic.body, 'strategist/Update/status').fieldsV1).toEqual({
      'f:status': {
        'f:replicas': {},
        'f:conditions': { '.': {}, 'k:{"type":"Available"}': { '.': {}, 'f:type': {}, 'f:status': {} } },
      },
    });
    const stored = (await call('GET', `${deployments}/rec`)).body;
    expect(stored.metadata.managedFields).toEqual(strategic.body.metadata.managedFields);
    expect(stored.spec.replicas).toBe(2);

    // An apply of status conflicts with the fields those updaters own.
    const conflict = await apply(
      `${deployments}/rec/status`,
      deployment('rec', { status: { replicas: 1 } }),
      'fieldManager=applier',
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toBe(
      'Apply failed with 1 conflict: conflict with "strategist" with subresource "status" using apps/v1: .status.replicas',
    );
    // A main-resource write leaves the status entries as they are.
    const main = await call(
      'PATCH',
      `${deployments}/rec?fieldManager=scaler`,
      { spec: { replicas: 3 } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    expect(main.status).toBe(200);
    for (const name of ['merger/Update/status', 'jsoner/Update/status', 'strategist/Update/status']) {
      expect(entry(main.body, name)).toEqual(entry(stored, name));
    }
  });
});
