// SPDX-License-Identifier: Apache-2.0
// Decoding of the Kubernetes protobuf wire format for the request bodies kubectl sends as protobuf
// (`kubectl create namespace|configmap|secret|service|deployment|job|cronjob|serviceaccount`, `auth
// can-i`, `auth whoami`). The message definitions below are written for this project from the public
// field numbers of k8s.io/api's generated.proto; only the fields those commands (and the pod templates
// they send) set are declared. A body carrying a declared-nowhere field with a non-empty value is
// refused rather than silently losing it.
import { errors, type KubeObject, StatusError } from '@cpkit/core';
import protobuf from 'protobufjs';

/** The media type of Kubernetes protobuf bodies. @category API server */
export const protobufContentType = 'application/vnd.kubernetes.protobuf';

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

type Fields = Record<
  string,
  { id: number; type: string; rule?: 'repeated'; keyType?: string; options?: object }
>;

const str = (id: number) => ({ id, type: 'string' });
const strs = (id: number) => ({ id, type: 'string', rule: 'repeated' as const });
const int32 = (id: number) => ({ id, type: 'int32' });
const int64 = (id: number) => ({ id, type: 'int64' });
const bool = (id: number) => ({ id, type: 'bool' });
const msg = (id: number, type: string) => ({ id, type });
const msgs = (id: number, type: string) => ({ id, type, rule: 'repeated' as const });
const strMap = (id: number) => ({ id, keyType: 'string', type: 'string' });
/**
 * Go pointer fields (`*int32`, `*bool`): present on the wire only when set, so a zero there is a
 * value (`--replicas=0`). Every other scalar is written even when zero, and JSON's omitempty would
 * have left it out; those zeros are dropped.
 */
const pointer = <T extends object>(field: T) => ({ ...field, options: { pointer: true } });

const meta = { metadata: msg(1, 'ObjectMeta') };
/** `status` (field 3) is ignored on create, and its zero values are not empty on the wire. */
const ignoredStatus = { status: { id: 3, type: 'bytes', options: { ignored: true } } };

const messages: Record<string, Fields> = {
  Unknown: {
    typeMeta: msg(1, 'TypeMeta'),
    raw: { id: 2, type: 'bytes' },
    contentEncoding: str(3),
    contentType: str(4),
  },
  TypeMeta: { apiVersion: str(1), kind: str(2) },
  // metav1
  ObjectMeta: {
    name: str(1),
    generateName: str(2),
    namespace: str(3),
    labels: strMap(11),
    annotations: strMap(12),
    finalizers: strs(14),
  },
  LabelSelector: { matchLabels: strMap(1), matchExpressions: msgs(2, 'LabelSelectorRequirement') },
  LabelSelectorRequirement: { key: str(1), operator: str(2), values: strs(3) },
  // apimachinery scalars with their own JSON forms
  Quantity: { string: str(1) },
  IntOrString: { type: int64(1), intVal: int32(2), strVal: str(3) },
  // core/v1
  NamespaceSpec: { finalizers: strs(1) },
  Namespace: { ...meta, spec: msg(2, 'NamespaceSpec'), ...ignoredStatus },
  ConfigMap: { ...meta, data: strMap(2), binaryData: { id: 3, keyType: 'string', type: 'bytes' } },
  Secret: { ...meta, data: { id: 2, keyType: 'string', type: 'bytes' }, type: str(3) },
  ObjectReference: { kind: str(1), namespace: str(2), name: str(3), uid: str(4), apiVersion: str(5) },
  LocalObjectReference: { name: str(1) },
  ServiceAccount: {
    ...meta,
    secrets: msgs(2, 'ObjectReference'),
    imagePullSecrets: msgs(3, 'LocalObjectReference'),
    automountServiceAccountToken: pointer(bool(4)),
  },
  ServicePort: {
    name: str(1),
    protocol: str(2),
    port: int32(3),
    targetPort: msg(4, 'IntOrString'),
    nodePort: int32(5),
    appProtocol: pointer(str(6)),
  },
  ServiceSpec: {
    ports: msgs(1, 'ServicePort'),
    selector: strMap(2),
    clusterIP: str(3),
    type: str(4),
    externalIPs: strs(5),
    sessionAffinity: str(7),
    externalName: str(10),
    externalTrafficPolicy: str(11),
    clusterIPs: strs(18),
  },
  Service: { ...meta, spec: msg(2, 'ServiceSpec'), ...ignoredStatus },
  ContainerPort: {
    name: str(1),
    hostPort: int32(2),
    containerPort: int32(3),
    protocol: str(4),
    hostIP: str(5),
  },
  EnvVar: { name: str(1), value: str(2) },
  ResourceRequirements: {
    limits: { id: 1, keyType: 'string', type: 'Quantity' },
    requests: { id: 2, keyType: 'string', type: 'Quantity' },
  },
  VolumeMount: { name: str(1), readOnly: bool(2), mountPath: str(3), subPath: str(4) },
  Container: {
    name: str(1),
    image: str(2),
    command: strs(3),
    args: strs(4),
    workingDir: str(5),
    ports: msgs(6, 'ContainerPort'),
    env: msgs(7, 'EnvVar'),
    resources: msg(8, 'ResourceRequirements'),
    volumeMounts: msgs(9, 'VolumeMount'),
    terminationMessagePath: str(13),
    imagePullPolicy: str(14),
    stdin: bool(16),
    stdinOnce: bool(17),
    tty: bool(18),
    terminationMessagePolicy: str(20),
  },
  PodSpec: {
    containers: msgs(2, 'Container'),
    restartPolicy: str(3),
    terminationGracePeriodSeconds: pointer(int64(4)),
    activeDeadlineSeconds: pointer(int64(5)),
    dnsPolicy: str(6),
    nodeSelector: strMap(7),
    serviceAccountName: str(8),
    serviceAccount: str(9),
    nodeName: str(10),
    hostNetwork: bool(11),
    imagePullSecrets: msgs(15, 'LocalObjectReference'),
    hostname: str(16),
    subdomain: str(17),
    schedulerName: str(19),
    initContainers: msgs(20, 'Container'),
    automountServiceAccountToken: pointer(bool(21)),
    priorityClassName: str(24),
    priority: pointer(int32(25)),
    enableServiceLinks: pointer(bool(30)),
  },
  PodTemplateSpec: { ...meta, spec: msg(2, 'PodSpec') },
  // apps/v1
  RollingUpdateDeployment: { maxUnavailable: msg(1, 'IntOrString'), maxSurge: msg(2, 'IntOrString') },
  DeploymentStrategy: { type: str(1), rollingUpdate: msg(2, 'RollingUpdateDeployment') },
  DeploymentSpec: {
    replicas: pointer(int32(1)),
    selector: msg(2, 'LabelSelector'),
    template: msg(3, 'PodTemplateSpec'),
    strategy: msg(4, 'DeploymentStrategy'),
    minReadySeconds: int32(5),
    revisionHistoryLimit: pointer(int32(6)),
    paused: bool(7),
    progressDeadlineSeconds: pointer(int32(9)),
  },
  Deployment: { ...meta, spec: msg(2, 'DeploymentSpec'), ...ignoredStatus },
  // batch/v1
  JobSpec: {
    parallelism: pointer(int32(1)),
    completions: pointer(int32(2)),
    activeDeadlineSeconds: pointer(int64(3)),
    selector: msg(4, 'LabelSelector'),
    manualSelector: pointer(bool(5)),
    template: msg(6, 'PodTemplateSpec'),
    backoffLimit: pointer(int32(7)),
    ttlSecondsAfterFinished: pointer(int32(8)),
    completionMode: pointer(str(9)),
    suspend: pointer(bool(10)),
  },
  Job: { ...meta, spec: msg(2, 'JobSpec'), ...ignoredStatus },
  JobTemplateSpec: { ...meta, spec: msg(2, 'JobSpec') },
  CronJobSpec: {
    schedule: str(1),
    startingDeadlineSeconds: pointer(int64(2)),
    concurrencyPolicy: str(3),
    suspend: pointer(bool(4)),
    jobTemplate: msg(5, 'JobTemplateSpec'),
    successfulJobsHistoryLimit: pointer(int32(6)),
    failedJobsHistoryLimit: pointer(int32(7)),
    timeZone: pointer(str(8)),
  },
  CronJob: { ...meta, spec: msg(2, 'CronJobSpec'), ...ignoredStatus },
  // authorization.k8s.io/v1, authentication.k8s.io/v1
  ResourceAttributes: {
    namespace: str(1),
    verb: str(2),
    group: str(3),
    version: str(4),
    resource: str(5),
    subresource: str(6),
    name: str(7),
  },
  NonResourceAttributes: { path: str(1), verb: str(2) },
  SelfSubjectAccessReviewSpec: {
    resourceAttributes: msg(1, 'ResourceAttributes'),
    nonResourceAttributes: msg(2, 'NonResourceAttributes'),
  },
  SelfSubjectAccessReview: { ...meta, spec: msg(2, 'SelfSubjectAccessReviewSpec'), ...ignoredStatus },
  SelfSubjectReview: { ...meta },
  // authentication.k8s.io/v1 TokenRequest (`kubectl create token`; added with the auth work)
  BoundObjectReference: { kind: str(1), apiVersion: str(2), name: str(3), uid: str(4) },
  TokenRequestSpec: {
    audiences: strs(1),
    boundObjectRef: msg(3, 'BoundObjectReference'),
    expirationSeconds: pointer(int64(4)),
  },
  TokenRequest: { ...meta, spec: msg(2, 'TokenRequestSpec'), ...ignoredStatus },
  // authorization.k8s.io/v1 and authentication.k8s.io/v1 reviews (added with impersonation and the
  // review APIs): `kubectl auth can-i --list` sends a SelfSubjectRulesReview.
  ExtraValue: { items: strs(1) },
  SubjectAccessReviewSpec: {
    resourceAttributes: msg(1, 'ResourceAttributes'),
    nonResourceAttributes: msg(2, 'NonResourceAttributes'),
    user: str(3),
    groups: strs(4),
    extra: { id: 5, keyType: 'string', type: 'ExtraValue' },
    uid: str(6),
  },
  SubjectAccessReview: { ...meta, spec: msg(2, 'SubjectAccessReviewSpec'), ...ignoredStatus },
  LocalSubjectAccessReview: { ...meta, spec: msg(2, 'SubjectAccessReviewSpec'), ...ignoredStatus },
  SelfSubjectRulesReviewSpec: { namespace: str(1) },
  SelfSubjectRulesReview: { ...meta, spec: msg(2, 'SelfSubjectRulesReviewSpec'), ...ignoredStatus },
  TokenReviewSpec: { token: str(1), audiences: strs(2) },
  TokenReview: { ...meta, spec: msg(2, 'TokenReviewSpec'), ...ignoredStatus },
  // rbac.authorization.k8s.io/v1 (`kubectl create role|clusterrole|rolebinding|clusterrolebinding`)
  PolicyRule: {
    verbs: strs(1),
    apiGroups: strs(2),
    resources: strs(3),
    resourceNames: strs(4),
    nonResourceURLs: strs(5),
  },
  AggregationRule: { clusterRoleSelectors: msgs(1, 'LabelSelector') },
  Role: { ...meta, rules: msgs(2, 'PolicyRule') },
  ClusterRole: { ...meta, rules: msgs(2, 'PolicyRule'), aggregationRule: msg(3, 'AggregationRule') },
  RbacSubject: { kind: str(1), apiGroup: str(2), name: str(3), namespace: str(4) },
  RoleRef: { apiGroup: str(1), kind: str(2), name: str(3) },
  RoleBinding: { ...meta, subjects: msgs(2, 'RbacSubject'), roleRef: msg(3, 'RoleRef') },
  ClusterRoleBinding: { ...meta, subjects: msgs(2, 'RbacSubject'), roleRef: msg(3, 'RoleRef') },
};

const root = protobuf.Root.fromJSON({
  nested: Object.fromEntries(Object.entries(messages).map(([name, fields]) => [name, { fields }])),
} as protobuf.INamespace);
root.resolveAll();

/** The kinds whose protobuf bodies this server decodes, by `apiVersion/kind`. */
const decodable: Readonly<Record<string, string>> = {
  'v1/Namespace': 'Namespace',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/Service': 'Service',
  'v1/ServiceAccount': 'ServiceAccount',
  'apps/v1/Deployment': 'Deployment',
  'batch/v1/Job': 'Job',
  'batch/v1/CronJob': 'CronJob',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'SelfSubjectAccessReview',
  'authentication.k8s.io/v1/SelfSubjectReview': 'SelfSubjectReview',
  'authentication.k8s.io/v1/TokenRequest': 'TokenRequest',
  'authorization.k8s.io/v1/SubjectAccessReview': 'SubjectAccessReview',
  'authorization.k8s.io/v1/LocalSubjectAccessReview': 'LocalSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'SelfSubjectRulesReview',
  'authentication.k8s.io/v1/TokenReview': 'TokenReview',
  'rbac.authorization.k8s.io/v1/Role': 'Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'ClusterRoleBinding',
};

/**
 * True for an empty string or a message whose fields are all zero or empty (what Go writes for a
 * zero struct such as `status: {}`); a non-empty string almost never parses as such.
 */
function isEmptyPayload(bytes: Uint8Array): boolean {
  try {
    const reader = protobuf.Reader.create(bytes);
    while (reader.pos < reader.len) {
      const wireType = reader.uint32() & 7;
      if (wireType === 0) {
        if (reader.uint64().toString() !== '0') return false;
      } else if (wireType === 2) {
        const length = reader.uint32();
        const payload = reader.buf.subarray(reader.pos, reader.pos + length);
        reader.skip(length);
        if (!isEmptyPayload(payload)) return false;
      } else {
        return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Fails on a field number the message does not declare unless its value is empty (a zero varint or
 * an empty message such as `status: {}` or `creationTimestamp`), so nothing kubectl sends is lost
 * without notice. Walks nested messages and map values.
 */
function checkDeclared(type: protobuf.Type, bytes: Uint8Array, path: string): void {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wireType = tag & 7;
    const field = type.fieldsById[id];
    if (!field) {
      if (wireType === 0) {
        if (reader.uint64().toString() === '0') continue;
      } else if (wireType === 2) {
        const length = reader.uint32();
        const payload = reader.buf.subarray(reader.pos, reader.pos + length);
        reader.skip(length);
        if (isEmptyPayload(payload)) continue;
      } else {
        reader.skipType(wireType);
      }
      throw errors.unsupportedMediaType(
        `the protobuf ${path} carries field ${type.name}.${id}, which this server cannot decode - send the object as application/json`,
      );
    }
    if (wireType !== 2 || (field.options as { ignored?: boolean } | undefined)?.ignored) {
      reader.skipType(wireType);
      continue;
    }
    const length = reader.uint32();
    const payload = reader.buf.subarray(reader.pos, reader.pos + length);
    reader.skip(length);
    if (field instanceof protobuf.MapField) {
      const valueType = field.resolvedType;
      if (valueType instanceof protobuf.Type) {
        const entry = protobuf.Reader.create(payload);
        while (entry.pos < entry.len) {
          const entryTag = entry.uint32();
          if (entryTag >>> 3 === 2 && (entryTag & 7) === 2) {
            const len = entry.uint32();
            checkDeclared(valueType, entry.buf.subarray(entry.pos, entry.pos + len), `${path}.${field.name}`);
            entry.skip(len);
          } else {
            entry.skipType(entryTag & 7);
          }
        }
      }
    } else if (field.resolvedType instanceof protobuf.Type) {
      checkDeclared(field.resolvedType, payload, `${path}.${field.name}`);
    }
  }
}

const isEmpty = (value: unknown): boolean =>
  value === undefined ||
  (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);

/**
 * Turns a decoded message (`toObject` output) into the object's JSON form: Quantity and IntOrString
 * become their scalars, empty strings and non-pointer zeros go (JSON's omitempty), and empty
 * messages, lists and maps are dropped. Map values are data and kept as they are.
 */
function toJson(type: protobuf.Type, value: Record<string, unknown>): unknown {
  if (type.name === 'Quantity') return value.string ?? '0';
  if (type.name === 'IntOrString')
    return Number(value.type ?? 0) === 1 ? (value.strVal ?? '') : (value.intVal ?? 0);
  const result: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(value)) {
    const field = type.fields[name];
    if (!field || (field.options as { ignored?: boolean } | undefined)?.ignored) continue;
    const nested = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    let converted: unknown;
    if (field instanceof protobuf.MapField) {
      const entries = Object.entries(raw as Record<string, unknown>);
      converted = Object.fromEntries(
        nested ? entries.map(([k, v]) => [k, toJson(nested, v as Record<string, unknown>)]) : entries,
      );
    } else if (field.repeated) {
      const items = raw as unknown[];
      converted = nested ? items.map((item) => toJson(nested, item as Record<string, unknown>)) : items;
      if (items.length === 0) continue;
    } else if (nested) {
      converted = toJson(nested, raw as Record<string, unknown>);
    } else {
      const keepZero = (field.options as { pointer?: boolean } | undefined)?.pointer === true;
      if (raw === '' || (!keepZero && (raw === 0 || raw === false))) continue;
      converted = raw;
    }
    if (isEmpty(converted)) continue;
    result[name] = converted;
  }
  return result;
}

/**
 * Decodes a Kubernetes protobuf body (`k8s\0` + runtime.Unknown) into the JSON form of the object.
 * @throws StatusError `UnsupportedMediaType` for a kind this server cannot decode yet, `BadRequest`
 *   for a malformed body.
 * @category API server
 */
export function decodeProtobufObject(body: Buffer): KubeObject {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) {
    throw errors.badRequest('the protobuf body does not start with the "k8s\\0" prefix');
  }
  let unknown: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array };
  try {
    unknown = root.lookupType('Unknown').decode(body.subarray(magic.length)) as typeof unknown;
  } catch (error) {
    throw errors.badRequest(`the protobuf body is malformed: ${(error as Error).message}`);
  }
  const apiVersion = unknown.typeMeta?.apiVersion ?? '';
  const kind = unknown.typeMeta?.kind ?? '';
  const message = decodable[`${apiVersion}/${kind}`];
  if (!message) {
    throw errors.unsupportedMediaType(
      `protobuf bodies of ${apiVersion}/${kind || '(no kind)'} are not supported yet - accepted media types include: application/json`,
    );
  }
  let decoded: unknown;
  const type = root.lookupType(message);
  const raw = unknown.raw ?? new Uint8Array();
  try {
    checkDeclared(type, raw, kind);
    decoded = toJson(type, type.toObject(type.decode(raw), { bytes: String, longs: Number }));
  } catch (error) {
    if (error instanceof StatusError) throw error;
    throw errors.badRequest(`the protobuf ${kind} is malformed: ${(error as Error).message}`);
  }
  return { apiVersion, kind, ...(decoded as object) } as KubeObject;
}
