// SPDX-License-Identifier: Apache-2.0
// Field management through the HTTP API over the real registry and embedded store: every write
// records its manager, apply merges, prunes, conflicts and forces, and managedFields survive.
import { describe, expect, it } from 'vitest';
import { usePlainApiServer } from '../testing/api-server.js';

const { call } = usePlainApiServer();

const apply = (path: string, body: unknown, query: string) =>
  call('PATCH', `${path}?${query}`, JSON.stringify(body), { 'Content-Type': 'application/apply-patch+yaml' });

const cms = '/api/v1/namespaces/default/configmaps';
const deployments = '/apis/apps/v1/namespaces/default/deployments';
const managers = (object: any) =>
  (object.metadata.managedFields ?? []).map(
    (e: any) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`,
  );
const fieldsOf = (object: any, manager: string) =>
  object.metadata.managedFields.find((e: any) => e.manager === manager)?.fieldsV1;

describe('managedFields over HTTP', () => {
  it('create, update and every patch type record their manager', async () => {
    const created = await call('POST', `${cms}?fieldManager=creator`, {
      metadata: { name: 'rec', labels: { a: '1' } },
      data: { k: 'v' },
    });
    expect(created.status).toBe(201);
    expect(created.body.metadata.managedFields).toEqual([
      {
        manager: 'creator',
        operation: 'Update',
        apiVersion: 'v1',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { '.': {}, 'f:k': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:a': {} } } },
      },
    ]);
    const merged = await call(
      'PATCH',
      `${cms}/rec?fieldManager=merger`,
      { data: { m: '1' } },
      {
        'Content-Type': 'application/merge-patch+json',
      },
    );
    expect(fieldsOf(merged.body, 'merger')).toEqual({ 'f:data': { 'f:m': {} } });
    const json = await call('PATCH', `${cms}/rec`, [{ op: 'add', path: '/data/j', value: '1' }], {
      'Content-Type': 'application/json-patch+json',
      'User-Agent': 'my-tool/1.0 (linux)',
    });
    expect(fieldsOf(json.body, 'my-tool')).toEqual({ 'f:data': { 'f:j': {} } });
    const strategic = await call(
      'PATCH',
      `${cms}/rec?fieldManager=strat`,
      { data: { k: 'changed' } },
      {
        'Content-Type': 'application/strategic-merge-patch+json',
      },
    );
    // The strategic patch took data.k from the creator.
    expect(fieldsOf(strategic.body, 'strat')).toEqual({ 'f:data': { 'f:k': {} } });
    expect(fieldsOf(strategic.body, 'creator')).toEqual({
      'f:data': {},
      'f:metadata': { 'f:labels': { '.': {}, 'f:a': {} } },
    });
    // A PUT without managedFields (a client unaware of them) keeps the others' entries.
    const { managedFields: _dropped, ...metadata } = strategic.body.metadata;
    const put = await call('PUT', `${cms}/rec`, {
      ...strategic.body,
      metadata,
      data: { ...strategic.body.data, p: '1' },
    });
    expect(put.status).toBe(200);
    expect(managers(put.body).sort()).toEqual([
      'creator/Update',
      'merger/Update',
      'my-tool/Update',
      'node/Update',
      'strat/Update',
    ]);
    // `[{}]` clears them.
    const cleared = await call(
      'PATCH',
      `${cms}/rec`,
      { metadata: { managedFields: [{}] } },
      {
        'Content-Type': 'application/merge-patch+json',
      },
    );
    expect(cleared.body.metadata.managedFields).toBeUndefined();
  });

  it('a PUT keeps its resourceVersion precondition; a JSON patch can clear managedFields with [{}]', async () => {
    const created = await call('POST', `${cms}?fieldManager=creator`, {
      metadata: { name: 'pre' },
      data: { a: '1' },
    });
    const stale = {
      ...created.body,
      metadata: { ...created.body.metadata, resourceVersion: '1' },
      data: { a: '2' },
    };
    expect((await call('PUT', `${cms}/pre?fieldManager=late`, stale)).status).toBe(409);
    const cleared = await call(
      'PATCH',
      `${cms}/pre`,
      [{ op: 'replace', path: '/metadata/managedFields', value: [{}] }],
      {
        'Content-Type': 'application/json-patch+json',
      },
    );
    expect(cleared.status).toBe(200);
    expect(cleared.body.metadata.managedFields).toBeUndefined();
    // A dry-run apply answers with the result and stores nothing.
    const dry = await apply(
      `${cms}/pre`,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pre' }, data: { a: '9' } },
      'fieldManager=dry&dryRun=All',
    );
    expect(dry.status).toBe(200);
    expect(dry.body.data.a).toBe('9');
    expect(managers(dry.body)).toEqual(['dry/Apply']);
    expect((await call('GET', `${cms}/pre`)).body.data.a).toBe('1');
  });

  it('apply: create (201), prune a dropped label, conflict (409) and force', async () => {
    const config = (labels: Record<string, string>, data: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ssa', labels },
      data,
    });
    const first = await apply(`${cms}/ssa`, config({ a: '1', b: '2' }, { k: 'v' }), 'fieldManager=one');
    expect(first.status).toBe(201);
    expect(managers(first.body)).toEqual(['one/Apply']);
    const second = await apply(`${cms}/ssa`, config({ a: '1' }, { k: 'v' }), 'fieldManager=one');
    expect(second.status).toBe(200);
    expect(second.body.metadata.labels).toEqual({ a: '1' });
    const unchanged = await apply(`${cms}/ssa`, config({ a: '1' }, { k: 'v' }), 'fieldManager=one');
    expect(unchanged.body.metadata.resourceVersion).toBe(second.body.metadata.resourceVersion);
    const conflict = await apply(`${cms}/ssa`, config({}, { k: 'other' }), 'fieldManager=two');
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({
      kind: 'Status',
      reason: 'Conflict',
      code: 409,
      message: 'Apply failed with 1 conflict: conflict with "one": .data.k',
      details: {
        causes: [{ reason: 'FieldManagerConflict', field: '.data.k', message: 'conflict with "one"' }],
      },
    });
    const forced = await apply(`${cms}/ssa`, config({}, { k: 'other' }), 'fieldManager=two&force=true');
    expect(forced.status).toBe(200);
    expect(forced.body.data).toEqual({ k: 'other' });
    // An applied empty map is owned as a leaf, as upstream.
    expect(fieldsOf(forced.body, 'two')).toEqual({
      'f:data': { 'f:k': {} },
      'f:metadata': { 'f:labels': {} },
    });
    expect(fieldsOf(forced.body, 'one')).toEqual({ 'f:metadata': { 'f:labels': { 'f:a': {} } } });
    const withFields = await apply(
      `${cms}/ssa`,
      { ...config({}, {}), metadata: { name: 'ssa', managedFields: [] } },
      'fieldManager=one',
    );
    expect(withFields.status).toBe(400);
    expect((await apply(`${cms}/ssa`, config({}, {}), 'fieldManager=one&force=maybe')).status).toBe(400);
  });

  it('apply of a Deployment merges containers by name and keeps defaults and status', async () => {
    const deployment = (containers: unknown[]) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers } },
      },
    });
    const created = await apply(
      `${deployments}/web`,
      deployment([
        { name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] },
        { name: 'log', image: 'busybox' },
      ]),
      'fieldManager=ssa',
    );
    expect(created.status).toBe(201);
    expect(created.body.spec.revisionHistoryLimit).toBe(10);
    const next = await apply(
      `${deployments}/web`,
      deployment([{ name: 'web', image: 'nginx:2', ports: [{ containerPort: 80 }] }]),
      'fieldManager=ssa',
    );
    expect(next.status).toBe(200);
    const containers = next.body.spec.template.spec.containers;
    expect(containers.map((c: any) => [c.name, c.image])).toEqual([['web', 'nginx:2']]);
    // Defaulted when created (nginx is :latest) and owned by nobody: kept, as upstream.
    expect(containers[0].imagePullPolicy).toBe('Always');
    expect(next.body.spec.progressDeadlineSeconds).toBe(600);
    expect(fieldsOf(next.body, 'ssa')['f:spec']['f:template']['f:spec']['f:containers']).toEqual({
      'k:{"name":"web"}': {
        '.': {},
        'f:image': {},
        'f:name': {},
        'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
      },
    });
    const scaled = await call(
      'PATCH',
      `${deployments}/web/scale?fieldManager=scaler`,
      { spec: { replicas: 3 } },
      {
        'Content-Type': 'application/merge-patch+json',
      },
    );
    expect(scaled.status).toBe(200);
    const conflict = await apply(
      `${deployments}/web`,
      (() => {
        const changed = deployment([{ name: 'web', image: 'other' }]);
        return { ...changed, spec: { ...changed.spec, replicas: 1 } };
      })(),
      'fieldManager=ssa2',
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.details.causes).toEqual([
      {
        reason: 'FieldManagerConflict',
        message: 'conflict with "scaler" with subresource "scale" using apps/v1',
        field: '.spec.replicas',
      },
      {
        reason: 'FieldManagerConflict',
        message: 'conflict with "ssa"',
        field: '.spec.template.spec.containers[name="web"].image',
      },
    ]);
    expect(fieldsOf((await call('GET', `${deployments}/web`)).body, 'scaler')).toEqual({
      'f:spec': { 'f:replicas': {} },
    });
  });
});
