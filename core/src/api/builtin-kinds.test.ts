// SPDX-License-Identifier: Apache-2.0
// The built-in kinds' defaulting and validation, observed as a client sees them: through the
// registry, on the embedded store.
import { EmbeddedStore } from '@cpkit/store-embedded';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreRegistry } from '../registry/registry.js';
import { FakeClock } from '../testing/fake-clock.js';
import { expectStatusError } from '../testing/status-rejection.js';
import { registerBuiltinKinds } from './builtin-kinds.js';
import type { UnstructuredObject } from './object.js';
import { DefaultScheme } from './scheme.js';

const stores: EmbeddedStore[] = [];
afterEach(async () => {
  while (stores.length > 0) await stores.pop()?.close();
});

async function newRegistry(): Promise<StoreRegistry> {
  const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
  stores.push(store);
  const scheme = new DefaultScheme();
  registerBuiltinKinds(scheme);
  const registry = new StoreRegistry(store, scheme, new FakeClock());
  await registry.create<UnstructuredObject>({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'default' },
  });
  return registry;
}

const container = { name: 'app', image: 'busybox:1.36' };
const podSpec = { containers: [container] };
const template = { metadata: { labels: { app: 'x' } }, spec: podSpec };
const selector = { matchLabels: { app: 'x' } };

function obj(
  apiVersion: string,
  kind: string,
  body: Record<string, unknown>,
  name = 'x',
): UnstructuredObject {
  return { apiVersion, kind, metadata: { name }, ...body };
}

const pod = (spec: unknown): UnstructuredObject => obj('v1', 'Pod', { spec });
const deployment = (spec: unknown): UnstructuredObject => obj('apps/v1', 'Deployment', { spec });
const service = (spec: unknown, name = 'x'): UnstructuredObject => obj('v1', 'Service', { spec }, name);

describe('validation of the built-in kinds', () => {
  it.each<[string, UnstructuredObject, string, string]>([
    ['pod without containers', pod({ containers: [] }), 'spec.containers', 'Required value'],
    ['pod without spec', obj('v1', 'Pod', {}), 'spec.containers', 'Required value'],
    [
      'container without image',
      pod({ containers: [{ name: 'a' }] }),
      'spec.containers[0].image',
      'Required value',
    ],
    [
      'container without name',
      pod({ containers: [{ image: 'i' }] }),
      'spec.containers[0].name',
      'Required value',
    ],
    [
      'duplicate container names',
      pod({ containers: [container, { ...container }] }),
      'spec.containers[1].name',
      'Duplicate value: "app"',
    ],
    [
      'init container sharing a name',
      pod({ initContainers: [container], containers: [container] }),
      'spec.containers[0].name',
      'Duplicate value',
    ],
    [
      'bad container port',
      pod({ containers: [{ ...container, ports: [{ containerPort: 70000 }] }] }),
      'spec.containers[0].ports[0].containerPort',
      'must be between 1 and 65535, inclusive',
    ],
    [
      'bad port protocol',
      pod({ containers: [{ ...container, ports: [{ containerPort: 80, protocol: 'HTTP' }] }] }),
      'spec.containers[0].ports[0].protocol',
      'Unsupported value: "HTTP"',
    ],
    [
      'bad restartPolicy',
      pod({ ...podSpec, restartPolicy: 'Sometimes' }),
      'spec.restartPolicy',
      'Unsupported value',
    ],
    ['containers not a list', pod({ containers: 'app' }), 'spec.containers', 'must be a list'],
    ['deployment without selector', deployment({ template }), 'spec.selector', 'Required value'],
    [
      'deployment with empty selector',
      deployment({ selector: {}, template }),
      'spec.selector',
      'empty selector is invalid',
    ],
    [
      'deployment selector not matching the template',
      deployment({ selector: { matchLabels: { app: 'y' } }, template }),
      'spec.template.metadata.labels',
      '`selector` does not match template `labels`',
    ],
    [
      'deployment with negative replicas',
      deployment({ replicas: -1, selector, template }),
      'spec.replicas',
      'Invalid value: -1',
    ],
    [
      'deployment template that does not restart',
      deployment({ selector, template: { ...template, spec: { ...podSpec, restartPolicy: 'Never' } } }),
      'spec.template.spec.restartPolicy',
      'supported values: "Always"',
    ],
    [
      'deployment with a bad strategy',
      deployment({ selector, template, strategy: { type: 'BlueGreen' } }),
      'spec.strategy.type',
      'Unsupported value',
    ],
    [
      'deployment with a bad selector operator',
      deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'Near' }] }, template }),
      'spec.selector',
      'not a valid label selector operator',
    ],
    [
      'replicaset without template',
      obj('apps/v1', 'ReplicaSet', { spec: { selector } }),
      'spec.template',
      'Required value',
    ],
    [
      'daemonset without selector',
      obj('apps/v1', 'DaemonSet', { spec: { template } }),
      'spec.selector',
      'Required value',
    ],
    [
      'statefulset with a bad podManagementPolicy',
      obj('apps/v1', 'StatefulSet', { spec: { selector, template, podManagementPolicy: 'Random' } }),
      'spec.podManagementPolicy',
      'Unsupported value',
    ],
    [
      'job that restarts Always',
      obj('batch/v1', 'Job', { spec: { template: { spec: { ...podSpec, restartPolicy: 'Always' } } } }),
      'spec.template.spec.restartPolicy',
      'supported values: "OnFailure", "Never"',
    ],
    [
      'job with negative parallelism',
      obj('batch/v1', 'Job', {
        spec: { parallelism: -2, template: { spec: { ...podSpec, restartPolicy: 'Never' } } },
      }),
      'spec.parallelism',
      'must be greater than or equal to 0',
    ],
    [
      'cronjob without schedule',
      obj('batch/v1', 'CronJob', { spec: { jobTemplate: { spec: {} } } }),
      'spec.schedule',
      'Required value',
    ],
    [
      'cronjob with a malformed schedule',
      obj('batch/v1', 'CronJob', {
        spec: {
          schedule: '* * *',
          jobTemplate: { spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } } } },
        },
      }),
      'spec.schedule',
      'expected exactly 5 fields, found 3',
    ],
    [
      'service port 0',
      service({ ports: [{ port: 0 }] }),
      'spec.ports[0].port',
      'must be between 1 and 65535',
    ],
    ['service without ports', service({ selector: { app: 'x' } }), 'spec.ports', 'Required value'],
    [
      'unnamed ports of a multi-port service',
      service({ ports: [{ port: 80 }, { port: 443, name: 'https' }] }),
      'spec.ports[0].name',
      'Required value',
    ],
    [
      'duplicate service port names',
      service({
        ports: [
          { port: 80, name: 'a' },
          { port: 81, name: 'a' },
        ],
      }),
      'spec.ports[1].name',
      'Duplicate value',
    ],
    [
      'service name starting with a digit',
      service({ ports: [{ port: 80 }] }, '1web'),
      'metadata.name',
      'Invalid value: "1web"',
    ],
    [
      'service with a bad type',
      service({ type: 'Magic', ports: [{ port: 80 }] }),
      'spec.type',
      'Unsupported value',
    ],
    [
      'ExternalName service without a name',
      service({ type: 'ExternalName' }),
      'spec.externalName',
      'Required value',
    ],
    [
      'secret data that is not base64',
      obj('v1', 'Secret', { data: { k: 'not base64!' } }),
      'data[k]',
      'must be base64-encoded',
    ],
    [
      'PV without access modes',
      obj('v1', 'PersistentVolume', { spec: { capacity: { storage: '1Gi' } } }),
      'spec.accessModes',
      'Required value',
    ],
    [
      'PVC without a storage request',
      obj('v1', 'PersistentVolumeClaim', { spec: { accessModes: ['ReadWriteOnce'] } }),
      'spec.resources[storage]',
      'Required value',
    ],
    [
      'lease of zero seconds',
      obj('coordination.k8s.io/v1', 'Lease', { spec: { leaseDurationSeconds: 0 } }),
      'spec.leaseDurationSeconds',
      'must be greater than 0',
    ],
    [
      'endpoint slice without addressType',
      obj('discovery.k8s.io/v1', 'EndpointSlice', {}),
      'addressType',
      'Required value',
    ],
    [
      'HPA with min above max',
      obj('autoscaling/v2', 'HorizontalPodAutoscaler', {
        spec: { scaleTargetRef: { kind: 'Deployment', name: 'd' }, minReplicas: 5, maxReplicas: 2 },
      }),
      'spec.maxReplicas',
      'must be greater than or equal to `minReplicas`',
    ],
    [
      'role rule without verbs',
      obj('rbac.authorization.k8s.io/v1', 'Role', { rules: [{ resources: ['pods'] }] }),
      'rules[0].verbs',
      'Required value',
    ],
    [
      'role binding without roleRef',
      obj('rbac.authorization.k8s.io/v1', 'RoleBinding', {}),
      'roleRef',
      'Required value',
    ],
    [
      'role binding with a bad subject kind',
      obj('rbac.authorization.k8s.io/v1', 'RoleBinding', {
        roleRef: { kind: 'Role', name: 'r' },
        subjects: [{ kind: 'Robot', name: 'r2' }],
      }),
      'subjects[0].kind',
      'Unsupported value',
    ],
    [
      'CRD whose name is not plural.group',
      obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', {
        spec: {
          group: 'example.com',
          names: { plural: 'widgets', kind: 'Widget' },
          scope: 'Namespaced',
          versions: [{ name: 'v1', served: true, storage: true }],
        },
      }),
      'metadata.name',
      'must be spec.names.plural+"."+spec.group',
    ],
    [
      'event about an object in another namespace',
      obj('v1', 'Event', { involvedObject: { kind: 'Pod', name: 'p', namespace: 'elsewhere' } }),
      'involvedObject.namespace',
      'does not match event.namespace',
    ],
  ])('%s → 422 on %s', async (_what, object, field, message) => {
    const registry = await newRegistry();
    const error = await expectStatusError(registry.create<UnstructuredObject>(object));
    expect(error.reason).toBe('Invalid');
    const cause = error.details?.causes?.find((c) => c.field === field);
    expect(cause, `causes: ${JSON.stringify(error.details?.causes)}`).toBeDefined();
    expect(cause?.message).toContain(message);
    expect(error.message).toContain(`${field}: `);
  });
});

describe('defaulting of the built-in kinds', () => {
  it('defaults pods as upstream v1 does', async () => {
    const registry = await newRegistry();
    const created = await registry.create<UnstructuredObject>(
      pod({
        containers: [
          {
            name: 'a',
            image: 'busybox',
            ports: [{ containerPort: 80 }],
            resources: { limits: { cpu: '1', memory: '1Gi' } },
          },
          {
            name: 'b',
            image: 'registry.local:5000/app:latest',
            resources: { limits: { cpu: '1', memory: '1Gi' } },
          },
          { name: 'c', image: 'busybox:1.36', resources: { limits: { cpu: '1', memory: '1Gi' } } },
          { name: 'd', image: 'busybox@sha256:abc', resources: { limits: { cpu: '1', memory: '1Gi' } } },
        ],
      }),
    );
    const spec = created.spec as Record<string, unknown> & { containers: Record<string, unknown>[] };
    expect(spec).toMatchObject({
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      terminationGracePeriodSeconds: 30,
      enableServiceLinks: true,
      securityContext: {},
    });
    expect(spec.containers.map((c) => c.imagePullPolicy)).toEqual([
      'Always',
      'Always',
      'IfNotPresent',
      'IfNotPresent',
    ]);
    expect(spec.containers[0]).toMatchObject({
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } },
    });
    expect(created.status).toEqual({ phase: 'Pending', qosClass: 'Guaranteed' });
    const burstable = await registry.create<UnstructuredObject>({
      ...pod({ containers: [{ name: 'a', image: 'i', resources: { requests: { cpu: '100m' } } }] }),
      metadata: { name: 'burst' },
    });
    expect((burstable.status as { qosClass: string }).qosClass).toBe('Burstable');
  });

  it('defaults workloads and their pod templates', async () => {
    const registry = await newRegistry();
    const d = await registry.create<UnstructuredObject>(deployment({ selector, template }));
    expect(d.spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      template: { spec: { restartPolicy: 'Always', containers: [{ imagePullPolicy: 'IfNotPresent' }] } },
    });
    const ds = await registry.create<UnstructuredObject>(
      obj('apps/v1', 'DaemonSet', { spec: { selector, template } }),
    );
    expect(ds.spec).toMatchObject({
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
    });
    const sts = await registry.create<UnstructuredObject>(
      obj('apps/v1', 'StatefulSet', { spec: { selector, template } }),
    );
    expect(sts.spec).toMatchObject({
      replicas: 1,
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    });
    const cj = await registry.create<UnstructuredObject>(
      obj('batch/v1', 'CronJob', {
        spec: {
          schedule: '*/5 * * * *',
          jobTemplate: { spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } } } },
        },
      }),
    );
    expect(cj.spec).toMatchObject({
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
    });
    const hpa = await registry.create<UnstructuredObject>(
      obj('autoscaling/v2', 'HorizontalPodAutoscaler', {
        spec: { scaleTargetRef: { kind: 'Deployment', name: 'd' }, maxReplicas: 3 },
      }),
    );
    expect(hpa.spec).toMatchObject({
      minReplicas: 1,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
        },
      ],
    });
  });

  it('generates a job selector from its uid', async () => {
    const registry = await newRegistry();
    const job = await registry.create<UnstructuredObject>(
      obj('batch/v1', 'Job', { spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } } } }),
    );
    const uid = job.metadata?.uid;
    expect(job.spec).toMatchObject({
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      template: {
        metadata: {
          labels: { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'x' },
        },
      },
    });
  });

  it('defaults services and secrets', async () => {
    const registry = await newRegistry();
    const svc = await registry.create<UnstructuredObject>(service({ ports: [{ port: 80 }] }));
    expect(svc.spec).toMatchObject({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }],
    });
    const secret = await registry.create<UnstructuredObject>(
      obj('v1', 'Secret', { stringData: { password: 'hunter2' } }),
    );
    expect(secret.type).toBe('Opaque');
    expect(secret.data).toEqual({ password: Buffer.from('hunter2').toString('base64') });
    expect(secret.stringData).toBeUndefined();
  });
});

describe('update rules of the built-in kinds', () => {
  it('lets a pod update change only images; nodeName only through pods/binding, once', async () => {
    const registry = await newRegistry();
    const created = await registry.create<UnstructuredObject>(pod(podSpec));
    const spec = created.spec as Record<string, unknown>;
    const forbidden = await expectStatusError(
      registry.update<UnstructuredObject>({ ...created, spec: { ...spec, restartPolicy: 'Never' } }),
    );
    expect(forbidden.reason).toBe('Invalid');
    expect(forbidden.message).toContain('spec: Forbidden: pod updates may not change fields other than');
    const newImage = await registry.update<UnstructuredObject>({
      ...created,
      spec: { ...spec, containers: [{ ...(spec.containers as object[])[0], image: 'busybox:1.37' }] },
    });
    expect((newImage.spec as { containers: { image: string }[] }).containers[0].image).toBe('busybox:1.37');
    const unboundPatch = await expectStatusError(
      registry.patch<UnstructuredObject>('pods', 'x', 'merge', { spec: { nodeName: 'n1' } }),
    );
    expect(unboundPatch.message).toContain('spec: Forbidden: pod updates may not change fields other than');
    await registry.bind({ metadata: { name: 'x' }, target: { kind: 'Node', name: 'n1' } });
    const bound = await registry.get<UnstructuredObject>('pods', 'x');
    expect((bound.spec as { nodeName: string }).nodeName).toBe('n1');
    const moved = await expectStatusError(
      registry.patch<UnstructuredObject>('pods', 'x', 'merge', { spec: { nodeName: 'n2' } }),
    );
    expect(moved.details?.causes).toContainEqual(expect.objectContaining({ field: 'spec.nodeName' }));
  });

  it.each<[string, UnstructuredObject, unknown, string]>([
    [
      'deployment selector',
      deployment({ selector, template }),
      {
        spec: {
          selector: { matchLabels: { app: 'x', v: '2' } },
          template: { metadata: { labels: { app: 'x', v: '2' } } },
        },
      },
      'spec.selector',
    ],
    [
      'job template',
      obj('batch/v1', 'Job', { spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } } } }),
      { spec: { template: { spec: { activeDeadlineSeconds: 5 } } } },
      'spec.template',
    ],
    [
      'immutable configmap data',
      obj('v1', 'ConfigMap', { immutable: true, data: { a: '1' } }),
      { data: { a: '2' } },
      'data',
    ],
    ['secret type', obj('v1', 'Secret', { type: 'Opaque' }), { type: 'example.com/other' }, 'type'],
    [
      'role binding roleRef',
      obj('rbac.authorization.k8s.io/v1', 'RoleBinding', { roleRef: { kind: 'Role', name: 'a' } }),
      { roleRef: { name: 'b' } },
      'roleRef',
    ],
    [
      'statefulset serviceName',
      obj('apps/v1', 'StatefulSet', { spec: { selector, template, serviceName: 'a' } }),
      { spec: { serviceName: 'b' } },
      'spec',
    ],
  ])('rejects a change of the %s', async (_what, object, patch, field) => {
    const registry = await newRegistry();
    await registry.create<UnstructuredObject>(object);
    const resource = registry.scheme.kindOfObject(object).resource;
    const error = await expectStatusError(registry.patch<UnstructuredObject>(resource, 'x', 'merge', patch));
    expect(error.reason).toBe('Invalid');
    expect(error.details?.causes?.map((c) => c.field)).toContain(field);
  });

  it('keeps a service clusterIP when a replacement leaves it out', async () => {
    const registry = await newRegistry();
    const created = await registry.create<UnstructuredObject>(
      service({ ports: [{ port: 80 }], clusterIP: '10.96.0.10' }),
    );
    const replaced = await registry.update<UnstructuredObject>({
      ...created,
      spec: { ports: [{ port: 81 }] },
    });
    expect((replaced.spec as { clusterIP: string }).clusterIP).toBe('10.96.0.10');
    const changed = await expectStatusError(
      registry.update<UnstructuredObject>({
        ...replaced,
        spec: { ...(replaced.spec as object), clusterIP: '10.96.0.11' },
      }),
    );
    expect(changed.details?.causes?.[0]).toMatchObject({ field: 'spec.clusterIP' });
  });
});
