// SPDX-License-Identifier: Apache-2.0
import { type KubeObject } from '@cpkit/core';
import { expectThrownStatusError } from '@cpkit/core/testing';
import { describe, expect, it } from 'vitest';
import {
  applyConfiguration,
  type FieldManagerContext,
  lastAppliedAnnotation,
  type ManagedFieldsEntry,
  managedFieldsAfterUpdate,
} from './managed-fields.js';
import { defaultFieldManager } from './manager-name.js';
import { typeOfKind } from './type-tree.js';

const cmType = typeOfKind({ group: '', version: 'v1', kind: 'ConfigMap' });
const deployType = typeOfKind({ group: 'apps', version: 'v1', kind: 'Deployment' });
const now = new Date('2026-01-02T03:04:05.678Z');

const cmCtx = (manager: string, extra: Partial<FieldManagerContext> = {}) => ({
  type: cmType,
  apiVersion: 'v1',
  manager,
  now,
  ...extra,
});
const deployCtx = (manager: string, extra: Partial<FieldManagerContext> = {}) => ({
  type: deployType,
  apiVersion: 'apps/v1',
  manager,
  now,
  ignoreStatus: true,
  ...extra,
});

const configMap = (data: Record<string, string>, labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: 'default', ...(labels ? { labels } : {}) },
  data,
});

/** The object as stored: the registry's metadata plus the given managedFields. */
function stored(object: KubeObject, managedFields: ManagedFieldsEntry[]): KubeObject {
  return {
    ...structuredClone(object),
    metadata: {
      ...object.metadata,
      uid: 'u1',
      resourceVersion: '5',
      managedFields,
    } as KubeObject['metadata'],
  };
}

const entries = (object: KubeObject): ManagedFieldsEntry[] =>
  (object.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
const byManager = (object: KubeObject, manager: string) => entries(object).find((e) => e.manager === manager);

const conflictOf = expectThrownStatusError;

describe('Update operations', () => {
  it('a create records one Update entry with every field it set (no identity or server metadata)', () => {
    const fields = managedFieldsAfterUpdate(
      undefined,
      configMap({ a: '1' }, { app: 'x' }),
      cmCtx('kubectl-create'),
    );
    expect(fields).toEqual([
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2026-01-02T03:04:05Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:data': { '.': {}, 'f:a': {} },
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        },
      },
    ]);
  });

  it('an update takes the fields it changes from other managers and drops removed fields everywhere', () => {
    const created = configMap({ a: '1', b: '2' });
    const live = stored(created, managedFieldsAfterUpdate(undefined, created, cmCtx('creator')));
    const next = { ...structuredClone(live), data: { a: 'changed', c: '3' } };
    const fields = managedFieldsAfterUpdate(
      live,
      next,
      cmCtx('editor', { now: new Date('2026-01-03T00:00:00Z') }),
    );
    expect(fields.map((e) => [e.manager, e.fieldsV1])).toEqual([
      ['creator', { 'f:data': {} }],
      ['editor', { 'f:data': { 'f:a': {}, 'f:c': {} } }],
    ]);
  });

  it('an update that changes nothing keeps managedFields as they were (no new entry, same time)', () => {
    const created = configMap({ a: '1' });
    const live = stored(created, managedFieldsAfterUpdate(undefined, created, cmCtx('creator')));
    const fields = managedFieldsAfterUpdate(live, structuredClone(live), cmCtx('other', { now: new Date() }));
    expect(fields).toEqual(live.metadata?.managedFields);
  });

  it('[{}] clears managedFields; garbage in a write keeps the live entries', () => {
    const created = configMap({ a: '1' });
    const live = stored(created, managedFieldsAfterUpdate(undefined, created, cmCtx('creator')));
    const reset = {
      ...structuredClone(live),
      metadata: { ...live.metadata, managedFields: [{}] },
    } as KubeObject;
    expect(managedFieldsAfterUpdate(live, reset, cmCtx('x'))).toEqual([]);
    const garbage = {
      ...structuredClone(live),
      metadata: { ...live.metadata, managedFields: [{ manager: 'evil', operation: 'Nope' }] },
    } as KubeObject;
    expect(managedFieldsAfterUpdate(live, garbage, cmCtx('x'))).toEqual(live.metadata?.managedFields);
  });

  it('the default manager comes from the User-Agent, else unknown', () => {
    expect(
      defaultFieldManager(null, 'kubectl-client-side-apply/v1.32.4 (linux/amd64) kubernetes/4cb5f07'),
    ).toBe('kubectl-client-side-apply');
    expect(defaultFieldManager('mine', 'kubectl/v1.32.4')).toBe('mine');
    expect(defaultFieldManager(undefined, undefined)).toBe('unknown');
  });
});

describe('Apply operations', () => {
  it('apply creates, owns the applied fields, and a second apply removes what it dropped', () => {
    const first = applyConfiguration(
      undefined,
      configMap({ a: '1', b: '2' }, { x: '1', y: '2' }),
      cmCtx('ssa'),
    );
    expect(first.changed).toBe(true);
    expect(entries(first.object)).toEqual([
      {
        manager: 'ssa',
        operation: 'Apply',
        apiVersion: 'v1',
        time: '2026-01-02T03:04:05Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:data': { 'f:a': {}, 'f:b': {} },
          'f:metadata': { 'f:labels': { 'f:x': {}, 'f:y': {} } },
        },
      },
    ]);
    const live = stored(first.object, entries(first.object));
    const second = applyConfiguration(live, configMap({ a: '1' }, { x: '1' }), cmCtx('ssa'));
    expect(second.object.data).toEqual({ a: '1' });
    expect(second.object.metadata?.labels).toEqual({ x: '1' });
    expect(second.object.metadata?.uid).toBe('u1');
    expect(byManager(second.object, 'ssa')?.fieldsV1).toEqual({
      'f:data': { 'f:a': {} },
      'f:metadata': { 'f:labels': { 'f:x': {} } },
    });
  });

  it('a dropped field another manager also owns stays', () => {
    const first = applyConfiguration(undefined, configMap({ a: '1', shared: 's' }), cmCtx('one'));
    let live = stored(first.object, entries(first.object));
    live = stored(live, entries(applyConfiguration(live, configMap({ shared: 's' }), cmCtx('two')).object));
    expect(byManager(live, 'two')?.fieldsV1).toEqual({ 'f:data': { 'f:shared': {} } });
    const dropped = applyConfiguration(live, configMap({ a: '1' }), cmCtx('one'));
    expect(dropped.object.data).toEqual({ a: '1', shared: 's' });
  });

  it('a different value for a field another manager owns is a 409 listing the conflicts; force takes them', () => {
    const first = applyConfiguration(undefined, configMap({ a: '1', b: '2' }), cmCtx('one'));
    const live = stored(first.object, entries(first.object));
    const error = conflictOf(() => applyConfiguration(live, configMap({ a: 'other' }), cmCtx('two')));
    expect(error.code).toBe(409);
    expect(error.reason).toBe('Conflict');
    expect(error.message).toBe('Apply failed with 1 conflict: conflict with "one": .data.a');
    expect(error.details?.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "one"', field: '.data.a' },
    ]);
    const two = conflictOf(() => applyConfiguration(live, configMap({ a: 'x', b: 'y' }), cmCtx('two')));
    expect(two.message).toBe('Apply failed with 2 conflicts: conflicts with "one":\n- .data.a\n- .data.b');
    // The same value is no conflict: both own it.
    const same = applyConfiguration(live, configMap({ a: '1' }), cmCtx('two'));
    expect(byManager(same.object, 'one')?.fieldsV1).toEqual({ 'f:data': { 'f:a': {}, 'f:b': {} } });
    expect(byManager(same.object, 'two')?.fieldsV1).toEqual({ 'f:data': { 'f:a': {} } });
    const forced = applyConfiguration(
      live,
      configMap({ a: 'other' }),
      cmCtx('two', { force: true } as never),
    );
    expect(forced.object.data).toEqual({ a: 'other', b: '2' });
    expect(byManager(forced.object, 'one')?.fieldsV1).toEqual({ 'f:data': { 'f:b': {} } });
    expect(byManager(forced.object, 'two')?.fieldsV1).toEqual({ 'f:data': { 'f:a': {} } });
  });

  it('conflicts with an updater name its apiVersion, as upstream', () => {
    const created = configMap({ a: '1' });
    const live = stored(created, managedFieldsAfterUpdate(undefined, created, cmCtx('kubectl-edit')));
    const error = conflictOf(() => applyConfiguration(live, configMap({ a: '2' }), cmCtx('ssa')));
    expect(error.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.a',
    );
  });

  it('re-applying the same configuration changes nothing', () => {
    const first = applyConfiguration(undefined, configMap({ a: '1' }), cmCtx('ssa'));
    const live = stored(first.object, entries(first.object));
    const again = applyConfiguration(live, configMap({ a: '1' }), cmCtx('ssa', { now: new Date() }));
    expect(again.changed).toBe(false);
    expect(entries(again.object)).toEqual(entries(live));
  });

  it('containers merge by name and ports by containerPort/protocol; a dropped container goes', () => {
    const deployment = (containers: unknown[]): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { app: 'd' } }, template: { spec: { containers } } },
    });
    const first = applyConfiguration(
      undefined,
      deployment([
        { name: 'web', image: 'nginx', ports: [{ containerPort: 80 }, { containerPort: 443 }] },
        { name: 'side', image: 'busybox' },
      ]),
      deployCtx('ssa'),
    );
    let live = stored(first.object, entries(first.object));
    // Another manager adds a port and an env var to web: it owns those items.
    const other = applyConfiguration(
      live,
      deployment([{ name: 'web', ports: [{ containerPort: 8080 }], env: [{ name: 'E', value: 'v' }] }]),
      deployCtx('other'),
    );
    live = stored(other.object, entries(other.object));
    const containers = () =>
      (
        live.spec as {
          template: { spec: { containers: { name: string; ports?: { containerPort: number }[] }[] } };
        }
      ).template.spec.containers;
    expect(containers().map((c) => c.name)).toEqual(['web', 'side']);
    expect(containers()[0]?.ports?.map((p) => p.containerPort)).toEqual([80, 443, 8080]);
    expect(byManager(live, 'other')?.fieldsV1).toMatchObject({
      'f:spec': {
        'f:template': {
          'f:spec': {
            'f:containers': {
              'k:{"name":"web"}': {
                'f:ports': {
                  'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} },
                },
              },
            },
          },
        },
      },
    });
    // The first manager drops port 443 and the sidecar.
    const next = applyConfiguration(
      live,
      deployment([{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }]),
      deployCtx('ssa'),
    );
    live = stored(next.object, entries(next.object));
    expect(containers().map((c) => c.name)).toEqual(['web']);
    expect(containers()[0]?.ports?.map((p) => p.containerPort)).toEqual([80, 8080]);
    expect((containers()[0] as { env?: unknown }).env).toEqual([{ name: 'E', value: 'v' }]);
    // Changing the image the first manager owns conflicts with it, by container key.
    const error = conflictOf(() =>
      applyConfiguration(live, deployment([{ name: 'web', image: 'httpd' }]), deployCtx('other')),
    );
    expect(error.details?.causes?.[0]?.field).toBe('.spec.template.spec.containers[name="web"].image');
  });

  it('kubectl upgrading from client-side apply takes the last-applied fields without conflicts', () => {
    const manifest = configMap({ a: '1' });
    const withAnnotation = structuredClone(manifest);
    (withAnnotation.metadata as Record<string, unknown>).annotations = {
      [lastAppliedAnnotation]: `${JSON.stringify(manifest)}\n`,
    };
    const live = stored(
      withAnnotation,
      managedFieldsAfterUpdate(undefined, withAnnotation, cmCtx('kubectl-client-side-apply')),
    );
    const result = applyConfiguration(live, configMap({ a: '2' }), cmCtx('kubectl'));
    expect(result.object.data).toEqual({ a: '2' });
    const annotations = (result.object.metadata?.annotations ?? {}) as Record<string, string>;
    const annotation = annotations[lastAppliedAnnotation];
    expect(JSON.parse(annotation ?? '{}').data).toEqual({ a: '2' });
    // Any other manager still conflicts.
    expect(conflictOf(() => applyConfiguration(live, configMap({ a: '2' }), cmCtx('other'))).code).toBe(409);
  });
});
