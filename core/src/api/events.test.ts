// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { newEvent, objectReference } from './events.js';
import { formatTimestamp } from './time.js';

const pod = { metadata: { name: 'web', namespace: 'apps', uid: 'u1', resourceVersion: '7' } };
const podKind = { apiVersion: 'v1', kind: 'Pod' };

describe('formatTimestamp', () => {
  it('writes RFC 3339 UTC with whole seconds, truncating', () => {
    expect(formatTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 999))).toBe('2026-01-02T03:04:05Z');
  });
});

describe('objectReference', () => {
  it('takes the kind from the object, else the fallback; the resourceVersion only when asked', () => {
    expect(objectReference(pod, podKind)).toEqual({ ...podKind, namespace: 'apps', name: 'web', uid: 'u1' });
    expect(
      objectReference({ ...pod, apiVersion: 'apps/v1', kind: 'Deployment' }, podKind, {
        resourceVersion: true,
      }),
    ).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'apps',
      name: 'web',
      uid: 'u1',
      resourceVersion: '7',
    });
  });
});

describe('newEvent', () => {
  const base = {
    regarding: objectReference(pod, podKind),
    type: 'Warning' as const,
    reason: 'FailedScheduling',
    action: 'Scheduling',
    message: '0/1 nodes are available',
    reportingComponent: 'default-scheduler',
    nowMs: Date.UTC(2026, 0, 1, 12, 0, 0, 250),
  };

  it('is an upstream-shaped Event in the object namespace, named <object>.<hex nanoseconds>', () => {
    const event = newEvent(base);
    expect(event).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'apps', name: `web.${(BigInt(base.nowMs) * 1_000_000n).toString(16)}` },
      involvedObject: base.regarding,
      type: 'Warning',
      reason: 'FailedScheduling',
      action: 'Scheduling',
      source: { component: 'default-scheduler' },
      reportingComponent: 'default-scheduler',
      reportingInstance: 'default-scheduler',
      firstTimestamp: '2026-01-01T12:00:00Z',
      lastTimestamp: '2026-01-01T12:00:00Z',
      count: 1,
    });
    expect(event).not.toHaveProperty('related');
  });

  it('tells events of the same millisecond apart by the sequence, and carries a related object', () => {
    const related = objectReference({ metadata: { name: 'preemptor', namespace: 'apps' } }, podKind);
    const first = newEvent({ ...base, sequence: 1 });
    const second = newEvent({ ...base, sequence: 2, related });
    expect(first.metadata?.name).not.toBe(second.metadata?.name);
    expect(second.related).toEqual(related);
  });
});
