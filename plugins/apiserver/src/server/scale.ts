// SPDX-License-Identifier: Apache-2.0
import { errors, type KubeObject } from '@cpkit/core';

/** An `autoscaling/v1` Scale, the view the `scale` subresource gives of a workload. @category API server */
export interface Scale {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
  };
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A LabelSelector in the string syntax (`app=web,tier in (a,b)`), sorted by key as upstream prints it. */
export function selectorString(selector: LabelSelector | undefined): string {
  if (!selector) return '';
  const parts: [string, string][] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) parts.push([key, `${key}=${value}`]);
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const list = [...values].sort().join(',');
    const text =
      operator === 'In'
        ? `${key} in (${list})`
        : operator === 'NotIn'
          ? `${key} notin (${list})`
          : operator === 'Exists'
            ? key
            : `!${key}`;
    parts.push([key, text]);
  }
  return parts
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, text]) => text)
    .join(',');
}

/** The Scale of a deployment, replica set or stateful set. @category API server */
export function scaleOf(object: KubeObject): Scale {
  const spec = (object as { spec?: { replicas?: number; selector?: LabelSelector } }).spec ?? {};
  const status = (object as { status?: { replicas?: number } }).status ?? {};
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata ?? {};
  const selector = selectorString(spec.selector);
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    // Upstream defaults replicas to 1; an absent value reads as that.
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, ...(selector ? { selector } : {}) },
  };
}

/**
 * Applies a written Scale to its object: only `spec.replicas` changes, under the Scale's
 * resourceVersion when it carries one (so a stale Scale is a Conflict).
 * @throws StatusError `Invalid` for replicas that are not a non-negative integer.
 */
export function applyScale(object: KubeObject, scale: unknown): KubeObject {
  const written = (scale ?? {}) as {
    spec?: { replicas?: unknown };
    metadata?: { resourceVersion?: unknown };
  };
  const replicas = written.spec?.replicas ?? 0;
  const name = object.metadata?.name ?? '';
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw errors.invalid(
      'Scale',
      name,
      [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'must be a non-negative integer' }],
      'autoscaling',
    );
  }
  const updated = structuredClone(object) as KubeObject & { spec?: Record<string, unknown> };
  updated.spec = { ...(updated.spec ?? {}), replicas };
  const resourceVersion = written.metadata?.resourceVersion;
  if (typeof resourceVersion === 'string' && resourceVersion !== '') {
    (updated.metadata as Record<string, unknown>).resourceVersion = resourceVersion;
  }
  return updated;
}
