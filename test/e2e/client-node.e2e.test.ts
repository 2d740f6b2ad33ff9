// SPDX-License-Identifier: Apache-2.0
// The real @kubernetes/client-node 1.4 against `npm start` (the single-node starter as a child
// process, HTTPS with authentication and RBAC), configured only by the admin kubeconfig it writes: typed CRUD (CoreV1Api, AppsV1Api)
// with every patch type, the generic KubernetesObjectApi (server-side apply included), and the
// informer: list, add/update/delete, reconnect after the server restarts (embedded store on the same
// data dir and port; etcd store), relist after 410 (the reopened embedded store; a forced etcd compaction).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EtcdCluster, startEtcdCluster } from '@cpkit/core/testing/etcd-cluster';
import {
  type ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  type ListPromise,
  ListWatch,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1Deployment,
  Watch,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';
import { type SingleNode, startSingleNode } from './support/starter.js';

function clientsFor(node: SingleNode) {
  const kc = new KubeConfig();
  kc.loadFromFile(node.kubeconfig);
  // HTTPS with the starter's CA and the admin client certificate, used exactly as written (client-node
  // 1.4 would refuse a plain http:// server unless told to skip TLS verification).
  expect(kc.getCurrentCluster()?.server).toMatch(/^https:/);
  expect(kc.getCurrentUser()?.certData).toBeTruthy();
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
}

/** The Status a failed call carried (client-node puts the raw reply body on the ApiException). */
async function statusOf(call: Promise<unknown>): Promise<{ code: number; reason: string; message: string }> {
  try {
    await call;
  } catch (error) {
    const body = (error as ApiException<unknown>).body;
    const status = JSON.parse(typeof body === 'string' ? body : JSON.stringify(body));
    return { code: (error as ApiException<unknown>).code, reason: status.reason, message: status.message };
  }
  throw new Error('expected the call to fail');
}

/**
 * `makeInformer(kc, path, listFn)` is `new ListWatch(path, new Watch(kc), listFn, false)`; this builds
 * the same, with the Watch wrapped to record how each watch ended and the ERROR events it carried,
 * and the list function counted. On an error it restarts after a pause, the pattern client-node
 * documents (an informer stops on any error but 410; start() keeps the last resourceVersion).
 */
function recordingInformer(kc: KubeConfig, path: string, list: ListPromise<V1ConfigMap>) {
  const state = {
    lists: 0,
    connects: 0,
    errors: 0,
    stopped: false,
    watchLog: [] as string[],
    events: [] as string[],
  };
  const realWatch = new Watch(kc);
  const recordingWatch = {
    watch: (
      watchPath: string,
      params: Parameters<Watch['watch']>[1],
      callback: Parameters<Watch['watch']>[2],
      done: (err: unknown) => void,
    ) =>
      realWatch.watch(
        watchPath,
        params,
        (type, object, raw) => {
          if (type === 'ERROR') state.watchLog.push(`ERROR ${(object as { code?: number }).code}`);
          callback(type, object, raw);
        },
        (error) => {
          const failure = error as { statusCode?: number; code?: string } | null;
          state.watchLog.push(`done ${failure ? (failure.statusCode ?? failure.code ?? 'error') : 'closed'}`);
          done(error);
        },
      ),
  } as unknown as Watch;
  const informer = new ListWatch<V1ConfigMap>(
    path,
    recordingWatch,
    () => {
      state.lists++;
      return list();
    },
    false,
  );
  informer.on('connect', () => state.connects++);
  informer.on('add', (cm) => state.events.push(`add ${cm.metadata?.name}`));
  informer.on('update', (cm) => state.events.push(`update ${cm.metadata?.name} ${cm.data?.v}`));
  informer.on('delete', (cm) => state.events.push(`delete ${cm.metadata?.name}`));
  informer.on('error', () => {
    state.errors++;
    if (!state.stopped) setTimeout(() => void informer.start(), 200);
  });
  return {
    informer,
    state,
    async stop() {
      state.stopped = true;
      await informer.stop();
    },
  };
}

describe('client-node typed and generic CRUD against npm start', () => {
  let node: SingleNode;
  let clients: ReturnType<typeof clientsFor>;
  beforeAll(async () => {
    node = await startSingleNode({ args: ['--in-memory'] });
    clients = clientsFor(node);
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
  });

  it('CoreV1Api: create (no apiVersion/kind), read, list, patch (json, merge, strategic), replace, delete', async () => {
    const { core } = clients;
    await core.createNamespace({ body: { metadata: { name: 'typed' } } });
    const created = await core.createNamespacedConfigMap({
      namespace: 'typed',
      body: { metadata: { name: 'settings', labels: { app: 'demo' } }, data: { a: '1' } },
    });
    expect(created).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { a: '1' } });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);

    const read = await core.readNamespacedConfigMap({ name: 'settings', namespace: 'typed' });
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    const list = await core.listNamespacedConfigMap({ namespace: 'typed', labelSelector: 'app=demo' });
    expect(list.items.map((item) => item.metadata?.name)).toEqual(['settings']);
    expect(list.metadata?.resourceVersion).toMatch(/^\d+$/);

    // The default patch type of client-node is JSON patch.
    const jsonPatched = await core.patchNamespacedConfigMap({
      name: 'settings',
      namespace: 'typed',
      body: [{ op: 'add', path: '/data/b', value: '2' }],
    });
    expect(jsonPatched.data).toEqual({ a: '1', b: '2' });
    const merged = await core.patchNamespacedConfigMap(
      { name: 'settings', namespace: 'typed', body: { data: { a: null, c: '3' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.data).toEqual({ b: '2', c: '3' });
    const strategic = await core.patchNamespacedConfigMap(
      { name: 'settings', namespace: 'typed', body: { metadata: { labels: { tier: 'fe' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(strategic.metadata?.labels).toEqual({ app: 'demo', tier: 'fe' });

    const replaced = await core.replaceNamespacedConfigMap({
      name: 'settings',
      namespace: 'typed',
      body: { ...strategic, data: { only: 'this' } },
    });
    expect(replaced.data).toEqual({ only: 'this' });
    const stale = await statusOf(
      core.replaceNamespacedConfigMap({ name: 'settings', namespace: 'typed', body: strategic }),
    );
    expect(stale).toMatchObject({ code: 409, reason: 'Conflict' });

    await core.deleteNamespacedConfigMap({ name: 'settings', namespace: 'typed' });
    expect(await statusOf(core.readNamespacedConfigMap({ name: 'settings', namespace: 'typed' }))).toEqual({
      code: 404,
      reason: 'NotFound',
      message: 'configmaps "settings" not found',
    });
  });

  it('AppsV1Api: deployment create with defaults, strategic merge of containers, scale, delete', async () => {
    const { apps } = clients;
    const body: V1Deployment = {
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'app', image: 'nginx:1.27' },
              { name: 'sidecar', image: 'busybox' },
            ],
          },
        },
      },
    };
    const created = await apps.createNamespacedDeployment({ namespace: 'default', body });
    expect(created.spec?.strategy?.type).toBe('RollingUpdate');
    expect(created.spec?.revisionHistoryLimit).toBe(10);
    // Strategic merge keys containers by name: only `app` changes, the sidecar stays.
    const patched = await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'default',
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.28' }] } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(patched.spec?.template.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual([
      'app=nginx:1.28',
      'sidecar=busybox',
    ]);
    const scaled = await apps.patchNamespacedDeploymentScale(
      { name: 'web', namespace: 'default', body: { spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(scaled).toMatchObject({ kind: 'Scale', spec: { replicas: 3 } });
    const listed = await apps.listNamespacedDeployment({ namespace: 'default' });
    expect(listed.items.find((d) => d.metadata?.name === 'web')?.spec?.replicas).toBe(3);
    await apps.deleteNamespacedDeployment({ name: 'web', namespace: 'default' });
    await eventually(async () => {
      const after = await apps.listNamespacedDeployment({ namespace: 'default' });
      return after.items.every((d) => d.metadata?.name !== 'web');
    }, 'the deployment is gone');
  });

  it('KubernetesObjectApi: create, read, patch (strategic and server-side apply), list, delete', async () => {
    const { objects } = clients;
    const spec = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'generic', namespace: 'default', labels: { via: 'generic' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'generic' } },
        template: {
          metadata: { labels: { app: 'generic' } },
          spec: { containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    } satisfies KubernetesObject & Record<string, unknown>;
    const created: KubernetesObject = await objects.create(spec);
    expect(created.metadata?.uid).toBeTruthy();
    const read = (await objects.read({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'generic', namespace: 'default' },
    })) as V1Deployment;
    expect(read.spec?.replicas).toBe(1);
    const patched = (await objects.patch({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'generic', namespace: 'default' },
      spec: { replicas: 2 },
    })) as V1Deployment;
    expect(patched.spec?.replicas).toBe(2);
    const applied = (await objects.patch(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'applied', namespace: 'default' },
        data: { mode: 'ssa' },
      } as KubernetesObject,
      undefined,
      undefined,
      'client-node-e2e',
      true,
      PatchStrategy.ServerSideApply,
    )) as V1ConfigMap;
    expect(applied.data).toEqual({ mode: 'ssa' });
    const list = await objects.list(
      'apps/v1',
      'Deployment',
      'default',
      undefined,
      undefined,
      undefined,
      undefined,
      'via=generic',
    );
    expect(list.items.map((item) => item.metadata?.name)).toEqual(['generic']);
    await objects.delete({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'applied', namespace: 'default' },
    });
    const missing = await statusOf(
      objects.read({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'applied', namespace: 'default' },
      }),
    );
    expect(missing).toMatchObject({ code: 404, reason: 'NotFound' });
  });

  it('makeInformer lists, then reports add, update and delete', async () => {
    const { kc, core } = clients;
    await core.createNamespace({ body: { metadata: { name: 'informed' } } });
    await core.createNamespacedConfigMap({ namespace: 'informed', body: { metadata: { name: 'existing' } } });
    const informer = makeInformer<V1ConfigMap>(kc, '/api/v1/namespaces/informed/configmaps', () =>
      core.listNamespacedConfigMap({ namespace: 'informed' }),
    );
    const events: string[] = [];
    informer.on('add', (cm) => events.push(`add ${cm.metadata?.name}`));
    informer.on('update', (cm) => events.push(`update ${cm.metadata?.name} ${JSON.stringify(cm.data)}`));
    informer.on('delete', (cm) => events.push(`delete ${cm.metadata?.name}`));
    informer.on('error', (error) => events.push(`error ${String(error)}`));
    await informer.start();
    try {
      expect(events).toEqual(['add existing']);
      await core.createNamespacedConfigMap({ namespace: 'informed', body: { metadata: { name: 'new' } } });
      await core.patchNamespacedConfigMap(
        { name: 'new', namespace: 'informed', body: { data: { k: 'v' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedConfigMap({ name: 'existing', namespace: 'informed' });
      await eventually(() => events.length >= 4, 'four informer events');
      expect(events).toEqual(['add existing', 'add new', 'update new {"k":"v"}', 'delete existing']);
      expect(informer.list('informed').map((cm) => cm.metadata?.name)).toEqual(['new']);
    } finally {
      await informer.stop();
    }
  });
});

describe('client-node informer across server restarts', () => {
  const dirs: string[] = [];
  let node: SingleNode | undefined;
  let etcd: EtcdCluster | undefined;
  afterAll(async () => {
    await node?.stop();
    await etcd?.stop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const newDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'cpkit-client-node-restart-'));
    dirs.push(dir);
    return dir;
  };
  const merge = (core: CoreV1Api, name: string, namespace: string, v: string) =>
    core.patchNamespacedConfigMap(
      { name, namespace, body: { data: { v } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );

  it('embedded store: reconnects after a restart on the same data dir and port, gets 410, relists, catches up', async () => {
    const dataDir = await newDir();
    node = await startSingleNode({ dataDir });
    const port = node.port;
    let { kc, core } = clientsFor(node);
    await core.createNamespace({ body: { metadata: { name: 'restart' } } });
    for (const name of ['keep', 'change', 'drop']) {
      await core.createNamespacedConfigMap({
        namespace: 'restart',
        body: { metadata: { name }, data: { v: '1' } },
      });
    }
    const { informer, state, stop } = recordingInformer(kc, '/api/v1/namespaces/restart/configmaps', () =>
      core.listNamespacedConfigMap({ namespace: 'restart' }),
    );
    await informer.start();
    try {
      expect(state.events).toEqual(['add change', 'add drop', 'add keep']);
      await merge(core, 'change', 'restart', '2');
      await eventually(() => state.events.includes('update change 2'), 'the update before the restart');
      const seenBefore = informer.latestResourceVersion();
      // A write the informer does not watch moves the store past the informer's resourceVersion.
      await core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'elsewhere' } },
      });

      expect(await node.stop()).toBe(0);
      await eventually(() => state.errors > 0, 'the informer notices the server is gone');
      node = await startSingleNode({ dataDir, port });
      expect(node.port).toBe(port);
      ({ kc, core } = clientsFor(node));
      // The reopened embedded store keeps no history before its revision at open, so resuming from
      // the informer's resourceVersion is 410 Expired: the informer relists.
      await eventually(() => state.lists >= 2, 'the informer relists after 410', 30_000);
      expect(state.watchLog).toContain('ERROR 410');
      // `lists` counts when the list starts; the informer takes the new resourceVersion when it ends.
      await eventually(
        () => Number(informer.latestResourceVersion()) > Number(seenBefore),
        'the relist moves the informer past its old resourceVersion',
      );

      await merge(core, 'change', 'restart', '3');
      await core.deleteNamespacedConfigMap({ name: 'drop', namespace: 'restart' });
      await core.createNamespacedConfigMap({
        namespace: 'restart',
        body: { metadata: { name: 'added' }, data: { v: '1' } },
      });
      await eventually(
        () => ['update change 3', 'delete drop', 'add added'].every((event) => state.events.includes(event)),
        'the changes after the restart',
        30_000,
      );
      const cached = informer
        .list('restart')
        .map((cm) => `${cm.metadata?.name}=${cm.data?.v}`)
        .sort();
      const served = (await core.listNamespacedConfigMap({ namespace: 'restart' })).items
        .map((cm) => `${cm.metadata?.name}=${cm.data?.v}`)
        .sort();
      expect(cached).toEqual(served);
      expect(cached).toEqual(['added=1', 'change=3', 'keep=1']);
      expect(state.connects).toBeGreaterThanOrEqual(3);
    } finally {
      await stop();
      await node?.stop();
      node = undefined;
    }
  }, 120_000);

  it('etcd store: resumes from its resourceVersion across a restart (no relist); relists after a forced compaction', async () => {
    etcd = await startEtcdCluster({ name: 'client-node-informer' });
    const store = `etcd://${etcd.endpoints.map((endpoint) => new URL(endpoint).host).join(',')}`;
    const dataDir = await newDir();
    node = await startSingleNode({ dataDir, args: ['--store', store] });
    const port = node.port;
    let { kc, core } = clientsFor(node);
    await core.createNamespace({ body: { metadata: { name: 'resume' } } });
    await core.createNamespacedConfigMap({
      namespace: 'resume',
      body: { metadata: { name: 'first' }, data: { v: '1' } },
    });
    const { informer, state, stop } = recordingInformer(kc, '/api/v1/namespaces/resume/configmaps', () =>
      core.listNamespacedConfigMap({ namespace: 'resume' }),
    );
    await informer.start();
    try {
      expect(state.events).toEqual(['add first']);
      // Restart: etcd keeps the history, so the informer resumes where it was, without a list.
      expect(await node.stop()).toBe(0);
      await eventually(() => state.errors > 0, 'the informer notices the server is gone');
      node = await startSingleNode({ dataDir, port, args: ['--store', store] });
      ({ kc, core } = clientsFor(node));
      await core.createNamespacedConfigMap({
        namespace: 'resume',
        body: { metadata: { name: 'second' }, data: { v: '1' } },
      });
      await eventually(() => state.events.includes('add second'), 'the create after the restart', 30_000);
      expect(state.lists).toBe(1);
      expect(state.watchLog).not.toContain('ERROR 410');

      // Down again; meanwhile etcd compacts past the informer's resourceVersion.
      expect(await node.stop()).toBe(0);
      await eventually(() => state.errors > 1, 'the informer notices the server is gone again');
      await etcd.etcdctl(['put', '/unrelated', 'moves the revision']);
      const revision = JSON.parse(await etcd.etcdctl(['get', '/unrelated', '-w', 'json'])).header.revision;
      await etcd.etcdctl(['compact', String(revision)]);
      node = await startSingleNode({ dataDir, port, args: ['--store', store] });
      ({ kc, core } = clientsFor(node));
      await eventually(() => state.lists >= 2, 'the informer relists after 410', 30_000);
      expect(state.watchLog).toContain('ERROR 410');
      await merge(core, 'first', 'resume', '2');
      await eventually(() => state.events.includes('update first 2'), 'the update after the relist', 30_000);
      expect(
        informer
          .list('resume')
          .map((cm) => `${cm.metadata?.name}=${cm.data?.v}`)
          .sort(),
      ).toEqual(['first=2', 'second=1']);
    } finally {
      await stop();
    }
  }, 180_000);
});
