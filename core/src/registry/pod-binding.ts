// SPDX-License-Identifier: Apache-2.0
/**
 * The `pods/binding` subresource: what creating a Binding does to a pod. Kept apart from the generic
 * registry so the registry only routes; the rules (assign once, never a terminating or gated pod, the
 * PodScheduled condition) are upstream's.
 *
 * @module
 */
import type { Binding } from 'kubernetes-types/core/v1.js';
import type { LooseObject } from '../api/builtin-strategies.js';
import { asObject } from '../api/builtin-strategies.js';
import type { UnstructuredObject } from '../api/object.js';
import { fieldCauses } from '../api/validation.js';
import { errors, type StatusCause } from '../errors/status-error.js';

/**
 * Checks a Binding's own fields (upstream's ValidatePodBinding): `target.name` is required and
 * `target.kind`, when set, must be `Node`. Returns one cause per problem.
 * @category Registry
 */
export function validatePodBinding(binding: Binding): StatusCause[] {
  const causes: StatusCause[] = [];
  const target = asObject((binding as unknown as LooseObject).target);
  if (!target) {
    causes.push(fieldCauses.required('target'));
    return causes;
  }
  if (target.kind !== undefined && target.kind !== '' && target.kind !== 'Node') {
    causes.push(fieldCauses.notSupported('target.kind', target.kind, ['Node']));
  }
  if (typeof target.name !== 'string' || target.name === '') {
    causes.push(fieldCauses.required('target.name'));
  }
  return causes;
}

/**
 * Assigns `pod` (a copy of the stored pod, mutated in place) to the Binding's node as upstream's
 * binding storage does: the pod must not be terminating, assigned already, or held by scheduling gates
 * (each a `Conflict`); the Binding's annotations are copied onto the pod; `spec.nodeName` is set and the
 * `PodScheduled` condition becomes `True` (its transition time moves only when its status changes).
 * The uid precondition is checked by the caller (the registry's update path).
 * @category Registry
 */
export function assignPodToNode(pod: UnstructuredObject, binding: Binding, nowTimestamp: string): void {
  const name = String(pod.metadata?.name ?? '');
  const subject = { resource: 'pods', name };
  const nodeName = String(binding.target.name);
  if (pod.metadata?.deletionTimestamp) {
    throw errors.conflict(subject, `pod ${name} is being deleted, cannot be assigned to a host`);
  }
  const spec = asObject(pod.spec) ?? {};
  pod.spec = spec;
  if (typeof spec.nodeName === 'string' && spec.nodeName !== '') {
    throw errors.conflict(subject, `pod ${name} is already assigned to node "${spec.nodeName}"`);
  }
  if (Array.isArray(spec.schedulingGates) && spec.schedulingGates.length > 0) {
    throw errors.conflict(subject, `pod ${name} has non-empty .spec.schedulingGates`);
  }
  const annotations = binding.metadata?.annotations;
  if (annotations && Object.keys(annotations).length > 0) {
    const metadata = pod.metadata as LooseObject;
    metadata.annotations = { ...(asObject(metadata.annotations) ?? {}), ...annotations };
  }
  spec.nodeName = nodeName;

  const status = asObject(pod.status) ?? {};
  pod.status = status;
  const conditions = Array.isArray(status.conditions) ? [...(status.conditions as LooseObject[])] : [];
  const index = conditions.findIndex((c) => asObject(c)?.type === 'PodScheduled');
  const previous = index >= 0 ? asObject(conditions[index]) : undefined;
  const scheduled: LooseObject = {
    type: 'PodScheduled',
    status: 'True',
    lastTransitionTime:
      previous?.status === 'True' && previous.lastTransitionTime ? previous.lastTransitionTime : nowTimestamp,
  };
  if (index >= 0) conditions[index] = scheduled;
  else conditions.push(scheduled);
  status.conditions = conditions;
}
