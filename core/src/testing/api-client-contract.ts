// SPDX-License-Identifier: Apache-2.0
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { ConfigMap, Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Observable, Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../api/object.js';
import type { ApiClient, WatchEvent } from '../contracts/api-client.js';
import { deploymentFixture, nodeFixture, podFixture } from './fixtures.js';

/**
 * One ApiClient under test, with the two things the suite cannot do through the client itself.
 * @category Testing
 */
export interface ApiClientContractTarget {
  /** The client under test, talking to a server (or registry) with the built-in kinds. */
  client: ApiClient;
  /** Compacts the store behind the client up to its current revision, so older resourceVersions are gone. */
  compact(): Promise<void>;
  /** Releases everything `create` started (the suite calls it once, after the last test). */
  close(): Promise<void>;
}

/** How {@link describeApiClientContract} gets its client. @category Testing */
export interface ApiClientContractFactory {
  /** Starts one target; every test works in a namespace of its own inside it. */
  create(): Promise<ApiClientContractTarget>;
}

/** Records a watch and owns its subscription. */
class Recorder<T extends KubeObject> {
  readonly events: WatchEvent<T>[] = [];
  error: unknown;
  completed = false;
  private readonly subscription: Subscription;

  constructor(stream: Observable<WatchEvent<T>>) {
    this.subscription = stream.subscribe({
      next: (event) => this.events.push(event),
      error: (error: unknown) => {
        this.error = error;
      },
      complete: () => {
        this.completed = true;
      },
    });
  }

  /** The non-BOOKMARK events as `TYPE name`, once at least `count` arrived. */
  async seen(count: number): Promise<string[]> {
    await until(() => this.summary().length >= count || this.error !== undefined, `${count} watch events`);
    if (this.error !== undefined) throw this.error;
    return this.summary();
  }

  summary(): string[] {
    return this.events
      .filter((event) => event.type !== 'BOOKMARK')
      .map((event) => `${event.type} ${event.object.metadata?.name}`);
  }

  stop(): void {
    this.subscription.unsubscribe();
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Failure {
  name?: string;
  reason?: string;
  code?: number;
  message?: string;
  details?: { name?: string; kind?: string; causes?: { field?: string; reason?: string }[] };
}

/** The error `operation` fails with; fails the test when it succeeds. */
async function failure(operation: () => Promise<unknown>): Promise<Failure> {
  try {
    await operation();
  } catch (error) {
    return error as Failure;
  }
  throw new Error('expected the operation to fail, but it succeeded');
}

async function expectStatus(
  operation: () => Promise<unknown>,
  reason: string,
  code: number,
): Promise<Failure> {
  const error = await failure(operation);
  expect({ name: error.name, reason: error.reason, code: error.code }).toEqual({
    name: 'StatusError',
    reason,
    code,
  });
  return error;
}

const configMap = (name: string, namespace: string, extra: Partial<ConfigMap> = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  ...extra,
  metadata: { name, namespace, ...extra.metadata },
  data: extra.data ?? { key: name },
});

let namespaceCounter = 0;

/**
 * The behaviour every {@link ApiClient} transport must share, as one vitest suite: CRUD, optimistic
 * concurrency, status-subresource isolation, merge and JSON patches, label and field selectors,
 * paging, watches (from a resourceVersion, from now, with the ADDED replay, 410 after compaction),
 * pod binding, deletion held by finalizers, and every failure as a `StatusError` with the Kubernetes
 * reason and code. Run it against the in-process client and against the HTTP client talking to a real
 * API server: passing both is what "same semantics over two transports" means.
 *
 * ```ts
 * describeApiClientContract('HttpApiClient', {
 *   async create() {
 *     const store = await openEmbeddedStore();
 *     // ... start an API server on `store`, build an HttpApiClient for it ...
 *     return { client, compact: async () => store.compact(await store.currentRevision()), close };
 *   },
 * });
 * ```
 * @category Testing
 */
export function describeApiClientContract(name: string, factory: ApiClientContractFactory): void {
  describe(`ApiClient contract: ${name}`, () => {
    let target: ApiClientContractTarget;
    let client: ApiClient;
    const recorders: Recorder<KubeObject>[] = [];

    beforeAll(async () => {
      target = await factory.create();
      client = target.client;
    });
    afterAll(async () => {
      for (const recorder of recorders) recorder.stop();
      await target?.close();
    });

    /** A fresh namespace, so tests never see each other's objects. */
    async function namespace(): Promise<string> {
      const name = `contract-${process.pid}-${++namespaceCounter}`;
      await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      return name;
    }

    function record<T extends KubeObject>(stream: Observable<WatchEvent<T>>): Recorder<T> {
      const recorder = new Recorder(stream);
      recorders.push(recorder as unknown as Recorder<KubeObject>);
      return recorder;
    }

    it('creates, reads, lists, updates and deletes, with server-set metadata', async () => {
      const ns = await namespace();
      const created = await client.create(configMap('a', ns));
      expect(created.metadata).toMatchObject({ name: 'a', namespace: ns });
      expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
      expect(created.metadata?.creationTimestamp).toBeTruthy();
      expect(created).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { key: 'a' } });

      expect(await client.get<ConfigMap>('ConfigMap', 'a', { namespace: ns })).toEqual(created);

      const updated = await client.update({ ...created, data: { key: 'changed' } });
      expect(updated.data).toEqual({ key: 'changed' });
      expect(updated.metadata?.uid).toBe(created.metadata?.uid);
      expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(
        Number(created.metadata?.resourceVersion),
      );

      await client.create(configMap('b', ns));
      const list = await client.list<ConfigMap>('configmaps', { namespace: ns });
      expect(list).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMapList' });
      expect(list.metadata.resourceVersion).toMatch(/^\d+$/);
      expect(list.items.map((item) => [item.metadata?.name, item.data?.key])).toEqual([
        ['a', 'changed'],
        ['b', 'b'],
      ]);

      const deleted = await client.delete<ConfigMap>('ConfigMap', 'a', { namespace: ns });
      expect(deleted.metadata?.uid).toBe(created.metadata?.uid);
      const missing = await expectStatus(
        () => client.get('ConfigMap', 'a', { namespace: ns }),
        'NotFound',
        404,
      );
      expect(missing.message).toBe('configmaps "a" not found');
      expect(missing.details).toMatchObject({ name: 'a', kind: 'configmaps' });
      await expectStatus(() => client.delete('ConfigMap', 'a', { namespace: ns }), 'NotFound', 404);
    });

    it('reads cluster-scoped kinds without a namespace and namespaced kinds across namespaces', async () => {
      const ns1 = await namespace();
      const ns2 = await namespace();
      await client.create(configMap('same', ns1));
      await client.create(configMap('same', ns2));
      const everywhere = await client.list('ConfigMap', { fieldSelector: 'metadata.name=same' });
      expect(everywhere.items.map((item) => item.metadata?.namespace).sort()).toEqual([ns1, ns2].sort());
      const got = await client.get('Namespace', ns1);
      expect(got.metadata?.name).toBe(ns1);
      expect(got.metadata?.namespace).toBeUndefined();
    });

    it('rejects a duplicate with AlreadyExists and an invalid object with Invalid and field causes', async () => {
      const ns = await namespace();
      await client.create(configMap('dup', ns));
      const duplicate = await expectStatus(() => client.create(configMap('dup', ns)), 'AlreadyExists', 409);
      expect(duplicate.message).toBe('configmaps "dup" already exists');
      const invalid = await expectStatus(() => client.create(configMap('Not_Valid', ns)), 'Invalid', 422);
      expect(invalid.details?.causes?.map((cause) => cause.field)).toContain('metadata.name');
      const notFoundNs = await expectStatus(
        () => client.create(configMap('x', `${ns}-missing`)),
        'NotFound',
        404,
      );
      expect(notFoundNs.message).toContain('not found');
      // Nothing was written by the failures.
      expect((await client.list('ConfigMap', { namespace: ns })).items).toHaveLength(1);
    });

    it('fails a stale update with Conflict and lets an update without resourceVersion through', async () => {
      const ns = await namespace();
      const first = await client.create(configMap('occ', ns));
      await client.update({ ...first, data: { key: 'one' } });
      const conflict = await expectStatus(
        () => client.update({ ...first, data: { key: 'stale' } }),
        'Conflict',
        409,
      );
      expect(conflict.message).toContain('the object has been modified');
      expect((await client.get<ConfigMap>('ConfigMap', 'occ', { namespace: ns })).data).toEqual({
        key: 'one',
      });
      const unconditional = await client.update({
        ...first,
        metadata: { ...first.metadata, resourceVersion: undefined },
        data: { key: 'two' },
      });
      expect(unconditional.data).toEqual({ key: 'two' });
      await expectStatus(
        () => client.delete('ConfigMap', 'occ', { namespace: ns, preconditions: { uid: 'not-the-uid' } }),
        'Conflict',
        409,
      );
    });

    it('keeps status and the main resource apart (update, updateStatus, status patch)', async () => {
      const ns = await namespace();
      const created = await client.create<Deployment>({
        ...deploymentFixture({ name: 'web', namespace: ns, replicas: 2 }),
        status: { replicas: 7 },
      });
      expect(created.status?.replicas).toBeUndefined();
      const withStatus = await client.updateStatus<Deployment>({
        ...created,
        spec: { ...created.spec!, replicas: 9 },
        status: { replicas: 2, readyReplicas: 1 },
      });
      expect(withStatus.spec?.replicas).toBe(2);
      expect(withStatus.status).toMatchObject({ replicas: 2, readyReplicas: 1 });
      const mainUpdate = await client.update<Deployment>({
        ...withStatus,
        spec: { ...withStatus.spec!, replicas: 3 },
        status: { replicas: 100 },
      });
      expect(mainUpdate.spec?.replicas).toBe(3);
      expect(mainUpdate.status).toMatchObject({ replicas: 2, readyReplicas: 1 });
      const patched = await client.patch<Deployment>(
        'deployments.apps',
        'web',
        'merge',
        { spec: { replicas: 50 }, status: { readyReplicas: 2 } },
        { namespace: ns, subresource: 'status' },
      );
      expect(patched.spec?.replicas).toBe(3);
      expect(patched.status?.readyReplicas).toBe(2);
    });

    it('applies merge patches (null deletes) and JSON patches (test, add, remove, replace)', async () => {
      const ns = await namespace();
      await client.create(configMap('p', ns, { metadata: { labels: { a: '1', b: '2' } }, data: { x: '1' } }));
      const merged = await client.patch<ConfigMap>(
        'ConfigMap',
        'p',
        'merge',
        { metadata: { labels: { b: null, c: '3' } }, data: { y: '2' } },
        { namespace: ns },
      );
      expect(merged.metadata?.labels).toEqual({ a: '1', c: '3' });
      expect(merged.data).toEqual({ x: '1', y: '2' });
      const jsonPatched = await client.patch<ConfigMap>(
        'ConfigMap',
        'p',
        'json',
        [
          { op: 'test', path: '/data/x', value: '1' },
          { op: 'replace', path: '/data/x', value: 'one' },
          { op: 'remove', path: '/data/y' },
          { op: 'add', path: '/metadata/annotations', value: { note: 'n' } },
        ],
        { namespace: ns },
      );
      expect(jsonPatched.data).toEqual({ x: 'one' });
      expect(jsonPatched.metadata?.annotations).toEqual({ note: 'n' });
      const failedTest = await failure(() =>
        client.patch('ConfigMap', 'p', 'json', [{ op: 'test', path: '/data/x', value: 'nope' }], {
          namespace: ns,
        }),
      );
      expect(failedTest.name).toBe('StatusError');
      expect([409, 422]).toContain(failedTest.code);
      await expectStatus(
        () => client.patch('ConfigMap', 'absent', 'merge', { data: { a: 'b' } }, { namespace: ns }),
        'NotFound',
        404,
      );
      const dry = await client.patch<ConfigMap>(
        'ConfigMap',
        'p',
        'merge',
        { data: { dry: 'run' } },
        { namespace: ns, dryRun: ['All'] },
      );
      expect(dry.data?.dry).toBe('run');
      expect((await client.get<ConfigMap>('ConfigMap', 'p', { namespace: ns })).data?.dry).toBeUndefined();
    });

    it('filters lists by label and field selectors', async () => {
      const ns = await namespace();
      await client.create(podFixture({ name: 'web-1', namespace: ns, labels: { app: 'web', tier: 'fe' } }));
      await client.create(
        podFixture({ name: 'web-2', namespace: ns, labels: { app: 'web', tier: 'be', canary: 'y' } }),
      );
      await client.create(podFixture({ name: 'db', namespace: ns, labels: { app: 'db' }, nodeName: 'n1' }));
      const names = async (options: { labelSelector?: string; fieldSelector?: string }): Promise<string[]> =>
        (await client.list('Pod', { namespace: ns, ...options })).items.map(
          (pod) => pod.metadata?.name ?? '',
        );
      expect(await names({ labelSelector: 'app=web' })).toEqual(['web-1', 'web-2']);
      expect(await names({ labelSelector: 'app=web,!canary' })).toEqual(['web-1']);
      expect(await names({ labelSelector: 'tier in (be,xx)' })).toEqual(['web-2']);
      expect(await names({ fieldSelector: 'spec.nodeName=n1' })).toEqual(['db']);
      expect(await names({ fieldSelector: 'spec.nodeName!=n1,metadata.name!=web-1' })).toEqual(['web-2']);
      expect(await names({ fieldSelector: 'status.phase!=Running' })).toEqual(['db', 'web-1', 'web-2']);
      await expectStatus(() => names({ labelSelector: 'app in (' }), 'BadRequest', 400);
      await expectStatus(() => names({ fieldSelector: 'spec.unknownField=x' }), 'BadRequest', 400);
    });

    it("pages with limit and continue, consistently at the first page's resourceVersion", async () => {
      const ns = await namespace();
      for (let i = 0; i < 5; i++) await client.create(configMap(`page-${i}`, ns));
      const first = await client.list('ConfigMap', { namespace: ns, limit: 2 });
      expect(first.items.map((item) => item.metadata?.name)).toEqual(['page-0', 'page-1']);
      expect(first.metadata.continue).toBeTruthy();
      // A write between pages does not show up in later pages of the same list.
      await client.create(configMap('page-9', ns));
      const second = await client.list('ConfigMap', {
        namespace: ns,
        limit: 2,
        continue: first.metadata.continue,
      });
      const third = await client.list('ConfigMap', {
        namespace: ns,
        limit: 2,
        continue: second.metadata.continue,
      });
      expect([...second.items, ...third.items].map((item) => item.metadata?.name)).toEqual([
        'page-2',
        'page-3',
        'page-4',
      ]);
      expect(third.metadata.continue ?? '').toBe('');
      expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
      await expectStatus(
        () => client.list('ConfigMap', { namespace: ns, limit: 2, continue: 'not-a-token' }),
        'BadRequest',
        400,
      );
    });

    it('watches changes after a resourceVersion, in order, with selectors', async () => {
      const ns = await namespace();
      await client.create(configMap('before', ns));
      const from = (await client.list('ConfigMap', { namespace: ns })).metadata.resourceVersion;
      const all = record(client.watch<ConfigMap>('ConfigMap', { namespace: ns, resourceVersion: from }));
      const labelled = record(
        client.watch<ConfigMap>('ConfigMap', {
          namespace: ns,
          resourceVersion: from,
          labelSelector: 'w=yes',
        }),
      );
      const created = await client.create(configMap('w1', ns, { metadata: { labels: { w: 'yes' } } }));
      await client.create(configMap('w2', ns));
      await client.update({ ...created, data: { key: 'again' } });
      await client.delete('ConfigMap', 'w1', { namespace: ns });
      expect(await all.seen(4)).toEqual(['ADDED w1', 'ADDED w2', 'MODIFIED w1', 'DELETED w1']);
      expect(await labelled.seen(3)).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
      const modified = all.events.find((event) => event.type === 'MODIFIED');
      expect(modified?.object).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { key: 'again' } });
      all.stop();
      labelled.stop();
    });

    it('watches from now with an ADDED replay of the current state, and completes on timeoutSeconds', async () => {
      const ns = await namespace();
      await client.create(configMap('old-1', ns));
      await client.create(configMap('old-2', ns));
      const replay = record(client.watch('ConfigMap', { namespace: ns }));
      expect(await replay.seen(2)).toEqual(['ADDED old-1', 'ADDED old-2']);
      await client.create(configMap('new', ns));
      expect(await replay.seen(3)).toEqual(['ADDED old-1', 'ADDED old-2', 'ADDED new']);
      replay.stop();
      // The replay comes in storage (name) order.
      const fromZero = record(client.watch('ConfigMap', { namespace: ns, resourceVersion: '0' }));
      expect(await fromZero.seen(3)).toEqual(['ADDED new', 'ADDED old-1', 'ADDED old-2']);
      fromZero.stop();
      const short = record(client.watch('ConfigMap', { namespace: ns, timeoutSeconds: 1 }));
      await until(() => short.completed || short.error !== undefined, 'the watch to end after 1 s', 10_000);
      expect(short.error).toBeUndefined();
      expect(short.summary()).toEqual(['ADDED new', 'ADDED old-1', 'ADDED old-2']);
    });

    it('fails a watch from a compacted resourceVersion with Expired (410)', async () => {
      const ns = await namespace();
      const first = await client.create(configMap('c1', ns));
      await client.update({ ...first, data: { key: 'later' } });
      await client.create(configMap('c2', ns));
      await target.compact();
      const expired = record(
        client.watch('ConfigMap', { namespace: ns, resourceVersion: first.metadata?.resourceVersion }),
      );
      await until(() => expired.error !== undefined, 'the watch to fail');
      expect(expired.events).toEqual([]);
      expect(expired.error).toMatchObject({ name: 'StatusError', reason: 'Expired', code: 410 });
    });

    it('binds a pod to a node through pods/binding, once', async () => {
      const ns = await namespace();
      const node = `contract-node-${namespaceCounter}`;
      await client.create<Node>(nodeFixture({ name: node }));
      const pod = await client.create<Pod>(podFixture({ name: 'to-bind', namespace: ns }));
      await client.bind({
        metadata: { name: 'to-bind', namespace: ns, uid: pod.metadata?.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
      const bound = await client.get<Pod>('Pod', 'to-bind', { namespace: ns });
      expect(bound.spec?.nodeName).toBe(node);
      expect(bound.status?.conditions).toContainEqual(
        expect.objectContaining({ type: 'PodScheduled', status: 'True' }),
      );
      const again = await expectStatus(
        () =>
          client.bind({
            metadata: { name: 'to-bind', namespace: ns },
            target: { kind: 'Node', name: 'other' },
          }),
        'Conflict',
        409,
      );
      expect(again.message).toContain(`already assigned to node "${node}"`);
      await expectStatus(
        () =>
          client.bind(
            { metadata: { name: 'ghost' }, target: { kind: 'Node', name: node } },
            { namespace: ns },
          ),
        'NotFound',
        404,
      );
      await client.delete('Node', node);
    });

    it('holds a deletion for finalizers and completes it when they are removed', async () => {
      const ns = await namespace();
      await client.create(configMap('held', ns, { metadata: { finalizers: ['example.com/hold'] } }));
      const from = (await client.list('ConfigMap', { namespace: ns })).metadata.resourceVersion;
      const watch = record(client.watch('ConfigMap', { namespace: ns, resourceVersion: from }));
      const marked = await client.delete('ConfigMap', 'held', { namespace: ns });
      expect(marked.metadata?.deletionTimestamp).toBeTruthy();
      const stillThere = await client.get('ConfigMap', 'held', { namespace: ns });
      expect(stillThere.metadata?.deletionTimestamp).toBeTruthy();
      await client.patch('ConfigMap', 'held', 'merge', { metadata: { finalizers: null } }, { namespace: ns });
      await expectStatus(() => client.get('ConfigMap', 'held', { namespace: ns }), 'NotFound', 404);
      expect(await watch.seen(2)).toEqual(['MODIFIED held', 'DELETED held']);
      watch.stop();
    });

    it('changes Namespace spec.finalizers only through the finalize subresource', async () => {
      const ns = await namespace();
      const created = await client.get<Namespace>('Namespace', ns);
      expect(created.spec?.finalizers).toEqual(['kubernetes']);
      const viaMain = await client.patch<Namespace>('Namespace', ns, 'merge', {
        metadata: { labels: { touched: 'yes' } },
        spec: { finalizers: ['example.com/other'] },
      });
      expect(viaMain.metadata?.labels?.touched).toBe('yes');
      expect(viaMain.spec?.finalizers).toEqual(['kubernetes']);
      const finalized = await client.patch<Namespace>(
        'Namespace',
        ns,
        'merge',
        { spec: { finalizers: ['kubernetes', 'example.com/other'] } },
        { subresource: 'finalize' },
      );
      expect(finalized.spec?.finalizers).toEqual(['kubernetes', 'example.com/other']);
      const emptied = await client.patch<Namespace>(
        'Namespace',
        ns,
        'json',
        [{ op: 'replace', path: '/spec/finalizers', value: [] }],
        { subresource: 'finalize' },
      );
      expect(emptied.spec?.finalizers ?? []).toEqual([]);
      expect((await client.get<Namespace>('Namespace', ns)).spec?.finalizers ?? []).toEqual([]);
    });

    it('does not persist dry runs and reports unknown kinds as NotFound', async () => {
      const ns = await namespace();
      const dry = await client.create(configMap('dry', ns), { dryRun: ['All'] });
      expect(dry.metadata?.name).toBe('dry');
      await expectStatus(() => client.get('ConfigMap', 'dry', { namespace: ns }), 'NotFound', 404);
      const unknown = await failure(() => client.get('nosuchthings', 'x', { namespace: ns }));
      expect(unknown).toMatchObject({ name: 'StatusError', reason: 'NotFound', code: 404 });
    });
  });
}
