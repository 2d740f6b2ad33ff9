// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { expectThrownStatusError } from '../testing/status-rejection.js';
import { registerBuiltinKinds } from './builtin-kinds.js';
import { DefaultScheme, type KindDefinition } from './scheme.js';

function builtinScheme(): DefaultScheme {
  const scheme = new DefaultScheme();
  registerBuiltinKinds(scheme);
  return scheme;
}

const thrown = expectThrownStatusError;

const widget: KindDefinition = {
  group: 'example.com',
  version: 'v1alpha1',
  kind: 'Widget',
  resource: 'widgets',
  namespaced: true,
  shortNames: ['wg'],
  categories: ['all', 'gadgets'],
  subresources: ['status'],
};

describe('DefaultScheme resolve', () => {
  const scheme = builtinScheme();
  it.each([
    ['Pod', 'Pod', ''],
    ['pods', 'Pod', ''],
    ['pod', 'Pod', ''],
    ['po', 'Pod', ''],
    ['PODS', 'Pod', ''],
    ['pods.v1', 'Pod', ''],
    ['deployments.apps', 'Deployment', 'apps'],
    ['deployments.v1.apps', 'Deployment', 'apps'],
    ['deploy', 'Deployment', 'apps'],
    ['deployment', 'Deployment', 'apps'],
    ['rs', 'ReplicaSet', 'apps'],
    ['sts', 'StatefulSet', 'apps'],
    ['ds', 'DaemonSet', 'apps'],
    ['cj', 'CronJob', 'batch'],
    ['jobs', 'Job', 'batch'],
    ['svc', 'Service', ''],
    ['ep', 'Endpoints', ''],
    ['endpoints', 'Endpoints', ''],
    ['ns', 'Namespace', ''],
    ['no', 'Node', ''],
    ['cm', 'ConfigMap', ''],
    ['sa', 'ServiceAccount', ''],
    ['ev', 'Event', ''],
    ['pv', 'PersistentVolume', ''],
    ['pvc', 'PersistentVolumeClaim', ''],
    ['hpa', 'HorizontalPodAutoscaler', 'autoscaling'],
    ['leases', 'Lease', 'coordination.k8s.io'],
    ['leases.coordination.k8s.io', 'Lease', 'coordination.k8s.io'],
    ['endpointslices', 'EndpointSlice', 'discovery.k8s.io'],
    ['crd', 'CustomResourceDefinition', 'apiextensions.k8s.io'],
    ['crds', 'CustomResourceDefinition', 'apiextensions.k8s.io'],
    ['clusterrolebindings', 'ClusterRoleBinding', 'rbac.authorization.k8s.io'],
  ])('%s → %s', (reference, kind, group) => {
    const found = scheme.resolve(reference);
    expect(found.kind).toBe(kind);
    expect(found.group).toBe(group);
  });

  it('resolves a full GVK', () => {
    expect(scheme.resolve({ group: 'apps', version: 'v1', kind: 'Deployment' }).resource).toBe('deployments');
  });

  it.each([
    ['foo', 'NotFound', 'the server doesn\'t have a resource type "foo"'],
    ['deployments.batch', 'NotFound', 'the server doesn\'t have a resource type "deployments.batch"'],
    ['deployments.v2.apps', 'NotFound', 'the server doesn\'t have a resource type "deployments.v2.apps"'],
    ['', 'BadRequest', 'a kind reference must be'],
  ])('%j fails with %s', (reference, reason, message) => {
    const error = thrown(() => scheme.resolve(reference));
    expect(error.reason).toBe(reason);
    expect(error.message).toContain(message);
  });

  it('fails for an unknown GVK and a malformed one', () => {
    const unknown = thrown(() => scheme.resolve({ group: 'apps', version: 'v2', kind: 'Deployment' }));
    expect(unknown.reason).toBe('NotFound');
    expect(unknown.message).toBe('no matches for kind "Deployment" in version "apps/v2"');
    const malformed = thrown(() => scheme.resolve({ group: 'apps' } as never));
    expect(malformed.reason).toBe('BadRequest');
    expect(thrown(() => scheme.resolve(42 as never)).reason).toBe('BadRequest');
  });

  it('finds the kind of an object and rejects objects without apiVersion or kind', () => {
    expect(scheme.kindOfObject({ apiVersion: 'apps/v1', kind: 'Deployment' }).resource).toBe('deployments');
    expect(scheme.kindOfObject({ apiVersion: 'v1', kind: 'Pod' }).resource).toBe('pods');
    expect(thrown(() => scheme.kindOfObject({ apiVersion: 'v1' })).message).toContain("'Kind' is missing");
    expect(thrown(() => scheme.kindOfObject({ kind: 'Pod' })).message).toContain("'apiVersion' is missing");
    expect(thrown(() => scheme.kindOfObject({ apiVersion: 'v2', kind: 'Pod' })).reason).toBe('NotFound');
  });
});

describe('DefaultScheme register', () => {
  it('registers a kind at run time with defaults filled in', () => {
    const scheme = builtinScheme();
    const registered = scheme.register(widget);
    expect(registered).toMatchObject({
      apiVersion: 'example.com/v1alpha1',
      singular: 'widget',
      listKind: 'WidgetList',
      nameValidation: 'subdomain',
      hasGeneration: true,
      hasStatusSubresource: true,
      qualifiedResource: 'widgets.example.com',
    });
    expect([...registered.selectableFieldNames].sort()).toEqual(['metadata.name', 'metadata.namespace']);
    expect(scheme.resolve('wg').kind).toBe('Widget');
    expect(scheme.resolve('widgets.example.com').kind).toBe('Widget');
    expect(scheme.resolve('Widget').kind).toBe('Widget');
    expect(scheme.kindsInCategory('gadgets').map((k) => k.kind)).toEqual(['Widget']);
    expect(scheme.unregister({ group: 'example.com', version: 'v1alpha1', kind: 'Widget' })).toBe(true);
    expect(thrown(() => scheme.resolve('wg')).reason).toBe('NotFound');
  });

  it.each([
    ['the same GVK', widget, 'kind example.com/v1alpha1 Widget is already registered'],
    ['the same resource', { ...widget, kind: 'Gizmo' }, 'resource widgets.example.com is already registered'],
    [
      'another version',
      { ...widget, version: 'v1' },
      'serving several versions of one resource is not supported yet',
    ],
  ])('rejects %s twice with AlreadyExists', (_what, second, message) => {
    const scheme = new DefaultScheme();
    scheme.register(widget);
    const error = thrown(() => scheme.register(second as KindDefinition));
    expect(error.reason).toBe('AlreadyExists');
    expect(error.message).toContain(message);
    expect(scheme.kinds()).toHaveLength(1);
  });

  it('rejects registering the built-in kinds twice', () => {
    const scheme = builtinScheme();
    expect(thrown(() => registerBuiltinKinds(scheme)).reason).toBe('AlreadyExists');
  });

  it.each([
    ['group', { group: 'Example.com' }],
    ['group', { group: 'core' }],
    ['version', { version: '1.0' }],
    ['kind', { kind: 'widget' }],
    ['resource', { resource: 'Widgets' }],
    ['namespaced', { namespaced: 'yes' }],
    ['shortNames[0]', { shortNames: ['W G'] }],
    ['nameValidation', { nameValidation: 'dns' }],
  ])('rejects a malformed %s with BadRequest naming the field', (field, change) => {
    const scheme = new DefaultScheme();
    const error = thrown(() => scheme.register({ ...widget, ...change } as unknown as KindDefinition));
    expect(error.reason).toBe('BadRequest');
    expect(error.details?.causes?.map((c) => c.field)).toContain(field);
    expect(scheme.kinds()).toHaveLength(0);
  });

  it('prefers the core group for names several groups share', () => {
    const scheme = builtinScheme();
    scheme.register({
      group: 'events.k8s.io',
      version: 'v1',
      kind: 'Event',
      resource: 'events',
      namespaced: true,
    });
    expect(scheme.resolve('events').group).toBe('');
    expect(scheme.resolve('events.events.k8s.io').group).toBe('events.k8s.io');
    const ambiguous = thrown(() => scheme.resolve('Event'));
    expect(ambiguous.reason).toBe('BadRequest');
    expect(ambiguous.message).toContain('ambiguous');
  });
});

describe('built-in catalog', () => {
  const scheme = builtinScheme();
  it('has every kind of the issue with upstream scope and subresources', () => {
    const table = Object.fromEntries(
      scheme.kinds().map((k) => [k.kind, `${k.apiVersion} ${k.resource} ${k.namespaced ? 'ns' : 'cluster'}`]),
    );
    expect(table).toEqual({
      Namespace: 'v1 namespaces cluster',
      Node: 'v1 nodes cluster',
      Pod: 'v1 pods ns',
      PodDisruptionBudget: 'policy/v1 poddisruptionbudgets ns',
      Service: 'v1 services ns',
      Endpoints: 'v1 endpoints ns',
      ConfigMap: 'v1 configmaps ns',
      Secret: 'v1 secrets ns',
      ServiceAccount: 'v1 serviceaccounts ns',
      Event: 'v1 events ns',
      PersistentVolume: 'v1 persistentvolumes cluster',
      PersistentVolumeClaim: 'v1 persistentvolumeclaims ns',
      Deployment: 'apps/v1 deployments ns',
      ReplicaSet: 'apps/v1 replicasets ns',
      DaemonSet: 'apps/v1 daemonsets ns',
      StatefulSet: 'apps/v1 statefulsets ns',
      Job: 'batch/v1 jobs ns',
      CronJob: 'batch/v1 cronjobs ns',
      Lease: 'coordination.k8s.io/v1 leases ns',
      EndpointSlice: 'discovery.k8s.io/v1 endpointslices ns',
      HorizontalPodAutoscaler: 'autoscaling/v2 horizontalpodautoscalers ns',
      Role: 'rbac.authorization.k8s.io/v1 roles ns',
      ClusterRole: 'rbac.authorization.k8s.io/v1 clusterroles cluster',
      RoleBinding: 'rbac.authorization.k8s.io/v1 rolebindings ns',
      ClusterRoleBinding: 'rbac.authorization.k8s.io/v1 clusterrolebindings cluster',
      CustomResourceDefinition: 'apiextensions.k8s.io/v1 customresourcedefinitions cluster',
    });
    expect(scheme.resolve('deployments').subresources).toEqual(['status', 'scale']);
    expect(scheme.resolve('namespaces').subresources).toEqual(['status', 'finalize']);
    expect(scheme.resolve('configmaps').hasStatusSubresource).toBe(false);
  });

  it('puts the workload kinds in the "all" category', () => {
    expect(
      scheme
        .kindsInCategory('all')
        .map((k) => k.resource)
        .sort(),
    ).toEqual([
      'cronjobs',
      'daemonsets',
      'deployments',
      'horizontalpodautoscalers',
      'jobs',
      'pods',
      'replicasets',
      'services',
      'statefulsets',
    ]);
  });

  it.each([
    [
      'pods',
      [
        'spec.nodeName',
        'spec.schedulerName',
        'spec.serviceAccountName',
        'status.phase',
        'status.podIP',
        'status.nominatedNodeName',
        'spec.restartPolicy',
        'spec.hostNetwork',
      ],
    ],
    [
      'events',
      [
        'involvedObject.kind',
        'involvedObject.namespace',
        'involvedObject.name',
        'involvedObject.uid',
        'involvedObject.apiVersion',
        'involvedObject.resourceVersion',
        'involvedObject.fieldPath',
        'reason',
        'reportingComponent',
        'source',
        'type',
      ],
    ],
    ['nodes', ['spec.unschedulable']],
    ['secrets', ['type']],
    ['namespaces', ['status.phase']],
    ['replicasets', ['status.replicas']],
    ['jobs', ['status.successful']],
    ['configmaps', []],
  ])('%s selects on metadata plus %j', (resource, extra) => {
    const kind = scheme.resolve(resource);
    const meta = kind.namespaced ? ['metadata.name', 'metadata.namespace'] : ['metadata.name'];
    expect([...kind.selectableFieldNames].sort()).toEqual([...meta, ...extra].sort());
  });

  it('computes field values as upstream prints them', () => {
    const pod = scheme.resolve('pods').fieldsOf({
      metadata: { name: 'web', namespace: 'default' },
      spec: { nodeName: 'n1', hostNetwork: true },
      status: { phase: 'Running', podIPs: [{ ip: '10.0.0.7' }] },
    });
    expect(pod).toMatchObject({
      'metadata.name': 'web',
      'metadata.namespace': 'default',
      'spec.nodeName': 'n1',
      'spec.hostNetwork': 'true',
      'status.phase': 'Running',
      'status.podIP': '10.0.0.7',
      'spec.schedulerName': '',
    });
    expect(scheme.resolve('nodes').fieldsOf({ metadata: { name: 'n' } })).toEqual({
      'metadata.name': 'n',
      'spec.unschedulable': 'false',
    });
    expect(scheme.resolve('replicasets').fieldsOf({ status: { replicas: 3 } })['status.replicas']).toBe('3');
    expect(scheme.resolve('events').fieldsOf({ reportingComponent: 'kubelet' }).source).toBe('kubelet');
  });
});
