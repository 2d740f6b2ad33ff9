// SPDX-License-Identifier: Apache-2.0
import { EmbeddedStore } from '@cpkit/store-embedded';
import { Container } from 'inversify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerBuiltinKinds } from '../api/builtin-kinds.js';
import type { UnstructuredObject } from '../api/object.js';
import { DefaultScheme } from '../api/scheme.js';
import {
  type AdmissionAttributes,
  type AdmissionOperation,
  AdmissionPlugin,
  type MutatingAdmissionPlugin,
  type ValidatingAdmissionPlugin,
} from '../contracts/admission-plugin.js';
import { Store } from '../contracts/store.js';
import { errors } from '../errors/status-error.js';
import { Registry, type RegistryOptions, StoreRegistry } from '../registry/registry.js';
import { registryModule } from '../registry/registry-module.js';
import { expectStatusError } from '../testing/status-rejection.js';
import { AdmissionChain, controlPlaneUser } from './admission-chain.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(options: RegistryOptions = {}) {
  const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
  cleanups.push(() => store.close());
  const scheme = new DefaultScheme();
  registerBuiltinKinds(scheme);
  // The namespace is created before the plugins under test are in place, so they see only the test's calls.
  await new StoreRegistry(store, scheme).create<UnstructuredObject>({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'default' },
  });
  const registry = new StoreRegistry(store, scheme, undefined, options);
  return { store, registry };
}

const configMap = (name: string, data: Record<string, string> = { a: '1' }): UnstructuredObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default' },
  data,
});

/** A plugin that logs each call as `<name>:<phase>:<operation>` and can act on the attributes. */
function plugin(
  name: string,
  log: string[],
  options: {
    operations?: AdmissionOperation[];
    admit?: (a: AdmissionAttributes) => void | Promise<void>;
    validate?: (a: AdmissionAttributes) => void | Promise<void>;
  },
): AdmissionPlugin {
  const handles = (operation: AdmissionOperation) =>
    (options.operations ?? ['CREATE', 'UPDATE', 'DELETE']).includes(operation);
  const result: Partial<MutatingAdmissionPlugin & ValidatingAdmissionPlugin> = { name, handles };
  if (options.admit) {
    const admit = options.admit;
    result.admit = async (a) => {
      log.push(`${name}:admit:${a.operation}`);
      await admit(a);
    };
  }
  if (options.validate) {
    const validate = options.validate;
    result.validate = async (a) => {
      log.push(`${name}:validate:${a.operation}`);
      await validate(a);
    };
  }
  return result as AdmissionPlugin;
}

/** A minimal valid Deployment in `default`. */
const deployment = (name: string): UnstructuredObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default' },
  spec: {
    selector: { matchLabels: { a: 'b' } },
    template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
  },
});

describe('AdmissionChain', () => {
  it('refuses plugins without a phase and duplicate names', () => {
    expect(() => new AdmissionChain([{ name: 'X', handles: () => true }])).toThrow(
      /neither admit\(\) nor validate\(\)/,
    );
    const p = { name: 'P', handles: () => true, validate: async () => {} };
    expect(() => new AdmissionChain([p, p])).toThrow(/bound twice/);
  });

  it('runs mutating plugins in order, then validating ones, only for the operations they handle', async () => {
    const log: string[] = [];
    const chain = new AdmissionChain([
      plugin('A', log, { admit: () => {}, validate: () => {} }),
      plugin('B', log, { operations: ['DELETE'], admit: () => {} }),
      plugin('C', log, { admit: () => {} }),
    ]);
    expect(chain.mutatingFor('CREATE').map((p) => p.name)).toEqual(['A', 'C']);
    expect(chain.handles('CONNECT')).toBe(false);
    const attributes = { operation: 'CREATE' } as AdmissionAttributes;
    await chain.admit(attributes);
    await chain.validate(attributes);
    expect(log).toEqual(['A:admit:CREATE', 'C:admit:CREATE', 'A:validate:CREATE']);
  });
});

describe('admission in the registry', () => {
  it('creates: mutating plugins in binding order, then defaulting and validation, then validating plugins', async () => {
    const log: string[] = [];
    const seen: UnstructuredObject[] = [];
    const { registry } = await setup({
      admissionPlugins: [
        plugin('First', log, {
          admit: (a) => {
            (a.object as UnstructuredObject).data = {
              ...((a.object as UnstructuredObject).data as object),
              first: 'x',
            };
          },
        }),
        plugin('Second', log, {
          admit: (a) => {
            // Sees the first plugin's change.
            const data = (a.object as UnstructuredObject).data as Record<string, string>;
            data.second = `${data.first}y`;
          },
        }),
        plugin('Check', log, {
          validate: (a) => {
            seen.push(structuredClone(a.object as UnstructuredObject));
          },
        }),
      ],
    });
    const created = await registry.create<UnstructuredObject>(configMap('c'));
    expect(created.data).toEqual({ a: '1', first: 'x', second: 'xy' });
    expect(log).toEqual(['First:admit:CREATE', 'Second:admit:CREATE', 'Check:validate:CREATE']);
    // The validating phase sees the finished object: uid, timestamp, the mutations.
    expect(seen[0]?.metadata?.uid).toBe(created.metadata?.uid);
    expect(seen[0]?.data).toEqual(created.data);
  });

  it('gives plugins the attributes of the request', async () => {
    const seen: AdmissionAttributes[] = [];
    const { registry } = await setup({
      admissionPlugins: [plugin('Spy', [], { validate: (a) => void seen.push(a) })],
    });
    const user = { username: 'alice', groups: ['dev'] };
    await registry.create<UnstructuredObject>(configMap('c'), { user, dryRun: ['All'] });
    expect(seen[0]).toMatchObject({
      operation: 'CREATE',
      kind: { group: '', version: 'v1', kind: 'ConfigMap' },
      resource: { group: '', version: 'v1', resource: 'configmaps' },
      subresource: '',
      namespace: 'default',
      name: 'c',
      userInfo: user,
      dryRun: true,
      options: { user, dryRun: ['All'] },
    });
    await registry.create<UnstructuredObject>(deployment('d'));
    // In-process callers without a user act as the control plane.
    expect(seen[1]?.userInfo).toEqual(controlPlaneUser);
    expect(seen[1]?.userInfo.groups).toContain('system:masters');
    expect(seen[1]?.kind).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
    expect(seen[1]?.dryRun).toBe(false);
  });

  it('stops at the first rejection: later plugins are not called and nothing is stored', async () => {
    const log: string[] = [];
    const { registry, store } = await setup({
      admissionPlugins: [
        plugin('Deny', log, {
          validate: (a) => {
            if ((a.object as UnstructuredObject).data?.deny)
              throw errors.forbidden('configmaps "c" is forbidden: no');
          },
        }),
        plugin('After', log, { validate: () => {} }),
      ],
    });
    const before = await store.currentRevision();
    const error = await expectStatusError(
      registry.create<UnstructuredObject>(configMap('c', { deny: 'yes' })),
    );
    expect([error.reason, error.code, error.message]).toEqual([
      'Forbidden',
      403,
      'configmaps "c" is forbidden: no',
    ]);
    expect(log).toEqual(['Deny:validate:CREATE']);
    expect(await store.currentRevision()).toBe(before);
  });

  it('reports a plugin that throws something else as InternalError naming it', async () => {
    const { registry } = await setup({
      admissionPlugins: [
        plugin('Broken', [], {
          admit: () => {
            throw new Error('boom');
          },
        }),
      ],
    });
    const error = await expectStatusError(registry.create<UnstructuredObject>(configMap('c')));
    expect(error.reason).toBe('InternalError');
    expect(error.code).toBe(500);
    expect(error.message).toBe('Internal error occurred: admission plugin "Broken" failed: boom');
  });

  it('defaults and validates what a mutating plugin added', async () => {
    const { registry } = await setup({
      admissionPlugins: [
        plugin('AddPort', [], {
          admit: (a) => {
            ((a.object as UnstructuredObject).spec as { ports: unknown[] }).ports.push({
              name: 'extra',
              port: 8080,
            });
          },
        }),
      ],
    });
    const created = await registry.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: 'default' },
      spec: { ports: [{ name: 'web', port: 80 }] },
    });
    // protocol and targetPort defaulted on the added port.
    expect((created.spec as { ports: unknown[] }).ports[1]).toEqual({
      name: 'extra',
      port: 8080,
      protocol: 'TCP',
      targetPort: 8080,
    });
  });

  it('updates: the plugins see the new object and the stored one; a mutation is stored', async () => {
    const seen: AdmissionAttributes[] = [];
    const { registry } = await setup({
      admissionPlugins: [
        plugin('Stamp', [], {
          operations: ['UPDATE'],
          admit: (a) => {
            const object = a.object as UnstructuredObject;
            object.metadata = { ...object.metadata, annotations: { stamped: 'yes' } };
          },
          validate: (a) => void seen.push(structuredClone(a)),
        }),
      ],
    });
    const created = await registry.create<UnstructuredObject>(configMap('c'));
    const updated = await registry.update<UnstructuredObject>({ ...configMap('c', { a: '2' }) });
    expect(updated.metadata?.annotations).toEqual({ stamped: 'yes' });
    expect(seen[0]?.operation).toBe('UPDATE');
    expect((seen[0]?.oldObject as UnstructuredObject | undefined)?.data).toEqual({ a: '1' });
    expect(seen[0]?.oldObject?.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    expect((seen[0]?.object as UnstructuredObject | undefined)?.data).toEqual({ a: '2' });
    // The status subresource is admitted too, as an UPDATE of `status`.
    await registry.create<UnstructuredObject>(deployment('d'));
    await registry.patch(
      'deployments',
      'd',
      'merge',
      { status: { replicas: 1 } },
      { namespace: 'default', subresource: 'status' },
    );
    expect(seen.at(-1)).toMatchObject({
      subresource: 'status',
      name: 'd',
      resource: { group: 'apps', resource: 'deployments' },
    });
  });

  it('updates retried after a conflict are admitted again against the then-current object', async () => {
    const olds: string[] = [];
    let racer: (() => Promise<unknown>) | undefined;
    const { registry } = await setup({
      admissionPlugins: [
        plugin('Racy', [], {
          operations: ['UPDATE'],
          validate: async (a) => {
            olds.push(String((a.oldObject as UnstructuredObject).data?.a));
            // The first time, another writer changes the object between admission and the store write.
            const race = racer;
            racer = undefined;
            if (race) await race();
          },
        }),
      ],
    });
    await registry.create<UnstructuredObject>(configMap('c'));
    racer = () =>
      registry.patch('configmaps', 'c', 'merge', { data: { a: 'racer' } }, { namespace: 'default' });
    const result = await registry.patch<UnstructuredObject>(
      'configmaps',
      'c',
      'merge',
      { data: { b: 'mine' } },
      {
        namespace: 'default',
      },
    );
    // Attempt 1 saw a=1 and lost the race; the racer's own update saw a=1; attempt 2 saw a=racer.
    expect(olds).toEqual(['1', '1', 'racer']);
    expect(result.data).toEqual({ a: 'racer', b: 'mine' });
  });

  it('deletes: the plugins see the stored object as oldObject and no object; a rejection keeps it', async () => {
    const seen: AdmissionAttributes[] = [];
    const { registry } = await setup({
      admissionPlugins: [
        plugin('Guard', [], {
          operations: ['DELETE'],
          validate: (a) => {
            seen.push(a);
            if ((a.oldObject as UnstructuredObject).data?.protected) throw errors.forbidden('protected');
          },
        }),
      ],
    });
    await registry.create<UnstructuredObject>(configMap('keep', { protected: 'yes' }));
    await registry.create<UnstructuredObject>(configMap('drop'));
    expect(
      (await expectStatusError(registry.delete('configmaps', 'keep', { namespace: 'default' }))).reason,
    ).toBe('Forbidden');
    await registry.delete('configmaps', 'drop', { namespace: 'default', gracePeriodSeconds: 0 });
    expect(
      seen.map((a) => [a.operation, a.name, a.object, (a.oldObject as UnstructuredObject).metadata?.name]),
    ).toEqual([
      ['DELETE', 'keep', undefined, 'keep'],
      ['DELETE', 'drop', undefined, 'drop'],
    ]);
    expect(seen[1]?.options).toMatchObject({ gracePeriodSeconds: 0 });
    expect((await registry.get('configmaps', 'keep', { namespace: 'default' })).metadata?.name).toBe('keep');
  });

  it('a dry run is admitted with dryRun set and persists nothing', async () => {
    const flags: boolean[] = [];
    const { registry, store } = await setup({
      admissionPlugins: [plugin('Flag', [], { validate: (a) => void flags.push(a.dryRun) })],
    });
    await registry.create<UnstructuredObject>(configMap('c'));
    const before = await store.currentRevision();
    await registry.create<UnstructuredObject>(configMap('d'), { dryRun: ['All'] });
    await registry.update<UnstructuredObject>(configMap('c', { a: '2' }), { dryRun: ['All'] });
    await registry.delete('configmaps', 'c', { namespace: 'default', dryRun: ['All'] });
    expect(flags).toEqual([false, true, true, true]);
    expect(await store.currentRevision()).toBe(before);
  });

  it('admits pods/binding as the CREATE of a Binding', async () => {
    const seen: AdmissionAttributes[] = [];
    const { registry } = await setup({
      admissionPlugins: [plugin('Spy', [], { operations: ['CREATE'], validate: (a) => void seen.push(a) })],
    });
    await registry.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'i' }] },
    });
    await registry.bind(
      { metadata: { name: 'p' }, target: { kind: 'Node', name: 'n1' } },
      { namespace: 'default' },
    );
    expect(seen[1]).toMatchObject({
      operation: 'CREATE',
      kind: { kind: 'Binding' },
      resource: { resource: 'pods' },
      subresource: 'binding',
      name: 'p',
      namespace: 'default',
      object: { target: { name: 'n1' } },
    });
  });
});

describe('registryModule', () => {
  it('picks up plugins bound under AdmissionPlugin, after NamespaceLifecycle, in binding order', async () => {
    const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
    cleanups.push(() => store.close());
    const log: string[] = [];
    const container = new Container();
    container.bind(Store).toConstantValue(store);
    container.load(registryModule());
    container.bind(AdmissionPlugin).toConstantValue(plugin('One', log, { admit: () => {} }));
    container.bind(AdmissionPlugin).toConstantValue(plugin('Two', log, { admit: () => {} }));
    const registry = container.get<StoreRegistry>(Registry);
    expect(registry.admission.plugins.map((p) => p.name)).toEqual(['NamespaceLifecycle', 'One', 'Two']);
    // NamespaceLifecycle rejects first: the others never run for a missing namespace.
    expect((await expectStatusError(registry.create<UnstructuredObject>(configMap('c')))).reason).toBe(
      'NotFound',
    );
    expect(log).toEqual([]);
    await registry.create<UnstructuredObject>({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'default' },
    });
    await registry.create<UnstructuredObject>(configMap('c'));
    expect(log).toEqual(['One:admit:CREATE', 'Two:admit:CREATE', 'One:admit:CREATE', 'Two:admit:CREATE']);
  });

  it('works without any plugin bound', async () => {
    const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
    cleanups.push(() => store.close());
    const container = new Container();
    container.bind(Store).toConstantValue(store);
    container.load(registryModule());
    const registry = container.get<StoreRegistry>(Registry);
    expect(registry.admission.plugins.map((p) => p.name)).toEqual(['NamespaceLifecycle']);
  });
});
