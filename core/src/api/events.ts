// SPDX-License-Identifier: Apache-2.0
import type { Event, ObjectReference } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from './object.js';
import { formatTimestamp } from './time.js';

/** What an event says, and about what. @category API */
export interface EventOptions {
  /** The object the event is about (`involvedObject`). */
  regarding: ObjectReference;
  /** A second object the event involves (upstream's `related`, e.g. the preemptor of a victim). */
  related?: ObjectReference;
  type: 'Normal' | 'Warning';
  /** Short CamelCase reason, e.g. `Scheduled`, `FailedScheduling`, `Preempted`. */
  reason: string;
  /** What the reporter did or failed to do, e.g. `Binding`, `Scheduling`, `Preempting`. */
  action: string;
  message: string;
  /** The component that reports, e.g. `default-scheduler`. */
  reportingComponent: string;
  /** Milliseconds since the epoch (from the caller's clock, so fake clocks work). */
  nowMs: number;
  /**
   * Makes names unique when one reporter writes several events about one object within the same
   * millisecond (a per-reporter counter). Default 0.
   */
  sequence?: number;
}

/**
 * A reference to `object` for an event, with `fallback` for an object that does not carry its
 * apiVersion/kind (test fixtures, objects built in code).
 * @category API
 */
export function objectReference(
  object: KubeObject,
  fallback: { apiVersion: string; kind: string },
  options: { resourceVersion?: boolean } = {},
): ObjectReference {
  const metadata = object.metadata;
  return {
    apiVersion: object.apiVersion ?? fallback.apiVersion,
    kind: object.kind ?? fallback.kind,
    namespace: metadata?.namespace,
    name: metadata?.name,
    uid: metadata?.uid,
    ...(options.resourceVersion ? { resourceVersion: metadata?.resourceVersion } : {}),
  };
}

/**
 * A core/v1 Event as upstream's event recorder writes it: named `<object>.<hex nanoseconds>` in the
 * object's namespace, with `source`/`reportingComponent`/`reportingInstance`, first and last
 * timestamps and a count of 1. Writing it is the caller's job (best effort, usually).
 * @category API
 */
export function newEvent(options: EventOptions): Event {
  const now = formatTimestamp(options.nowMs);
  const nanos = BigInt(Math.floor(options.nowMs)) * 1_000_000n + BigInt((options.sequence ?? 0) % 1_000_000);
  const { regarding } = options;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: `${regarding.name ?? 'object'}.${nanos.toString(16)}`,
      namespace: regarding.namespace ?? 'default',
    },
    involvedObject: regarding,
    ...(options.related ? { related: options.related } : {}),
    type: options.type,
    reason: options.reason,
    action: options.action,
    message: options.message,
    source: { component: options.reportingComponent },
    reportingComponent: options.reportingComponent,
    reportingInstance: options.reportingComponent,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}
