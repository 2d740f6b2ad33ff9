// SPDX-License-Identifier: Apache-2.0
// The default roles and bindings every cluster starts with, following upstream's bootstrap policy in
// meaning (which groups get what); the rule lists are written for the kinds cpkit serves.
import { isStatusError, type Logger, type Registry } from '@cpkit/core';
import type { PolicyRule, RbacBinding, RbacRole } from './rbac-rules.js';

const rbacGroup = 'rbac.authorization.k8s.io';
const bootstrapLabels = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const autoupdate = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

const read = ['get', 'list', 'watch'];
const write = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const all = [...read, ...write];

const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({
  verbs,
  apiGroups,
  resources,
});
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ verbs, nonResourceURLs });

function clusterRole(
  name: string,
  rules: PolicyRule[],
  extra: { labels?: Record<string, string>; aggregateFrom?: string } = {},
): RbacRole {
  return {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'ClusterRole',
    metadata: { name, labels: { ...bootstrapLabels, ...extra.labels }, annotations: { ...autoupdate } },
    ...(extra.aggregateFrom
      ? {
          aggregationRule: {
            clusterRoleSelectors: [
              { matchLabels: { [`${rbacGroup}/aggregate-to-${extra.aggregateFrom}`]: 'true' } },
            ],
          },
        }
      : {}),
    rules,
  };
}

function groupBinding(name: string, role: string, groups: string[]): RbacBinding {
  return {
    apiVersion: `${rbacGroup}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...bootstrapLabels }, annotations: { ...autoupdate } },
    roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: role },
    subjects: groups.map((group) => ({ kind: 'Group', apiGroup: rbacGroup, name: group })),
  };
}

const aggregateTo = (...roles: string[]): Record<string, string> =>
  Object.fromEntries(roles.map((role) => [`${rbacGroup}/aggregate-to-${role}`, 'true']));

/** What `view` may read: namespaced workload and config objects, never Secrets. */
const viewRules: PolicyRule[] = [
  rule(
    read,
    [''],
    [
      'configmaps',
      'endpoints',
      'events',
      'limitranges',
      'namespaces',
      'namespaces/status',
      'persistentvolumeclaims',
      'persistentvolumeclaims/status',
      'pods',
      'pods/log',
      'pods/status',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'replicationcontrollers/status',
      'resourcequotas',
      'resourcequotas/status',
      'serviceaccounts',
      'services',
      'services/status',
      'bindings',
    ],
  ),
  rule(
    read,
    ['apps'],
    [
      'controllerrevisions',
      'daemonsets',
      'daemonsets/status',
      'deployments',
      'deployments/scale',
      'deployments/status',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
      'statefulsets',
      'statefulsets/scale',
      'statefulsets/status',
    ],
  ),
  rule(read, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  rule(read, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
  rule(read, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
  rule(read, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
  rule(read, ['discovery.k8s.io'], ['endpointslices']),
  rule(read, ['events.k8s.io'], ['events']),
  rule(read, ['coordination.k8s.io'], ['leases']),
];

/** What `edit` adds: writes to the same objects, Secrets, and acting as the namespace's service accounts. */
const editRules: PolicyRule[] = [
  rule(
    all,
    [''],
    [
      'configmaps',
      'endpoints',
      'persistentvolumeclaims',
      'pods',
      'pods/attach',
      'pods/exec',
      'pods/portforward',
      'pods/proxy',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'secrets',
      'serviceaccounts',
      'services',
      'services/proxy',
    ],
  ),
  rule(['create'], [''], ['pods/eviction', 'serviceaccounts/token']),
  rule(['impersonate'], [''], ['serviceaccounts']),
  rule(
    all,
    ['apps'],
    [
      'daemonsets',
      'deployments',
      'deployments/rollback',
      'deployments/scale',
      'replicasets',
      'replicasets/scale',
      'statefulsets',
      'statefulsets/scale',
    ],
  ),
  rule(all, ['autoscaling'], ['horizontalpodautoscalers']),
  rule(all, ['batch'], ['cronjobs', 'jobs']),
  rule(all, ['policy'], ['poddisruptionbudgets']),
  rule(all, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
  rule(all, ['discovery.k8s.io'], ['endpointslices']),
  rule(all, ['coordination.k8s.io'], ['leases']),
];

/** What `admin` adds: RBAC within the namespace and local access reviews. */
const adminRules: PolicyRule[] = [
  rule(all, [rbacGroup], ['rolebindings', 'roles']),
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
];

const discoveryUrls = [
  '/api',
  '/api/*',
  '/apis',
  '/apis/*',
  '/healthz',
  '/livez',
  '/openapi',
  '/openapi/*',
  '/readyz',
  '/version',
  '/version/',
];
const publicInfoUrls = ['/healthz', '/livez', '/readyz', '/version', '/version/'];

/**
 * The default ClusterRoles: `cluster-admin`, `admin`, `edit`, `view` (the last three aggregated from
 * `system:aggregate-to-*` roles by label, as upstream), `system:basic-user`, `system:discovery`,
 * `system:public-info-viewer` and `system:monitoring`.
 * @category Authorization
 */
export function bootstrapClusterRoles(): RbacRole[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('admin', [], { aggregateFrom: 'admin' }),
    clusterRole('edit', [], { aggregateFrom: 'edit', labels: aggregateTo('admin') }),
    clusterRole('view', [], { aggregateFrom: 'view', labels: aggregateTo('edit') }),
    clusterRole('system:aggregate-to-admin', adminRules, { labels: aggregateTo('admin') }),
    clusterRole('system:aggregate-to-edit', editRules, { labels: aggregateTo('admin', 'edit') }),
    clusterRole('system:aggregate-to-view', viewRules, { labels: aggregateTo('admin', 'edit', 'view') }),
    clusterRole('system:basic-user', [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ]),
    clusterRole('system:discovery', [urls(['get'], discoveryUrls)]),
    clusterRole('system:public-info-viewer', [urls(['get'], publicInfoUrls)]),
    clusterRole('system:monitoring', [
      urls(
        ['get'],
        ['/metrics', '/metrics/slis', '/livez', '/livez/*', '/readyz', '/readyz/*', '/healthz', '/healthz/*'],
      ),
    ]),
  ];
}

/**
 * The default ClusterRoleBindings: `cluster-admin` to `system:masters`; basic-user and discovery to
 * `system:authenticated`; public-info-viewer to authenticated and unauthenticated callers;
 * monitoring to `system:monitoring`.
 * @category Authorization
 */
export function bootstrapClusterRoleBindings(): RbacBinding[] {
  return [
    groupBinding('cluster-admin', 'cluster-admin', ['system:masters']),
    groupBinding('system:basic-user', 'system:basic-user', ['system:authenticated']),
    groupBinding('system:discovery', 'system:discovery', ['system:authenticated']),
    groupBinding('system:public-info-viewer', 'system:public-info-viewer', [
      'system:authenticated',
      'system:unauthenticated',
    ]),
    groupBinding('system:monitoring', 'system:monitoring', ['system:monitoring']),
  ];
}

/**
 * Creates every default role and binding that is missing (existing ones, perhaps edited by an
 * administrator, are left alone). Returns the names created.
 * @category Authorization
 */
export async function ensureBootstrapPolicy(
  registry: Pick<Registry, 'create'>,
  logger?: Logger,
): Promise<string[]> {
  const created: string[] = [];
  for (const object of [...bootstrapClusterRoles(), ...bootstrapClusterRoleBindings()]) {
    try {
      await registry.create(object);
      created.push(`${object.kind}/${object.metadata?.name}`);
    } catch (error) {
      if (!isStatusError(error, 'AlreadyExists')) throw error;
    }
  }
  if (created.length) logger?.info({ created }, `created ${created.length} default RBAC roles and bindings`);
  return created;
}
