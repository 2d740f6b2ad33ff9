// SPDX-License-Identifier: Apache-2.0
/**
 * The catalog of built-in kinds: the upstream names, scopes, short names, categories, subresources
 * and field-selector fields of each kind the kit serves, wired to the strategies in
 * `builtin-strategies.ts`.
 *
 * @module
 */

import {
  asObject,
  configMapStrategy,
  cronJobStrategy,
  customResourceDefinitionStrategy,
  daemonSetStrategy,
  deploymentStrategy,
  endpointSliceStrategy,
  endpointsStrategy,
  eventStrategy,
  horizontalPodAutoscalerStrategy,
  jobStrategy,
  leaseStrategy,
  namespaceStrategy,
  persistentVolumeClaimStrategy,
  persistentVolumeStrategy,
  podStrategy,
  replicaSetStrategy,
  roleBindingStrategy,
  roleStrategy,
  secretStrategy,
  serviceStrategy,
  statefulSetStrategy,
} from './builtin-strategies.js';
import type { UnstructuredObject } from './object.js';
import type { KindDefinition, RegisteredKind, Scheme } from './scheme.js';

function text(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

/** Field-selector fields of pods, as upstream's pod field set defines them. */
function podFields(pod: UnstructuredObject): Record<string, string> {
  const spec = asObject(pod.spec) ?? {};
  const status = asObject(pod.status) ?? {};
  const podIPs = Array.isArray(status.podIPs) ? status.podIPs : [];
  return {
    'spec.nodeName': text(spec.nodeName),
    'spec.restartPolicy': text(spec.restartPolicy),
    'spec.schedulerName': text(spec.schedulerName),
    'spec.serviceAccountName': text(spec.serviceAccountName),
    'spec.hostNetwork': String(spec.hostNetwork === true),
    'status.phase': text(status.phase),
    // Upstream reads the first of status.podIPs; status.podIP mirrors it.
    'status.podIP': text(asObject(podIPs[0])?.ip ?? status.podIP),
    'status.nominatedNodeName': text(status.nominatedNodeName),
  };
}

function eventFields(event: UnstructuredObject): Record<string, string> {
  const involved = asObject(event.involvedObject) ?? {};
  const source = text(asObject(event.source)?.component);
  return {
    'involvedObject.kind': text(involved.kind),
    'involvedObject.namespace': text(involved.namespace),
    'involvedObject.name': text(involved.name),
    'involvedObject.uid': text(involved.uid),
    'involvedObject.apiVersion': text(involved.apiVersion),
    'involvedObject.resourceVersion': text(involved.resourceVersion),
    'involvedObject.fieldPath': text(involved.fieldPath),
    reason: text(event.reason),
    reportingComponent: text(event.reportingComponent),
    // Upstream falls back to the reporting controller when the legacy source is empty.
    source: source || text(event.reportingComponent),
    type: text(event.type),
  };
}

const all = ['all'];

/**
 * The definitions of every built-in kind, in the order they are registered (core group first).
 * @category API machinery
 */
export const builtinKindDefinitions: readonly KindDefinition[] = [
  // core/v1
  {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    resource: 'namespaces',
    namespaced: false,
    shortNames: ['ns'],
    subresources: ['status', 'finalize'],
    nameValidation: 'label',
    hasGeneration: false,
    selectableFields: (ns) => ({ 'status.phase': text(asObject(ns.status)?.phase) }),
    ...namespaceStrategy,
  },
  {
    group: '',
    version: 'v1',
    kind: 'Node',
    resource: 'nodes',
    namespaced: false,
    shortNames: ['no'],
    subresources: ['status', 'proxy'],
    hasGeneration: false,
    statusUpdateMayChangeLabels: true,
    selectableFields: (node) => ({
      'spec.unschedulable': String(asObject(node.spec)?.unschedulable === true),
    }),
  },
  {
    group: '',
    version: 'v1',
    kind: 'Pod',
    resource: 'pods',
    namespaced: true,
    shortNames: ['po'],
    categories: all,
    subresources: [
      'status',
      'binding',
      'eviction',
      'log',
      'exec',
      'attach',
      'portforward',
      'proxy',
      'ephemeralcontainers',
      'resize',
    ],
    hasGeneration: false,
    statusUpdateMayChangeLabels: true,
    selectableFields: podFields,
    ...podStrategy,
  },
  {
    group: '',
    version: 'v1',
    kind: 'Service',
    resource: 'services',
    namespaced: true,
    shortNames: ['svc'],
    categories: all,
    subresources: ['status', 'proxy'],
    nameValidation: 'label',
    hasGeneration: false,
    ...serviceStrategy,
  },
  {
    group: '',
    version: 'v1',
    kind: 'Endpoints',
    resource: 'endpoints',
    singular: 'endpoints',
    namespaced: true,
    shortNames: ['ep'],
    hasGeneration: false,
    ...endpointsStrategy,
  },
  {
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    resource: 'configmaps',
    namespaced: true,
    shortNames: ['cm'],
    hasGeneration: false,
    ...configMapStrategy,
  },
  {
    group: '',
    version: 'v1',
    kind: 'Secret',
    resource: 'secrets',
    namespaced: true,
    hasGeneration: false,
    selectableFields: (secret) => ({ type: text(secret.type) }),
    ...secretStrategy,
  },
  {
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    resource: 'serviceaccounts',
    namespaced: true,
    shortNames: ['sa'],
    subresources: ['token'],
    hasGeneration: false,
  },
  {
    group: '',
    version: 'v1',
    kind: 'Event',
    resource: 'events',
    namespaced: true,
    shortNames: ['ev'],
    hasGeneration: false,
    selectableFields: eventFields,
    ...eventStrategy,
  },
  {
    group: '',
    version: 'v1',
    kind: 'PersistentVolume',
    resource: 'persistentvolumes',
    namespaced: false,
    shortNames: ['pv'],
    subresources: ['status'],
    hasGeneration: false,
    ...persistentVolumeStrategy,
  },
  {
    group: '',
    version: 'v1',
    kind: 'PersistentVolumeClaim',
    resource: 'persistentvolumeclaims',
    namespaced: true,
    shortNames: ['pvc'],
    subresources: ['status'],
    hasGeneration: false,
    ...persistentVolumeClaimStrategy,
  },
  // apps/v1
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    resource: 'deployments',
    namespaced: true,
    shortNames: ['deploy'],
    categories: all,
    subresources: ['status', 'scale'],
    ...deploymentStrategy,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    resource: 'replicasets',
    namespaced: true,
    shortNames: ['rs'],
    categories: all,
    subresources: ['status', 'scale'],
    selectableFields: (rs) => ({ 'status.replicas': String(asObject(rs.status)?.replicas ?? 0) }),
    ...replicaSetStrategy,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    resource: 'daemonsets',
    namespaced: true,
    shortNames: ['ds'],
    categories: all,
    subresources: ['status'],
    ...daemonSetStrategy,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    resource: 'statefulsets',
    namespaced: true,
    shortNames: ['sts'],
    categories: all,
    subresources: ['status', 'scale'],
    ...statefulSetStrategy,
  },
  // batch/v1
  {
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    resource: 'jobs',
    namespaced: true,
    categories: all,
    subresources: ['status'],
    selectableFields: (job) => ({ 'status.successful': String(asObject(job.status)?.succeeded ?? 0) }),
    ...jobStrategy,
  },
  {
    group: 'batch',
    version: 'v1',
    kind: 'CronJob',
    resource: 'cronjobs',
    namespaced: true,
    shortNames: ['cj'],
    categories: all,
    subresources: ['status'],
    ...cronJobStrategy,
  },
  // coordination.k8s.io/v1
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    resource: 'leases',
    namespaced: true,
    hasGeneration: false,
    ...leaseStrategy,
  },
  // discovery.k8s.io/v1
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    resource: 'endpointslices',
    namespaced: true,
    ...endpointSliceStrategy,
  },
  // autoscaling/v2
  {
    group: 'autoscaling',
    version: 'v2',
    kind: 'HorizontalPodAutoscaler',
    resource: 'horizontalpodautoscalers',
    namespaced: true,
    shortNames: ['hpa'],
    categories: all,
    subresources: ['status'],
    ...horizontalPodAutoscalerStrategy,
  },
  // policy/v1: the scheduler's preemption reads disruption budgets.
  {
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    resource: 'poddisruptionbudgets',
    namespaced: true,
    shortNames: ['pdb'],
    subresources: ['status'],
  },
  // rbac.authorization.k8s.io/v1: names only need to be one path segment.
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'Role',
    resource: 'roles',
    namespaced: true,
    nameValidation: 'path-segment',
    hasGeneration: false,
    ...roleStrategy,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRole',
    resource: 'clusterroles',
    namespaced: false,
    nameValidation: 'path-segment',
    hasGeneration: false,
    ...roleStrategy,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'RoleBinding',
    resource: 'rolebindings',
    namespaced: true,
    nameValidation: 'path-segment',
    hasGeneration: false,
    ...roleBindingStrategy,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRoleBinding',
    resource: 'clusterrolebindings',
    namespaced: false,
    nameValidation: 'path-segment',
    hasGeneration: false,
    ...roleBindingStrategy,
  },
  // apiextensions.k8s.io/v1
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    resource: 'customresourcedefinitions',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    subresources: ['status'],
    ...customResourceDefinitionStrategy,
  },
];

/**
 * Registers every built-in kind in `scheme`. Fails with `AlreadyExists` if one is already there.
 * @category API machinery
 */
export function registerBuiltinKinds(scheme: Scheme): RegisteredKind[] {
  return builtinKindDefinitions.map((definition) => scheme.register(definition));
}
