// SPDX-License-Identifier: Apache-2.0
/**
 * Which lists of the built-in kinds merge (and by which key) under a strategic merge patch. Upstream
 * reads this from the `patchStrategy` / `patchMergeKey` struct tags of the Go types in k8s.io/api; we
 * keep the same facts as a path-keyed table.
 *
 * @module
 */

/**
 * The patch strategy of one field, as the upstream `patchStrategy` struct tag spells it. Fields absent
 * from a schema are atomic: a patch value replaces them whole.
 * @category API server
 */
export type PatchStrategy = 'merge' | 'retainKeys' | 'merge,retainKeys' | 'replace';

/**
 * How one field reacts to a strategic merge patch.
 * @category API server
 */
export interface FieldPatchStrategy {
  /** `merge` merges lists (by `patchMergeKey` for lists of objects, as a set for primitive lists). */
  readonly patchStrategy: PatchStrategy;
  /** The field identifying an element of a list of objects, e.g. `name` for containers. */
  readonly patchMergeKey?: string;
}

/**
 * The strategic-merge facts of one kind. Keys are field paths from the object's root made of the map
 * keys only, list positions left out: `spec.template.spec.containers.ports` is the ports of any
 * container in a Deployment's pod template.
 * @category API server
 */
export interface PatchSchema {
  readonly fields: Readonly<Record<string, FieldPatchStrategy>>;
}

const merge = (patchMergeKey?: string): FieldPatchStrategy =>
  patchMergeKey === undefined ? { patchStrategy: 'merge' } : { patchStrategy: 'merge', patchMergeKey };
const mergeRetainKeys = (patchMergeKey: string): FieldPatchStrategy => ({
  patchStrategy: 'merge,retainKeys',
  patchMergeKey,
});

type Table = Record<string, FieldPatchStrategy>;

function prefixed(prefix: string, table: Table): Table {
  const out: Table = {};
  for (const [path, strategy] of Object.entries(table)) out[`${prefix}.${path}`] = strategy;
  return out;
}

/** metav1.ObjectMeta. */
const objectMeta: Table = {
  finalizers: merge(),
  ownerReferences: merge('uid'),
};

/** core/v1 Container and EphemeralContainer share these tags. */
const container: Table = {
  ports: merge('containerPort'),
  env: merge('name'),
  volumeMounts: merge('mountPath'),
  volumeDevices: merge('devicePath'),
};

/** core/v1 PodSpec. `tolerations`, `readinessGates` and `resourceClaims`' sources carry no tags. */
const podSpec: Table = {
  volumes: mergeRetainKeys('name'),
  ...prefixed('initContainers', container),
  initContainers: merge('name'),
  ...prefixed('containers', container),
  containers: merge('name'),
  ...prefixed('ephemeralContainers', container),
  ephemeralContainers: merge('name'),
  imagePullSecrets: merge('name'),
  hostAliases: merge('ip'),
  topologySpreadConstraints: merge('topologyKey'),
  schedulingGates: merge('name'),
  resourceClaims: mergeRetainKeys('name'),
};

/** core/v1 PodTemplateSpec at `prefix` (e.g. `spec.template`). */
function podTemplate(prefix: string): Table {
  return { ...prefixed(`${prefix}.metadata`, objectMeta), ...prefixed(`${prefix}.spec`, podSpec) };
}

const conditionsByType: Table = { 'status.conditions': merge('type') };

const kindTables: Record<string, Table> = {
  '/Pod': {
    ...prefixed('spec', podSpec),
    ...conditionsByType,
    'status.podIPs': merge('ip'),
    'status.hostIPs': merge('ip'),
  },
  '/PodTemplate': podTemplate('template'),
  '/ReplicationController': { ...podTemplate('spec.template'), ...conditionsByType },
  '/Node': {
    'spec.podCIDRs': merge(),
    ...conditionsByType,
    'status.addresses': merge('type'),
  },
  '/Namespace': conditionsByType,
  '/Service': { 'spec.ports': merge('port'), ...conditionsByType },
  '/ServiceAccount': { secrets: merge('name') },
  '/PersistentVolumeClaim': conditionsByType,
  'apps/Deployment': {
    ...podTemplate('spec.template'),
    'spec.strategy': { patchStrategy: 'retainKeys' },
    ...conditionsByType,
  },
  'apps/ReplicaSet': { ...podTemplate('spec.template'), ...conditionsByType },
  'apps/DaemonSet': { ...podTemplate('spec.template'), ...conditionsByType },
  'apps/StatefulSet': { ...podTemplate('spec.template'), ...conditionsByType },
  'batch/Job': { ...podTemplate('spec.template'), ...conditionsByType },
  'batch/CronJob': podTemplate('spec.jobTemplate.spec.template'),
  'autoscaling/HorizontalPodAutoscaler': conditionsByType,
  'policy/PodDisruptionBudget': conditionsByType,
};

/**
 * The API groups whose kinds are compiled into Kubernetes (and so have Go types with patch tags).
 * Kinds in any other group are custom resources.
 */
const builtinGroups: ReadonlySet<string> = new Set([
  '',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'apps',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'internal.apiserver.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'resource.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
  'storagemigration.k8s.io',
]);

const metadataOnly: PatchSchema = Object.freeze({ fields: Object.freeze(prefixed('metadata', objectMeta)) });
const schemas = new Map<string, PatchSchema>(
  Object.entries(kindTables).map(([key, table]) => [
    key,
    Object.freeze({ fields: Object.freeze({ ...prefixed('metadata', objectMeta), ...table }) }),
  ]),
);

/**
 * True when the kind is a built-in one, for which `application/strategic-merge-patch+json` is served.
 * Upstream answers 415 UnsupportedMediaType for strategic merge patches of custom resources, since
 * they have no patch tags; the server should do the same when this returns false.
 * @category API server
 */
export function supportsStrategicMergePatch(group: string, kind: string): boolean {
  return kind !== '' && builtinGroups.has(group);
}

/**
 * The strategic-merge schema of a kind. Built-in kinds without mergeable lists of their own (ConfigMap,
 * Role, ...) still merge `metadata.finalizers` and `metadata.ownerReferences`; for kinds outside the
 * built-in groups only those metadata lists merge and every other list is replaced, like a JSON merge
 * patch (check {@link supportsStrategicMergePatch} first to answer 415 as upstream does).
 * @category API server
 */
export function patchSchemaFor(group: string, kind: string): PatchSchema {
  return schemas.get(`${group}/${kind}`) ?? metadataOnly;
}
