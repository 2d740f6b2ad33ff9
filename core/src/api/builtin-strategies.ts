// SPDX-License-Identifier: Apache-2.0
/**
 * Defaulting and validation of the built-in kinds: a deliberately basic subset of upstream's
 * per-kind strategies (the fields controllers, the scheduler and kubectl rely on). Every function
 * here takes untrusted JSON: it never assumes a field has the type the kind's schema says, so bad
 * input yields a field cause, never a TypeError.
 *
 * @module
 */
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { StatusCause } from '../errors/status-error.js';
import { FieldPath } from './field-path.js';
import { labelSelectorFromObject } from './label-selector.js';
import type { UnstructuredObject } from './object.js';
import { fieldCauses, isDNS1035Label, isDNS1123Label, isDNS1123Subdomain } from './validation.js';

/** A JSON object whose fields are not trusted. */
export type LooseObject = Record<string, unknown>;

/** The value when it is a JSON object (not an array), else undefined. */
export function asObject(value: unknown): LooseObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as LooseObject)
    : undefined;
}

function asArray(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

/** The object at `parent[field]`, created when absent (left alone, and undefined, when not an object). */
function ensureObject(parent: LooseObject, field: string): LooseObject | undefined {
  if (parent[field] === undefined || parent[field] === null) parent[field] = {};
  return asObject(parent[field]);
}

function setDefault(target: LooseObject | undefined, field: string, value: unknown): void {
  if (target && (target[field] === undefined || target[field] === null)) target[field] = value;
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((item, i) => deepEqual(item, bb[i]));
  }
  const ao = a as LooseObject;
  const bo = b as LooseObject;
  const aKeys = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bKeys = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return aKeys.length === bKeys.length && aKeys.every((k) => deepEqual(ao[k], bo[k]));
}

const protocols = ['TCP', 'UDP', 'SCTP'];

function validatePort(value: unknown, path: FieldPath, causes: StatusCause[]): void {
  if (!isInteger(value) || value < 1 || value > 65535) {
    causes.push(fieldCauses.invalid(path, value, 'must be between 1 and 65535, inclusive'));
  }
}

function validateProtocol(value: unknown, path: FieldPath, causes: StatusCause[]): void {
  if (value !== undefined && !protocols.includes(value as string)) {
    causes.push(fieldCauses.notSupported(path, value, protocols));
  }
}

function requireObject(
  parent: LooseObject,
  field: string,
  path: FieldPath,
  causes: StatusCause[],
): LooseObject | undefined {
  const value = parent[field];
  if (value === undefined || value === null) {
    causes.push(fieldCauses.required(path));
    return undefined;
  }
  const object = asObject(value);
  if (!object) causes.push(fieldCauses.invalid(path, value, 'must be an object'));
  return object;
}

function checkNonNegative(
  parent: LooseObject | undefined,
  field: string,
  path: FieldPath,
  causes: StatusCause[],
): void {
  const value = parent?.[field];
  if (value === undefined || value === null) return;
  if (!isInteger(value) || value < 0) {
    causes.push(fieldCauses.invalid(path.child(field), value, 'must be greater than or equal to 0'));
  }
}

// ---------------------------------------------------------------------------------------------
// Pods and pod templates

function imagePullPolicyFor(image: unknown): string {
  if (typeof image !== 'string') return 'IfNotPresent';
  // A digest pins the image; otherwise the tag is whatever follows the last ':' after the last '/'.
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  const tag = colon < 0 ? '' : lastSegment.slice(colon + 1);
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(container: unknown): void {
  const c = asObject(container);
  if (!c) return;
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'imagePullPolicy', imagePullPolicyFor(c.image));
  for (const port of asArray(c.ports) ?? []) setDefault(asObject(port), 'protocol', 'TCP');
  // Upstream copies limits into unset requests, so a pod with only limits is Guaranteed.
  const resources = asObject(c.resources);
  const limits = asObject(resources?.limits);
  if (resources && limits) {
    const requests = ensureObject(resources, 'requests');
    for (const [name, quantity] of Object.entries(limits)) setDefault(requests, name, quantity);
  }
}

/** Upstream's v1 defaults for a pod spec (also applied to the templates of workload kinds). */
export function defaultPodSpec(spec: unknown): void {
  const s = asObject(spec);
  if (!s) return;
  setDefault(s, 'restartPolicy', 'Always');
  setDefault(s, 'dnsPolicy', 'ClusterFirst');
  setDefault(s, 'schedulerName', 'default-scheduler');
  setDefault(s, 'terminationGracePeriodSeconds', 30);
  setDefault(s, 'securityContext', {});
  setDefault(s, 'enableServiceLinks', true);
  for (const container of asArray(s.containers) ?? []) defaultContainer(container);
  for (const container of asArray(s.initContainers) ?? []) defaultContainer(container);
}

const restartPolicies = ['Always', 'OnFailure', 'Never'];
const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const pullPolicies = ['Always', 'IfNotPresent', 'Never'];

function validateContainers(list: unknown, path: FieldPath, names: Set<string>, causes: StatusCause[]): void {
  if (list === undefined || list === null) return;
  const containers = asArray(list);
  if (!containers) {
    causes.push(fieldCauses.invalid(path, list, 'must be a list'));
    return;
  }
  containers.forEach((item, i) => {
    const at = path.index(i);
    const c = asObject(item);
    if (!c) {
      causes.push(fieldCauses.invalid(at, item, 'must be an object'));
      return;
    }
    if (c.name === undefined || c.name === '') causes.push(fieldCauses.required(at.child('name')));
    else if (typeof c.name !== 'string')
      causes.push(fieldCauses.invalid(at.child('name'), c.name, 'must be a string'));
    else {
      for (const problem of isDNS1123Label(c.name))
        causes.push(fieldCauses.invalid(at.child('name'), c.name, problem));
      if (names.has(c.name)) causes.push(fieldCauses.duplicate(at.child('name'), c.name));
      names.add(c.name);
    }
    if (c.image === undefined || c.image === '') causes.push(fieldCauses.required(at.child('image')));
    else if (typeof c.image !== 'string' || c.image.trim() !== c.image) {
      causes.push(
        fieldCauses.invalid(
          at.child('image'),
          c.image,
          'must be a string without leading or trailing whitespace',
        ),
      );
    }
    if (c.imagePullPolicy !== undefined && !pullPolicies.includes(c.imagePullPolicy as string)) {
      causes.push(fieldCauses.notSupported(at.child('imagePullPolicy'), c.imagePullPolicy, pullPolicies));
    }
    if (c.ports !== undefined) {
      const ports = asArray(c.ports);
      if (!ports) causes.push(fieldCauses.invalid(at.child('ports'), c.ports, 'must be a list'));
      ports?.forEach((p, j) => {
        const port = asObject(p);
        const portPath = at.child('ports').index(j);
        if (!port) {
          causes.push(fieldCauses.invalid(portPath, p, 'must be an object'));
          return;
        }
        if (port.containerPort === undefined)
          causes.push(fieldCauses.required(portPath.child('containerPort')));
        else validatePort(port.containerPort, portPath.child('containerPort'), causes);
        if (port.hostPort !== undefined && port.hostPort !== 0)
          validatePort(port.hostPort, portPath.child('hostPort'), causes);
        validateProtocol(port.protocol, portPath.child('protocol'), causes);
      });
    }
  });
}

/** Validates a pod spec at `path` (`spec`, or `spec.template.spec` of a workload). */
export function validatePodSpec(
  spec: unknown,
  path: FieldPath,
  allowedRestartPolicies = restartPolicies,
): StatusCause[] {
  const causes: StatusCause[] = [];
  const s = asObject(spec);
  if (!s) {
    causes.push(
      spec === undefined || spec === null
        ? fieldCauses.required(path)
        : fieldCauses.invalid(path, spec, 'must be an object'),
    );
    return causes;
  }
  const names = new Set<string>();
  const containers = asArray(s.containers);
  if (!containers || containers.length === 0) {
    if (s.containers === undefined || s.containers === null || containers)
      causes.push(fieldCauses.required(path.child('containers')));
    else causes.push(fieldCauses.invalid(path.child('containers'), s.containers, 'must be a list'));
  }
  validateContainers(s.initContainers, path.child('initContainers'), names, causes);
  validateContainers(s.containers, path.child('containers'), names, causes);
  if (s.restartPolicy !== undefined && !allowedRestartPolicies.includes(s.restartPolicy as string)) {
    causes.push(
      fieldCauses.notSupported(path.child('restartPolicy'), s.restartPolicy, allowedRestartPolicies),
    );
  }
  if (s.dnsPolicy !== undefined && !dnsPolicies.includes(s.dnsPolicy as string)) {
    causes.push(fieldCauses.notSupported(path.child('dnsPolicy'), s.dnsPolicy, dnsPolicies));
  }
  if (s.nodeName !== undefined && s.nodeName !== '') {
    const problems = typeof s.nodeName === 'string' ? isDNS1123Subdomain(s.nodeName) : ['must be a string'];
    for (const problem of problems)
      causes.push(fieldCauses.invalid(path.child('nodeName'), s.nodeName, problem));
  }
  checkNonNegative(s, 'terminationGracePeriodSeconds', path, causes);
  const deadline = s.activeDeadlineSeconds;
  if (deadline !== undefined && (!isInteger(deadline) || deadline < 1)) {
    causes.push(
      fieldCauses.invalid(
        path.child('activeDeadlineSeconds'),
        deadline,
        'must be between 1 and 2147483647, inclusive',
      ),
    );
  }
  return causes;
}

/** Guaranteed when every container has equal cpu and memory requests and limits; BestEffort with none. */
export function podQosClass(spec: unknown): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const s = asObject(spec);
  const containers = [...(asArray(s?.containers) ?? []), ...(asArray(s?.initContainers) ?? [])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const item of containers) {
    const resources = asObject(asObject(item)?.resources);
    const requests = asObject(resources?.requests) ?? {};
    const limits = asObject(resources?.limits) ?? {};
    if (Object.keys(requests).length > 0 || Object.keys(limits).length > 0) any = true;
    for (const name of ['cpu', 'memory']) {
      // Quantities are compared as written; defaulting copies limits into requests, so the usual
      // Guaranteed pod (limits only, or equal strings) is recognised.
      if (limits[name] === undefined || String(requests[name]) !== String(limits[name])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Pod fields an update may change, as upstream's pod update validation allows. */
function podSpecMutableMask(spec: unknown): unknown {
  const s = asObject(spec);
  if (!s) return spec;
  const masked: LooseObject = { ...s };
  const maskImages = (list: unknown): unknown =>
    asArray(list)?.map((c) => (asObject(c) ? { ...(c as LooseObject), image: undefined } : c)) ?? list;
  masked.containers = maskImages(s.containers);
  masked.initContainers = maskImages(s.initContainers);
  masked.activeDeadlineSeconds = undefined;
  masked.tolerations = undefined;
  masked.terminationGracePeriodSeconds = undefined;
  return masked;
}

export function validatePodUpdate(pod: LooseObject, old: LooseObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = asObject(pod.spec);
  const oldSpec = asObject(old.spec);
  if (!deepEqual(podSpecMutableMask(spec), podSpecMutableMask(oldSpec))) {
    causes.push(
      fieldCauses.forbidden(
        'spec',
        'pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, ' +
          '`spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), ' +
          '`spec.terminationGracePeriodSeconds`',
      ),
    );
  }
  const oldNode = oldSpec?.nodeName;
  if (oldNode && spec?.nodeName !== oldNode) {
    causes.push(fieldCauses.invalid('spec.nodeName', spec?.nodeName ?? '', 'field is immutable once set'));
  }
  const oldTolerations = asArray(oldSpec?.tolerations) ?? [];
  const tolerations = asArray(spec?.tolerations) ?? [];
  for (const t of oldTolerations) {
    if (!tolerations.some((n) => deepEqual(n, t))) {
      causes.push(
        fieldCauses.forbidden(
          'spec.tolerations',
          'existing toleration can not be modified except its tolerationSeconds',
        ),
      );
      break;
    }
  }
  return causes;
}

// ---------------------------------------------------------------------------------------------
// Label selectors of workloads

/**
 * Validates `spec.selector` against `spec.template.metadata.labels` as the apps/v1 and batch kinds
 * require: present, not empty, and selecting the template.
 */
function validateSelectorAndTemplate(spec: LooseObject, kindLabel: string, causes: StatusCause[]): void {
  const selectorPath = FieldPath.root('spec', 'selector');
  const selector = requireObject(spec, 'selector', selectorPath, causes);
  const template = requireObject(spec, 'template', FieldPath.root('spec', 'template'), causes);
  if (!selector) return;
  const matchLabels = asObject(selector.matchLabels) ?? {};
  const expressions = asArray(selector.matchExpressions) ?? [];
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) {
    causes.push(fieldCauses.invalid(selectorPath, selector, `empty selector is invalid for ${kindLabel}`));
    return;
  }
  let matcher: { matches(labels: Record<string, string>): boolean } | undefined;
  try {
    matcher = labelSelectorFromObject(selector as LabelSelector);
  } catch (error) {
    causes.push(
      fieldCauses.invalid(selectorPath, selector, error instanceof Error ? error.message : String(error)),
    );
    return;
  }
  if (!template) return;
  const labels = asObject(asObject(template.metadata)?.labels) ?? {};
  if (!matcher.matches(labels as Record<string, string>)) {
    causes.push(
      fieldCauses.invalid(
        'spec.template.metadata.labels',
        labels,
        '`selector` does not match template `labels`',
      ),
    );
  }
}

function validateWorkload(
  object: UnstructuredObject,
  kindLabel: string,
  options: { replicas?: boolean; restartPolicies?: string[] } = {},
): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = requireObject(object as LooseObject, 'spec', FieldPath.root('spec'), causes);
  if (!spec) return causes;
  if (options.replicas !== false) checkNonNegative(spec, 'replicas', FieldPath.root('spec'), causes);
  checkNonNegative(spec, 'minReadySeconds', FieldPath.root('spec'), causes);
  checkNonNegative(spec, 'revisionHistoryLimit', FieldPath.root('spec'), causes);
  validateSelectorAndTemplate(spec, kindLabel, causes);
  const template = asObject(spec.template);
  if (template) {
    causes.push(
      ...validatePodSpec(
        template.spec,
        FieldPath.root('spec', 'template', 'spec'),
        options.restartPolicies ?? ['Always'],
      ),
    );
  }
  return causes;
}

function immutable(path: string, value: unknown, old: unknown, causes: StatusCause[]): void {
  if (!deepEqual(value, old)) causes.push(fieldCauses.invalid(path, value ?? null, 'field is immutable'));
}

function defaultTemplate(spec: LooseObject | undefined): void {
  const template = asObject(spec?.template);
  if (template) defaultPodSpec(template.spec);
}

export const deploymentStrategy = {
  defaults(object: UnstructuredObject): void {
    const spec = ensureObject(object as LooseObject, 'spec');
    setDefault(spec, 'replicas', 1);
    setDefault(spec, 'revisionHistoryLimit', 10);
    setDefault(spec, 'progressDeadlineSeconds', 600);
    const strategy = spec ? ensureObject(spec, 'strategy') : undefined;
    setDefault(strategy, 'type', 'RollingUpdate');
    if (strategy?.type === 'RollingUpdate') {
      const rolling = ensureObject(strategy, 'rollingUpdate');
      setDefault(rolling, 'maxUnavailable', '25%');
      setDefault(rolling, 'maxSurge', '25%');
    }
    defaultTemplate(spec);
  },
  validate(object: UnstructuredObject, old?: UnstructuredObject): StatusCause[] {
    const causes = validateWorkload(object, 'deployment');
    const spec = asObject(object.spec);
    const type = asObject(spec?.strategy)?.type;
    if (type !== undefined && type !== 'RollingUpdate' && type !== 'Recreate') {
      causes.push(fieldCauses.notSupported('spec.strategy.type', type, ['Recreate', 'RollingUpdate']));
    }
    if (old) immutable('spec.selector', spec?.selector, asObject(old.spec)?.selector, causes);
    return causes;
  },
};

export const replicaSetStrategy = {
  defaults(object: UnstructuredObject): void {
    const spec = ensureObject(object as LooseObject, 'spec');
    setDefault(spec, 'replicas', 1);
    defaultTemplate(spec);
  },
  validate(object: UnstructuredObject, old?: UnstructuredObject): StatusCause[] {
    const causes = validateWorkload(object, 'replicaset');
    if (old)
      immutable('spec.selector', asObject(object.spec)?.selector, asObject(old.spec)?.selector, causes);
    return causes;
  },
};

export const daemonSetStrategy = {
  defaults(object: UnstructuredObject): void {
    const spec = ensureObject(object as LooseObject, 'spec');
    setDefault(spec, 'revisionHistoryLimit', 10);
    const strategy = spec ? ensureObject(spec, 'updateStrategy') : undefined;
    setDefault(strategy, 'type', 'RollingUpdate');
    if (strategy?.type === 'RollingUpdate') {
      const rolling = ensureObject(strategy, 'rollingUpdate');
      setDefault(rolling, 'maxUnavailable', 1);
      setDefault(rolling, 'maxSurge', 0);
    }
    defaultTemplate(spec);
  },
  validate(object: UnstructuredObject, old?: UnstructuredObject): StatusCause[] {
    const causes = validateWorkload(object, 'daemonset', { replicas: false });
    const type = asObject(asObject(object.spec)?.updateStrategy)?.type;
    if (type !== undefined && type !== 'RollingUpdate' && type !== 'OnDelete') {
      causes.push(fieldCauses.notSupported('spec.updateStrategy.type', type, ['OnDelete', 'RollingUpdate']));
    }
    if (old)
      immutable('spec.selector', asObject(object.spec)?.selector, asObject(old.spec)?.selector, causes);
    return causes;
  },
};

const statefulSetMutableFields = [
  'replicas',
  'ordinals',
  'template',
  'updateStrategy',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
];

export const statefulSetStrategy = {
  defaults(object: UnstructuredObject): void {
    const spec = ensureObject(object as LooseObject, 'spec');
    setDefault(spec, 'replicas', 1);
    setDefault(spec, 'podManagementPolicy', 'OrderedReady');
    setDefault(spec, 'revisionHistoryLimit', 10);
    const strategy = spec ? ensureObject(spec, 'updateStrategy') : undefined;
    setDefault(strategy, 'type', 'RollingUpdate');
    if (strategy?.type === 'RollingUpdate')
      setDefault(ensureObject(strategy, 'rollingUpdate'), 'partition', 0);
    const retention = spec ? ensureObject(spec, 'persistentVolumeClaimRetentionPolicy') : undefined;
    setDefault(retention, 'whenDeleted', 'Retain');
    setDefault(retention, 'whenScaled', 'Retain');
    defaultTemplate(spec);
  },
  validate(object: UnstructuredObject, old?: UnstructuredObject): StatusCause[] {
    const causes = validateWorkload(object, 'statefulset');
    const spec = asObject(object.spec);
    const policy = spec?.podManagementPolicy;
    if (policy !== undefined && policy !== 'OrderedReady' && policy !== 'Parallel') {
      causes.push(fieldCauses.notSupported('spec.podManagementPolicy', policy, ['OrderedReady', 'Parallel']));
    }
    if (old && spec) {
      const strip = (s: unknown): LooseObject => {
        const copy = { ...(asObject(s) ?? {}) };
        for (const field of statefulSetMutableFields) delete copy[field];
        return copy;
      };
      if (!deepEqual(strip(spec), strip(old.spec))) {
        causes.push(
          fieldCauses.forbidden(
            'spec',
            `updates to statefulset spec for fields other than ${statefulSetMutableFields.map((f) => `'${f}'`).join(', ')} are forbidden`,
          ),
        );
      }
    }
    return causes;
  },
};

const jobRestartPolicies = ['OnFailure', 'Never'];

export const jobStrategy = {
  defaults(object: UnstructuredObject): void {
    const spec = ensureObject(object as LooseObject, 'spec');
    if (spec && spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
    setDefault(spec, 'parallelism', 1);
    setDefault(spec, 'backoffLimit', 6);
    setDefault(spec, 'completionMode', 'NonIndexed');
    setDefault(spec, 'suspend', false);
    setDefault(spec, 'podReplacementPolicy', 'TerminatingOrFailed');
    defaultTemplate(spec);
  },
  /** Upstream generates the selector from the job's uid unless `spec.manualSelector` is true. */
  prepareForCreate(object: UnstructuredObject): void {
    const spec = asObject(object.spec);
    const metadata = object.metadata ?? {};
    if (!spec || spec.manualSelector === true || !metadata.uid) return;
    const template = ensureObject(spec, 'template');
    const templateMeta = template ? ensureObject(template, 'metadata') : undefined;
    const labels = templateMeta ? ensureObject(templateMeta, 'labels') : undefined;
    if (labels) {
      labels['batch.kubernetes.io/controller-uid'] = metadata.uid;
      labels['batch.kubernetes.io/job-name'] = metadata.name;
      labels['controller-uid'] = metadata.uid;
      labels['job-name'] = metadata.name;
    }
    if (spec.selector === undefined) {
      spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': metadata.uid } };
    }
  },
  validate(object: UnstructuredObject, old?: UnstructuredObject): StatusCause[] {
    const causes = validateWorkload(object, 'job', { replicas: false, restartPolicies: jobRestartPolicies });
    const spec = asObject(object.spec);
    const root = FieldPath.root('spec');
    for (const field of ['parallelism', 'completions', 'backoffLimit'])
      checkNonNegative(spec, field, root, causes);
    const mode = spec?.completionMode;
    if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed') {
      causes.push(fieldCauses.notSupported('spec.completionMode', mode, ['NonIndexed', 'Indexed']));
    }
    if (old && spec) {
      const oldSpec = asObject(old.spec);
      immutable('spec.selector', spec.selector, oldSpec?.selector, causes);
      immutable('spec.template', spec.template, oldSpec?.template, causes);
      immutable('spec.completionMode', spec.completionMode, oldSpec?.completionMode, causes);
    }
    return causes;
  },
};

const concurrencyPolicies = ['Allow', 'Forbid', 'Replace'];
const cronMacros = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

export const cronJobStrategy = {
  defaults(object: UnstructuredObject): void {
    const spec = ensureObject(object as LooseObject, 'spec');
    setDefault(spec, 'concurrencyPolicy', 'Allow');
    setDefault(spec, 'suspend', false);
    setDefault(spec, 'successfulJobsHistoryLimit', 3);
    setDefault(spec, 'failedJobsHistoryLimit', 1);
    const jobTemplate = asObject(spec?.jobTemplate);
    if (jobTemplate) defaultTemplate(asObject(jobTemplate.spec));
  },
  validate(object: UnstructuredObject): StatusCause[] {
    const causes: StatusCause[] = [];
    const spec = requireObject(object as LooseObject, 'spec', FieldPath.root('spec'), causes);
    if (!spec) return causes;
    const schedule = spec.schedule;
    if (schedule === undefined || schedule === '') causes.push(fieldCauses.required('spec.schedule'));
    else if (typeof schedule !== 'string')
      causes.push(fieldCauses.invalid('spec.schedule', schedule, 'must be a string'));
    else {
      const trimmed = schedule.replace(/^(CRON_)?TZ=\S+\s+/, '').trim();
      const fields = trimmed.split(/\s+/);
      if (!cronMacros.includes(trimmed) && !trimmed.startsWith('@every ') && fields.length !== 5) {
        causes.push(
          fieldCauses.invalid('spec.schedule', schedule, `expected exactly 5 fields, found ${fields.length}`),
        );
      }
    }
    if (
      spec.concurrencyPolicy !== undefined &&
      !concurrencyPolicies.includes(spec.concurrencyPolicy as string)
    ) {
      causes.push(
        fieldCauses.notSupported('spec.concurrencyPolicy', spec.concurrencyPolicy, concurrencyPolicies),
      );
    }
    const root = FieldPath.root('spec');
    checkNonNegative(spec, 'successfulJobsHistoryLimit', root, causes);
    checkNonNegative(spec, 'failedJobsHistoryLimit', root, causes);
    checkNonNegative(spec, 'startingDeadlineSeconds', root, causes);
    const jobTemplate = requireObject(spec, 'jobTemplate', root.child('jobTemplate'), causes);
    const jobSpec = jobTemplate
      ? requireObject(jobTemplate, 'spec', root.child('jobTemplate', 'spec'), causes)
      : undefined;
    const template = jobSpec
      ? requireObject(jobSpec, 'template', root.child('jobTemplate', 'spec', 'template'), causes)
      : undefined;
    if (template) {
      causes.push(
        ...validatePodSpec(
          template.spec,
          root.child('jobTemplate', 'spec', 'template', 'spec'),
          jobRestartPolicies,
        ),
      );
    }
    return causes;
  },
};

// ---------------------------------------------------------------------------------------------
// Core kinds

export const podStrategy = {
  defaults(object: UnstructuredObject): void {
    defaultPodSpec(ensureObject(object as LooseObject, 'spec'));
  },
  prepareForCreate(object: UnstructuredObject): void {
    object.status = { phase: 'Pending', qosClass: podQosClass(object.spec) };
  },
  validate(object: UnstructuredObject, old?: UnstructuredObject): StatusCause[] {
    const causes = validatePodSpec(object.spec, FieldPath.root('spec'));
    if (old && causes.length === 0)
      causes.push(...validatePodUpdate(object as LooseObject, old as LooseObject));
    const phase = asObject(object.status)?.phase;
    const phases = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];
    if (phase !== undefined && !phases.includes(phase as string)) {
      causes.push(fieldCauses.notSupported('status.phase', phase, phases));
    }
    return causes;
  },
  /** Upstream deletes unscheduled and finished pods at once; others wait for their node. */
  deletionGracePeriodSeconds(object: UnstructuredObject, requested: number | undefined): number {
    const spec = asObject(object.spec);
    const phase = asObject(object.status)?.phase;
    if (!spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
    if (requested !== undefined) return requested;
    const configured = spec.terminationGracePeriodSeconds;
    return isInteger(configured) && configured >= 0 ? configured : 30;
  },
};

const serviceTypes = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];

export const serviceStrategy = {
  defaults(object: UnstructuredObject): void {
    const spec = ensureObject(object as LooseObject, 'spec');
    setDefault(spec, 'type', 'ClusterIP');
    setDefault(spec, 'sessionAffinity', 'None');
    if (spec && spec.type !== 'ExternalName') setDefault(spec, 'internalTrafficPolicy', 'Cluster');
    for (const item of asArray(spec?.ports) ?? []) {
      const port = asObject(item);
      setDefault(port, 'protocol', 'TCP');
      if (port && port.targetPort === undefined) port.targetPort = port.port;
    }
  },
  validate(object: UnstructuredObject, old?: UnstructuredObject): StatusCause[] {
    const causes: StatusCause[] = [];
    const name = object.metadata?.name;
    // Service names are DNS-1035 labels (they become DNS names and env variable prefixes).
    if (typeof name === 'string' && name !== '') {
      for (const problem of isDNS1035Label(name))
        causes.push(fieldCauses.invalid('metadata.name', name, problem));
    }
    const spec = requireObject(object as LooseObject, 'spec', FieldPath.root('spec'), causes);
    if (!spec) return causes;
    const type = spec.type;
    if (!serviceTypes.includes(type as string))
      causes.push(fieldCauses.notSupported('spec.type', type, serviceTypes));
    if (type === 'ExternalName' && !spec.externalName) causes.push(fieldCauses.required('spec.externalName'));
    const ports = asArray(spec.ports);
    if (spec.ports !== undefined && !ports)
      causes.push(fieldCauses.invalid('spec.ports', spec.ports, 'must be a list'));
    const headless = spec.clusterIP === 'None';
    if ((!ports || ports.length === 0) && type !== 'ExternalName' && !headless && spec.ports === undefined) {
      causes.push(fieldCauses.required('spec.ports'));
    } else if (ports && ports.length === 0 && type !== 'ExternalName' && !headless) {
      causes.push(fieldCauses.required('spec.ports'));
    }
    const names = new Set<string>();
    const seen = new Set<string>();
    ports?.forEach((item, i) => {
      const at = FieldPath.root('spec', 'ports').index(i);
      const port = asObject(item);
      if (!port) {
        causes.push(fieldCauses.invalid(at, item, 'must be an object'));
        return;
      }
      if (ports.length > 1 && (port.name === undefined || port.name === ''))
        causes.push(fieldCauses.required(at.child('name')));
      if (typeof port.name === 'string' && port.name !== '') {
        for (const problem of isDNS1123Label(port.name))
          causes.push(fieldCauses.invalid(at.child('name'), port.name, problem));
        if (names.has(port.name)) causes.push(fieldCauses.duplicate(at.child('name'), port.name));
        names.add(port.name);
      }
      validatePort(port.port, at.child('port'), causes);
      validateProtocol(port.protocol, at.child('protocol'), causes);
      const key = `${String(port.port)}/${String(port.protocol ?? 'TCP')}`;
      if (seen.has(key))
        causes.push(fieldCauses.duplicate(at, { port: port.port, protocol: port.protocol ?? 'TCP' }));
      seen.add(key);
      const target = port.targetPort;
      if (typeof target === 'number') validatePort(target, at.child('targetPort'), causes);
      else if (target !== undefined && (typeof target !== 'string' || target === '' || target.length > 15)) {
        causes.push(
          fieldCauses.invalid(
            at.child('targetPort'),
            target,
            'must be a port number or a port name of at most 15 characters',
          ),
        );
      }
      if (port.nodePort !== undefined && port.nodePort !== 0)
        validatePort(port.nodePort, at.child('nodePort'), causes);
    });
    if (spec.selector !== undefined && !asObject(spec.selector)) {
      causes.push(fieldCauses.invalid('spec.selector', spec.selector, 'must be a map of labels'));
    }
    if (old) {
      const oldIP = asObject(old.spec)?.clusterIP;
      if (
        oldIP &&
        oldIP !== '' &&
        spec.clusterIP !== undefined &&
        spec.clusterIP !== oldIP &&
        type !== 'ExternalName'
      ) {
        causes.push(fieldCauses.invalid('spec.clusterIP', spec.clusterIP, 'field is immutable'));
      }
    }
    return causes;
  },
  prepareForUpdate(object: UnstructuredObject, old: UnstructuredObject): void {
    // A replaced Service keeps its allocated clusterIP when the new object leaves it out.
    const spec = asObject(object.spec);
    const oldSpec = asObject(old.spec);
    if (spec && oldSpec?.clusterIP && spec.clusterIP === undefined) spec.clusterIP = oldSpec.clusterIP;
    if (spec && oldSpec?.clusterIPs && spec.clusterIPs === undefined) spec.clusterIPs = oldSpec.clusterIPs;
  },
};

/** The finalizer the namespace controller removes once a namespace is empty. */
export const namespaceFinalizer = 'kubernetes';

export const namespaceStrategy = {
  defaults(object: UnstructuredObject): void {
    // Upstream labels every namespace with its own name so label selectors can pick namespaces.
    object.metadata ??= {};
    const metadata = object.metadata;
    if (metadata.name) metadata.labels = { ...metadata.labels, 'kubernetes.io/metadata.name': metadata.name };
  },
  prepareForCreate(object: UnstructuredObject): void {
    // Again after defaulting: a name generated from generateName exists only now.
    namespaceStrategy.defaults(object);
    const spec = ensureObject(object as LooseObject, 'spec');
    if (spec && (spec.finalizers === undefined || spec.finalizers === null))
      spec.finalizers = [namespaceFinalizer];
    object.status = { phase: 'Active' };
  },
  prepareForUpdate(object: UnstructuredObject, old: UnstructuredObject): void {
    // spec.finalizers changes only through the finalize subresource.
    const spec = ensureObject(object as LooseObject, 'spec');
    const oldFinalizers = asObject(old.spec)?.finalizers;
    if (spec) {
      if (oldFinalizers === undefined) delete spec.finalizers;
      else spec.finalizers = structuredClone(oldFinalizers);
    }
  },
  prepareForSubresourceUpdate(
    subresource: string,
    requested: UnstructuredObject,
    old: UnstructuredObject,
  ): UnstructuredObject {
    if (subresource !== 'finalize') return requested;
    const next = structuredClone(old);
    const spec = ensureObject(next as LooseObject, 'spec') ?? {};
    const finalizers = asObject(requested.spec)?.finalizers;
    if (finalizers === undefined) delete spec.finalizers;
    else spec.finalizers = structuredClone(finalizers);
    return next;
  },
  validate(object: UnstructuredObject): StatusCause[] {
    const causes: StatusCause[] = [];
    const finalizers = asObject(object.spec)?.finalizers;
    if (finalizers !== undefined && !asArray(finalizers)) {
      causes.push(fieldCauses.invalid('spec.finalizers', finalizers, 'must be a list'));
    }
    for (const [i, finalizer] of (asArray(finalizers) ?? []).entries()) {
      if (typeof finalizer !== 'string' || finalizer === '') {
        causes.push(
          fieldCauses.invalid(
            FieldPath.root('spec', 'finalizers').index(i),
            finalizer,
            'must be a non-empty string',
          ),
        );
      }
    }
    const phase = asObject(object.status)?.phase;
    if (phase !== undefined && phase !== 'Active' && phase !== 'Terminating') {
      causes.push(fieldCauses.notSupported('status.phase', phase, ['Active', 'Terminating']));
    }
    const name = object.metadata?.name;
    if (name && object.metadata?.labels?.['kubernetes.io/metadata.name'] !== name) {
      causes.push(
        fieldCauses.invalid(
          'metadata.labels[kubernetes.io/metadata.name]',
          object.metadata?.labels?.['kubernetes.io/metadata.name'] ?? '',
          `must be ${JSON.stringify(name)}`,
        ),
      );
    }
    return causes;
  },
  pendingFinalizers(object: UnstructuredObject): string[] {
    return (asArray(asObject(object.spec)?.finalizers) ?? []).map(String);
  },
  prepareForDelete(object: UnstructuredObject): void {
    const status = ensureObject(object as LooseObject, 'status');
    if (status) status.phase = 'Terminating';
  },
};

const configKeyPattern = /^[-._a-zA-Z0-9]+$/;
const maxConfigBytes = 1024 * 1024;

function validateDataMaps(object: UnstructuredObject, maps: string[], base64: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const field of maps) {
    const value = (object as LooseObject)[field];
    if (value === undefined || value === null) continue;
    const map = asObject(value);
    if (!map) {
      causes.push(fieldCauses.invalid(field, value, 'must be a map of strings'));
      continue;
    }
    for (const [key, entry] of Object.entries(map)) {
      const at = FieldPath.root(field).key(key);
      if (!configKeyPattern.test(key) || key.length > 253 || key === '.' || key === '..') {
        causes.push(
          fieldCauses.invalid(
            at,
            key,
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
          ),
        );
      }
      if (seen.has(key)) causes.push(fieldCauses.invalid(at, key, 'duplicate of key present in another map'));
      seen.add(key);
      if (typeof entry !== 'string') {
        causes.push(fieldCauses.invalid(at, entry, 'must be a string'));
        continue;
      }
      if ((base64 || field === 'binaryData') && !/^[A-Za-z0-9+/]*={0,2}$/.test(entry)) {
        causes.push(fieldCauses.invalid(at, '<value omitted>', 'must be base64-encoded'));
      }
      total += Buffer.byteLength(entry);
    }
  }
  if (total > maxConfigBytes) causes.push(fieldCauses.tooLong(maps[0], maxConfigBytes));
  return causes;
}

function immutableData(
  object: UnstructuredObject,
  old: UnstructuredObject | undefined,
  maps: string[],
  causes: StatusCause[],
): void {
  if (old?.immutable !== true) return;
  if (object.immutable !== true)
    causes.push(fieldCauses.forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const field of maps) {
    if (!deepEqual(object[field], old[field])) {
      causes.push(fieldCauses.forbidden(field, 'field is immutable when `immutable` is set'));
    }
  }
}

export const configMapStrategy = {
  validate(object: UnstructuredObject, old?: UnstructuredObject): StatusCause[] {
    const causes = validateDataMaps(object, ['data', 'binaryData'], false);
    immutableData(object, old, ['data', 'binaryData'], causes);
    return causes;
  },
};

export const secretStrategy = {
  defaults(object: UnstructuredObject): void {
    setDefault(object as LooseObject, 'type', 'Opaque');
    // stringData is a write-only convenience: upstream merges it into data (base64) and drops it.
    const stringData = asObject(object.stringData);
    if (stringData) {
      const data = ensureObject(object as LooseObject, 'data');
      if (data) {
        for (const [key, value] of Object.entries(stringData)) {
          if (typeof value === 'string') data[key] = Buffer.from(value, 'utf8').toString('base64');
        }
        delete object.stringData;
      }
    }
  },
  validate(object: UnstructuredObject, old?: UnstructuredObject): StatusCause[] {
    const causes = validateDataMaps(object, ['data', 'stringData'], true);
    if (typeof object.type !== 'string' || object.type === '') causes.push(fieldCauses.required('type'));
    if (
      object.type === 'kubernetes.io/service-account-token' &&
      !object.metadata?.annotations?.['kubernetes.io/service-account.name']
    ) {
      causes.push(fieldCauses.required('metadata.annotations[kubernetes.io/service-account.name]'));
    }
    if (old) immutable('type', object.type, old.type, causes);
    immutableData(object, old, ['data'], causes);
    return causes;
  },
};

export const eventStrategy = {
  validate(object: UnstructuredObject): StatusCause[] {
    const causes: StatusCause[] = [];
    const involved = asObject(object.involvedObject);
    const namespace = object.metadata?.namespace;
    if (involved?.namespace && involved.namespace !== namespace) {
      causes.push(
        fieldCauses.invalid('involvedObject.namespace', involved.namespace, 'does not match event.namespace'),
      );
    }
    const type = object.type;
    if (type !== undefined && type !== 'Normal' && type !== 'Warning') {
      causes.push(fieldCauses.notSupported('type', type, ['Normal', 'Warning']));
    }
    return causes;
  },
};

const accessModes = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];

function validateAccessModes(spec: LooseObject, causes: StatusCause[]): void {
  const modes = asArray(spec.accessModes);
  if (!modes || modes.length === 0) {
    causes.push(fieldCauses.required('spec.accessModes'));
    return;
  }
  modes.forEach((mode, i) => {
    if (!accessModes.includes(mode as string)) {
      causes.push(
        fieldCauses.notSupported(FieldPath.root('spec', 'accessModes').index(i), mode, accessModes),
      );
    }
  });
}

export const persistentVolumeStrategy = {
  defaults(object: UnstructuredObject): void {
    const spec = ensureObject(object as LooseObject, 'spec');
    setDefault(spec, 'persistentVolumeReclaimPolicy', 'Retain');
    setDefault(spec, 'volumeMode', 'Filesystem');
  },
  prepareForCreate(object: UnstructuredObject): void {
    object.status = { phase: 'Pending' };
  },
  validate(object: UnstructuredObject): StatusCause[] {
    const causes: StatusCause[] = [];
    const spec = requireObject(object as LooseObject, 'spec', FieldPath.root('spec'), causes);
    if (!spec) return causes;
    validateAccessModes(spec, causes);
    if (asObject(spec.capacity)?.storage === undefined)
      causes.push(fieldCauses.required('spec.capacity[storage]'));
    const policy = spec.persistentVolumeReclaimPolicy;
    const policies = ['Delete', 'Recycle', 'Retain'];
    if (!policies.includes(policy as string))
      causes.push(fieldCauses.notSupported('spec.persistentVolumeReclaimPolicy', policy, policies));
    return causes;
  },
};

export const persistentVolumeClaimStrategy = {
  defaults(object: UnstructuredObject): void {
    setDefault(ensureObject(object as LooseObject, 'spec'), 'volumeMode', 'Filesystem');
  },
  prepareForCreate(object: UnstructuredObject): void {
    object.status = { phase: 'Pending' };
  },
  validate(object: UnstructuredObject): StatusCause[] {
    const causes: StatusCause[] = [];
    const spec = requireObject(object as LooseObject, 'spec', FieldPath.root('spec'), causes);
    if (!spec) return causes;
    validateAccessModes(spec, causes);
    if (asObject(asObject(spec.resources)?.requests)?.storage === undefined) {
      causes.push(fieldCauses.required('spec.resources[storage]'));
    }
    return causes;
  },
};

export const leaseStrategy = {
  validate(object: UnstructuredObject): StatusCause[] {
    const causes: StatusCause[] = [];
    const spec = asObject(object.spec);
    const duration = spec?.leaseDurationSeconds;
    if (duration !== undefined && (!isInteger(duration) || duration <= 0)) {
      causes.push(fieldCauses.invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
    }
    checkNonNegative(spec, 'leaseTransitions', FieldPath.root('spec'), causes);
    return causes;
  },
};

const addressTypes = ['IPv4', 'IPv6', 'FQDN'];

export const endpointSliceStrategy = {
  defaults(object: UnstructuredObject): void {
    for (const item of asArray(object.ports) ?? []) setDefault(asObject(item), 'protocol', 'TCP');
  },
  validate(object: UnstructuredObject): StatusCause[] {
    const causes: StatusCause[] = [];
    if (!addressTypes.includes(object.addressType as string)) {
      causes.push(
        object.addressType === undefined
          ? fieldCauses.required('addressType')
          : fieldCauses.notSupported('addressType', object.addressType, addressTypes),
      );
    }
    (asArray(object.endpoints) ?? []).forEach((item, i) => {
      const addresses = asArray(asObject(item)?.addresses);
      if (!addresses || addresses.length === 0)
        causes.push(fieldCauses.required(FieldPath.root('endpoints').index(i).child('addresses')));
    });
    (asArray(object.ports) ?? []).forEach((item, i) => {
      const port = asObject(item);
      const at = FieldPath.root('ports').index(i);
      if (port?.port !== undefined) validatePort(port.port, at.child('port'), causes);
      validateProtocol(port?.protocol, at.child('protocol'), causes);
    });
    return causes;
  },
};

export const endpointsStrategy = {
  defaults(object: UnstructuredObject): void {
    for (const subset of asArray(object.subsets) ?? []) {
      for (const port of asArray(asObject(subset)?.ports) ?? [])
        setDefault(asObject(port), 'protocol', 'TCP');
    }
  },
  validate(object: UnstructuredObject): StatusCause[] {
    const causes: StatusCause[] = [];
    (asArray(object.subsets) ?? []).forEach((subset, i) => {
      (asArray(asObject(subset)?.ports) ?? []).forEach((item, j) => {
        const at = FieldPath.root('subsets').index(i).child('ports').index(j);
        const port = asObject(item);
        validatePort(port?.port, at.child('port'), causes);
        validateProtocol(port?.protocol, at.child('protocol'), causes);
      });
    });
    return causes;
  },
};

export const horizontalPodAutoscalerStrategy = {
  defaults(object: UnstructuredObject): void {
    const spec = ensureObject(object as LooseObject, 'spec');
    setDefault(spec, 'minReplicas', 1);
    if (spec && (spec.metrics === undefined || (Array.isArray(spec.metrics) && spec.metrics.length === 0))) {
      spec.metrics = [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
        },
      ];
    }
  },
  validate(object: UnstructuredObject): StatusCause[] {
    const causes: StatusCause[] = [];
    const spec = requireObject(object as LooseObject, 'spec', FieldPath.root('spec'), causes);
    if (!spec) return causes;
    const target = requireObject(spec, 'scaleTargetRef', FieldPath.root('spec', 'scaleTargetRef'), causes);
    if (target && !target.kind) causes.push(fieldCauses.required('spec.scaleTargetRef.kind'));
    if (target && !target.name) causes.push(fieldCauses.required('spec.scaleTargetRef.name'));
    const max = spec.maxReplicas;
    const min = spec.minReplicas;
    if (!isInteger(max) || max < 1)
      causes.push(fieldCauses.invalid('spec.maxReplicas', max ?? null, 'must be greater than or equal to 1'));
    if (min !== undefined && (!isInteger(min) || min < 1))
      causes.push(fieldCauses.invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
    else if (isInteger(min) && isInteger(max) && min > max) {
      causes.push(
        fieldCauses.invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'),
      );
    }
    return causes;
  },
};

function validateRules(object: UnstructuredObject, causes: StatusCause[]): void {
  (asArray(object.rules) ?? []).forEach((item, i) => {
    const rule = asObject(item);
    const at = FieldPath.root('rules').index(i);
    const verbs = asArray(rule?.verbs);
    if (!verbs || verbs.length === 0)
      causes.push(fieldCauses.required(at.child('verbs'), 'verbs must contain at least one value'));
    const hasResources = (asArray(rule?.resources)?.length ?? 0) > 0;
    const hasUrls = (asArray(rule?.nonResourceURLs)?.length ?? 0) > 0;
    if (!hasResources && !hasUrls) {
      causes.push(
        fieldCauses.required(at.child('resources'), 'resource rules must supply at least one resource'),
      );
    }
  });
}

export const roleStrategy = {
  validate(object: UnstructuredObject): StatusCause[] {
    const causes: StatusCause[] = [];
    validateRules(object, causes);
    return causes;
  },
};

const subjectKinds = ['ServiceAccount', 'User', 'Group'];

export const roleBindingStrategy = {
  validate(object: UnstructuredObject, old?: UnstructuredObject): StatusCause[] {
    const causes: StatusCause[] = [];
    const roleRef = requireObject(object as LooseObject, 'roleRef', FieldPath.root('roleRef'), causes);
    if (roleRef) {
      if (!roleRef.name) causes.push(fieldCauses.required('roleRef.name'));
      if (roleRef.kind !== 'Role' && roleRef.kind !== 'ClusterRole') {
        causes.push(fieldCauses.notSupported('roleRef.kind', roleRef.kind, ['ClusterRole', 'Role']));
      }
    }
    (asArray(object.subjects) ?? []).forEach((item, i) => {
      const subject = asObject(item);
      const at = FieldPath.root('subjects').index(i);
      if (!subjectKinds.includes(subject?.kind as string))
        causes.push(fieldCauses.notSupported(at.child('kind'), subject?.kind, subjectKinds));
      if (!subject?.name) causes.push(fieldCauses.required(at.child('name')));
    });
    if (old && !deepEqual(object.roleRef, old.roleRef)) {
      causes.push(fieldCauses.invalid('roleRef', object.roleRef ?? null, 'cannot change roleRef'));
    }
    return causes;
  },
};

export const customResourceDefinitionStrategy = {
  defaults(object: UnstructuredObject): void {
    const spec = asObject(object.spec);
    const conversion = spec ? ensureObject(spec, 'conversion') : undefined;
    setDefault(conversion, 'strategy', 'None');
  },
  validate(object: UnstructuredObject, old?: UnstructuredObject): StatusCause[] {
    const causes: StatusCause[] = [];
    const spec = requireObject(object as LooseObject, 'spec', FieldPath.root('spec'), causes);
    if (!spec) return causes;
    const group = spec.group;
    if (typeof group !== 'string' || group === '') causes.push(fieldCauses.required('spec.group'));
    else if (!group.includes('.'))
      causes.push(fieldCauses.invalid('spec.group', group, 'should be a domain with at least one dot'));
    const names = requireObject(spec, 'names', FieldPath.root('spec', 'names'), causes);
    if (names) {
      for (const field of ['plural', 'kind']) {
        if (typeof names[field] !== 'string' || names[field] === '')
          causes.push(fieldCauses.required(`spec.names.${field}`));
      }
    }
    const expected = `${String(names?.plural ?? '')}.${String(group ?? '')}`;
    if (names && object.metadata?.name !== expected) {
      causes.push(
        fieldCauses.invalid(
          'metadata.name',
          object.metadata?.name ?? '',
          'must be spec.names.plural+"."+spec.group',
        ),
      );
    }
    if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
      causes.push(fieldCauses.notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
    }
    const versions = asArray(spec.versions);
    if (!versions || versions.length === 0)
      causes.push(
        fieldCauses.required('spec.versions', 'must have exactly one version marked as storage version'),
      );
    else {
      const storage = versions.filter((v) => asObject(v)?.storage === true).length;
      if (storage !== 1) {
        causes.push(
          fieldCauses.invalid(
            'spec.versions',
            versions.length,
            'must have exactly one version marked as storage version',
          ),
        );
      }
    }
    if (old) {
      const oldScope = asObject(old.spec)?.scope;
      immutable('spec.scope', spec.scope, oldScope, causes);
    }
    return causes;
  },
};
