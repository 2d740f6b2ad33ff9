// SPDX-License-Identifier: Apache-2.0
import { EmbeddedStore } from '@cpkit/store-embedded';
import { Container } from 'inversify';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { UnstructuredObject } from '../api/object.js';
import { Scheme } from '../api/scheme.js';
import { ApiClient } from '../contracts/api-client.js';
import { Store } from '../contracts/store.js';
import { StatusError } from '../errors/status-error.js';
import { Registry } from '../registry/registry.js';
import { registryModule } from '../registry/registry-module.js';
import { InProcessApiClient } from './in-process-api-client.js';
import { inProcessApiClientModule } from './in-process-api-client-module.js';

const stores: EmbeddedStore[] = [];
afterEach(async () => {
  while (stores.length > 0) await stores.pop()?.close();
});

async function wiredContainer(options: Parameters<typeof registryModule>[0] = {}): Promise<Container> {
  const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
  stores.push(store);
  const container = new Container();
  container.bind<Store>(Store).toConstantValue(store);
  container.load(registryModule(options), inProcessApiClientModule());
  return container;
}

async function newClient(): Promise<ApiClient> {
  const client = (await wiredContainer()).get<ApiClient>(ApiClient);
  await client.create<UnstructuredObject>({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'default' },
  });
  return client;
}

const configMap = (name: string, data: Record<string, string> = { a: '1' }): UnstructuredObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default' },
  data,
});

describe('InProcessApiClient', () => {
  it('is wired by registryModule + inProcessApiClientModule as singletons', async () => {
    const container = await wiredContainer({
      kinds: [
        { group: 'example.com', version: 'v1', kind: 'Widget', resource: 'widgets', namespaced: false },
      ],
    });
    const client = container.get<ApiClient>(ApiClient);
    expect(client).toBeInstanceOf(InProcessApiClient);
    expect(container.get(ApiClient)).toBe(client);
    expect(container.get(Registry)).toBe(container.get(Registry));
    const scheme = container.get<Scheme>(Scheme);
    expect(scheme.resolve('deploy').kind).toBe('Deployment');
    expect(scheme.resolve('widgets').kind).toBe('Widget');
    const widget = await client.create<UnstructuredObject>({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w' },
    });
    expect(widget.metadata?.uid).toBeDefined();
  });

  it('can leave the built-in kinds out', async () => {
    const container = await wiredContainer({ builtinKinds: false });
    expect(container.get<Scheme>(Scheme).kinds()).toEqual([]);
  });

  it('goes through the registry for every verb', async () => {
    const client = await newClient();
    const created = await client.create<UnstructuredObject>(configMap('c'));
    expect((await client.get<UnstructuredObject>('ConfigMap', 'c', { namespace: 'default' })).data).toEqual({
      a: '1',
    });
    const updated = await client.update<UnstructuredObject>({ ...created, data: { a: '2' } });
    expect(updated.data).toEqual({ a: '2' });
    const patched = await client.patch<UnstructuredObject>('configmaps', 'c', 'json', [
      { op: 'add', path: '/data/b', value: '3' },
    ]);
    expect(patched.data).toEqual({ a: '2', b: '3' });
    const list = await client.list<UnstructuredObject>('configmaps', { namespace: 'default' });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['c']);
    await client.delete<UnstructuredObject>('configmaps', 'c');
    const error = await client.get<UnstructuredObject>('configmaps', 'c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StatusError);
    expect((error as StatusError).message).toBe('configmaps "c" not found');
  });

  it('updateStatus writes only the status, update never does', async () => {
    const client = await newClient();
    const created = await client.create<UnstructuredObject>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'd' } },
        template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'a', image: 'i:1' }] } },
      },
    });
    const withStatus = await client.updateStatus<UnstructuredObject>({
      ...created,
      spec: { replicas: 7 },
      status: { replicas: 1 },
    });
    expect(withStatus.status).toEqual({ replicas: 1 });
    expect((withStatus.spec as { replicas: number }).replicas).toBe(1);
    const updated = await client.update<UnstructuredObject>({ ...withStatus, status: { replicas: 5 } });
    expect(updated.status).toEqual({ replicas: 1 });
  });

  it('never shares objects with the caller', async () => {
    const client = await newClient();
    const input = configMap('c');
    const pending = client.create<UnstructuredObject>(input);
    // Mutating the argument while the call is in flight must not leak into the stored object.
    (input.data as Record<string, string>).a = 'mutated';
    const created = await pending;
    expect(created.data).toEqual({ a: '1' });
    expect(created).not.toBe(input);
    (created.data as Record<string, string>).a = 'mutated again';
    const read = await client.get<UnstructuredObject>('configmaps', 'c');
    expect(read.data).toEqual({ a: '1' });
    (read.data as Record<string, string>).a = 'and again';
    expect((await client.get<UnstructuredObject>('configmaps', 'c')).data).toEqual({ a: '1' });
    const patch = { data: { b: '2' } };
    const patched = client.patch<UnstructuredObject>('configmaps', 'c', 'merge', patch);
    patch.data.b = 'mutated';
    expect((await patched).data).toEqual({ a: '1', b: '2' });
  });

  it('rejects what JSON cannot carry with BadRequest instead of a TypeError', async () => {
    const client = await newClient();
    const error = await client
      .create({ ...configMap('c'), data: { a: (() => 1) as unknown as string } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StatusError);
    expect((error as StatusError).reason).toBe('BadRequest');
  });

  it('streams watch events', async () => {
    const client = await newClient();
    await client.create<UnstructuredObject>(configMap('a'));
    const events = firstValueFrom(client.watch<UnstructuredObject>('configmaps').pipe(take(2), toArray()));
    await new Promise((resolve) => setTimeout(resolve, 10));
    await client.create<UnstructuredObject>(configMap('b'));
    expect((await events).map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual(['ADDED a', 'ADDED b']);
  });
});
