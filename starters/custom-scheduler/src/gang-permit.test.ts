// SPDX-License-Identifier: Apache-2.0
import {
  createLogger,
  PluginRegistry,
  podKey,
  SchedulingFramework,
  SchedulingSnapshot,
  type SchedulingStatus,
  type StatusError,
} from '@cpkit/core';
import { FakeClock, nodeFixture, podFixture } from '@cpkit/core/testing';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import {
  type GangPermitArgs,
  gangPermitRegistration,
  PodGroupLabel,
  PodGroupMinMemberAnnotation,
} from './gang-permit.js';

const nodes = [nodeFixture({ name: 'n1' }), nodeFixture({ name: 'n2' }), nodeFixture({ name: 'n3' })];

/** A member of gang `gang` needing `minMember` members (no annotation when undefined). */
function member(name: string, gang: string | undefined, minMember?: string, namespace = 'default'): Pod {
  const pod = podFixture({ name, namespace, labels: gang ? { [PodGroupLabel]: gang } : {} });
  // uid is read-only in kubernetes-types (the server sets it); the waiting-pod key is the uid.
  pod.metadata = { ...pod.metadata, uid: `uid-${namespace}-${name}` };
  if (minMember !== undefined) pod.metadata.annotations = { [PodGroupMinMemberAnnotation]: minMember };
  return pod;
}

/**
 * Plays the scheduler's part for GangPermit alone: each pod in turn gets a node (round-robin), is
 * assumed there (so the next cycle's snapshot holds it), Reserve and Permit run, and a Wait starts the
 * binding cycle's wait. `final` gives each pod's status once the fake clock has advanced
 * `advanceMs`; a pod whose wait fails is unreserved, as the scheduler does.
 */
async function schedule(
  pods: Pod[],
  options: { bound?: Pod[]; args?: GangPermitArgs; advanceMs?: number } = {},
) {
  const clock = new FakeClock();
  const framework = await SchedulingFramework.create({
    registry: new PluginRegistry([gangPermitRegistration]),
    profile: {
      plugins: { multiPoint: { enabled: [{ name: 'GangPermit' }] } },
      pluginConfig: options.args ? [{ name: 'GangPermit', args: options.args }] : [],
    },
    apiClient: undefined as never,
    logger: createLogger({ level: 'silent' }),
    clock,
    requireQueueSortAndBind: false,
  });
  const placed: Pod[] = [...(options.bound ?? [])];
  const permits: Record<string, string> = {};
  const outcomes: Record<string, Promise<SchedulingStatus>> = {};
  /** Final status per pod, once its wait ended. */
  const done: Record<string, string> = {};
  for (const [index, pod] of pods.entries()) {
    const nodeName = nodes[index % nodes.length].metadata!.name!;
    framework.setSnapshot(SchedulingSnapshot.fromObjects(nodes, placed));
    const assumed: Pod = { ...pod, spec: { ...pod.spec!, nodeName } };
    placed.push(assumed);
    const state = framework.newCycleState();
    expect((await framework.runReserve(state, assumed, nodeName)).code).toBe('Success');
    const permit = await framework.runPermit(state, assumed, nodeName);
    permits[pod.metadata!.name!] = permit.code;
    if (!permit.isSuccess() && !permit.isWait()) {
      outcomes[pod.metadata!.name!] = Promise.resolve(permit);
      done[pod.metadata!.name!] = permit.toString();
      continue;
    }
    outcomes[pod.metadata!.name!] = framework.waitOnPermit(assumed).then(async (status) => {
      if (!status.isSuccess()) {
        await framework.runUnreserve(state, assumed, nodeName);
        const i = placed.indexOf(assumed);
        if (i >= 0) placed.splice(i, 1);
      }
      done[pod.metadata!.name!] = status.toString();
      return status;
    });
  }
  if (options.advanceMs) await clock.advance(options.advanceMs);
  // Let allow/reject callbacks and the unreserves they start run to the end.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  const final: Record<string, string> = {};
  for (const name of Object.keys(outcomes)) final[name] = done[name] ?? 'Wait';
  return { permits, final, waiting: framework.waitingPods().map((w) => podKey(w.pod)) };
}

describe('GangPermit', () => {
  it.each([
    {
      name: 'a pod in no gang passes at once',
      pods: [member('solo', undefined)],
      permits: { solo: 'Success' },
      final: { solo: 'Success' },
    },
    {
      name: 'a gang member without the annotation is a gang of one',
      pods: [member('w0', 'train')],
      permits: { w0: 'Success' },
      final: { w0: 'Success' },
    },
    {
      name: 'members wait until the last one has a node, then all are allowed',
      pods: [member('w0', 'train', '3'), member('w1', 'train', '3'), member('w2', 'train', '3')],
      permits: { w0: 'Wait', w1: 'Wait', w2: 'Success' },
      final: { w0: 'Success', w1: 'Success', w2: 'Success' },
    },
    {
      name: 'members beyond min-member pass at once',
      pods: [member('w0', 'train', '2'), member('w1', 'train', '2'), member('w2', 'train', '2')],
      permits: { w0: 'Wait', w1: 'Success', w2: 'Success' },
      final: { w0: 'Success', w1: 'Success', w2: 'Success' },
    },
    {
      name: 'gangs are namespaced: a same-named gang elsewhere does not count',
      pods: [member('a0', 'train', '2', 'team-a'), member('b0', 'train', '2', 'team-b')],
      permits: { a0: 'Wait', b0: 'Wait' },
      final: { a0: 'Wait', b0: 'Wait' },
    },
    {
      name: 'an invalid min-member annotation is unresolvable, naming the annotation',
      pods: [member('w0', 'train', 'two')],
      permits: { w0: 'UnschedulableAndUnresolvable' },
      final: {
        w0: 'UnschedulableAndUnresolvable: plugin GangPermit: annotation pod-group.cpkit.io/min-member: invalid value "two": must be a positive integer',
      },
    },
  ])('$name', async ({ pods, permits, final }) => {
    const result = await schedule(pods);
    expect(result.permits).toEqual(permits);
    expect(result.final).toEqual(final);
  });

  it('counts members already bound (a replacement of a lost member passes at once)', async () => {
    const bound = [member('w0', 'train', '3'), member('w1', 'train', '3')].map((p, i) => ({
      ...p,
      spec: { ...p.spec!, nodeName: `n${i + 1}` },
    }));
    const result = await schedule([member('w2', 'train', '3')], { bound });
    expect(result.permits).toEqual({ w2: 'Success' });
  });

  it('rejects the whole gang when it does not come together in time', async () => {
    const result = await schedule([member('w0', 'train', '3'), member('w1', 'train', '3')], {
      args: { permitWaitingTimeSeconds: 2 },
      advanceMs: 2000,
    });
    expect(result.permits).toEqual({ w0: 'Wait', w1: 'Wait' });
    // w0 and w1 time out at the same instant; whichever is unreserved first rejects the other.
    expect(Object.values(result.final).sort()).toEqual(
      [
        'Unschedulable: plugin GangPermit: gang default/train was rejected: member w0 could not be scheduled',
        'Unschedulable: plugin GangPermit: rejected due to timeout after waiting 2s at plugin GangPermit',
      ].sort(),
    );
    expect(result.waiting).toEqual([]);
  });

  it('keeps waiting before the timeout', async () => {
    const result = await schedule([member('w0', 'train', '3'), member('w1', 'train', '3')], {
      args: { permitWaitingTimeSeconds: 2 },
      advanceMs: 1999,
    });
    expect(result.final).toEqual({ w0: 'Wait', w1: 'Wait' });
    expect(result.waiting.sort()).toEqual(['uid-default-w0', 'uid-default-w1']);
  });

  it.each([
    [{ permitWaitingTimeSeconds: 0 }, 'permitWaitingTimeSeconds: Invalid value: 0'],
    [{ permitWaitingTimeSeconds: 901 }, 'permitWaitingTimeSeconds: Invalid value: 901'],
    [{ permitWaitingTimeSeconds: '60s' }, 'permitWaitingTimeSeconds: Invalid value: "60s"'],
    [{ timeout: 5 }, 'timeout: unknown field "timeout"'],
  ])('rejects args %j naming the field', async (args, message) => {
    const error = (await Promise.resolve()
      .then(() => gangPermitRegistration.factory(args as GangPermitArgs, undefined as never))
      .catch((e: unknown) => e)) as StatusError;
    expect(error.reason).toBe('Invalid');
    expect(error.message).toContain(message);
  });
});
