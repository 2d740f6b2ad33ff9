// SPDX-License-Identifier: Apache-2.0
/**
 * GangPermit: co-scheduling for pods that are useless alone (the workers of a distributed training job,
 * an MPI ring). Pods of one gang share the label `pod-group.cpkit.io/name`; the annotation
 * `pod-group.cpkit.io/min-member` says how many of them must have a node before any is bound. Members
 * are held at Permit until enough of them have a reserved node, then all are let go together; if the
 * gang does not come together in time, every waiting member is rejected, so no member keeps a node
 * the others cannot use.
 * @module
 */
import {
  type CycleState,
  errors,
  type PermitOutcome,
  type PermitPlugin,
  podKey,
  type ReservePlugin,
  type SchedulerPlugin,
  type SchedulingFrameworkHandle,
  SchedulingStatus,
  type StatusCause,
} from '@cpkit/core';
import type { Pod } from 'kubernetes-types/core/v1.js';

/** The label naming a pod's gang (within its namespace). @category Custom scheduler */
export const PodGroupLabel = 'pod-group.cpkit.io/name';
/** The annotation giving how many members must have a node before any is bound. @category Custom scheduler */
export const PodGroupMinMemberAnnotation = 'pod-group.cpkit.io/min-member';

/** Arguments of {@link GangPermit}. @category Custom scheduler */
export interface GangPermitArgs {
  /**
   * How long a member waits at Permit for the rest of its gang before the whole gang is rejected (and
   * retried with backoff). Seconds, fractions allowed, at most 900 (the framework's limit). Default 60.
   */
  permitWaitingTimeSeconds?: number;
}

/** The plugin's name, as profiles refer to it. @category Custom scheduler */
export const GangPermitName = 'GangPermit';

const defaultWaitingTimeSeconds = 60;
const maxWaitingTimeSeconds = 15 * 60;

/** A pod's gang, read from its label and annotation. */
interface Gang {
  /** `namespace/name`: gangs are namespaced. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly minMember: number;
}

/** The pod's gang; `undefined` for a pod in none; a string describing what is wrong with its annotation. */
function gangOf(pod: Pod): Gang | string | undefined {
  const name = pod.metadata?.labels?.[PodGroupLabel];
  if (name === undefined || name === '') return undefined;
  const namespace = pod.metadata?.namespace ?? 'default';
  const annotation = pod.metadata?.annotations?.[PodGroupMinMemberAnnotation];
  // Without the annotation a gang member is scheduled alone (a gang of one).
  const minMember = annotation === undefined ? 1 : Number(annotation);
  if (!Number.isInteger(minMember) || minMember < 1) {
    return `annotation ${PodGroupMinMemberAnnotation}: invalid value "${annotation}": must be a positive integer`;
  }
  return { key: `${namespace}/${name}`, namespace, name, minMember };
}

/**
 * Holds the members of a gang at Permit until `min-member` of them have a node.
 *
 * - **Permit** counts the gang's members that already have a node in the scheduler's snapshot (bound,
 *   or assumed and waiting at Permit) plus this one. Enough: it allows every waiting member through
 *   the framework handle and returns Success. Not enough: it returns Wait with the configured timeout.
 * - **Unreserve** runs when a member fails after Reserve: its own Permit timed out, it was rejected, or
 *   binding failed. It rejects every other waiting member of the gang, so the gang releases its nodes
 *   together and is retried together.
 *
 * The plugin's only state is the set of waiting members per gang; Permit runs once per pod (not per
 * node), so scanning the snapshot there is affordable.
 * @category Custom scheduler
 */
export class GangPermit implements ReservePlugin, PermitPlugin {
  readonly name = GangPermitName;
  /** Gang key → pod keys of the members waiting at Permit. */
  readonly #waiting = new Map<string, Set<string>>();

  constructor(
    private readonly handle: SchedulingFrameworkHandle,
    private readonly timeoutMs: number,
  ) {}

  reserve(): SchedulingStatus {
    // Nothing to reserve: the scheduler has already assumed the pod on its node, and Permit counts that.
    return SchedulingStatus.success();
  }

  unreserve(_state: CycleState, pod: Pod): void {
    const gang = gangOf(pod);
    if (gang === undefined || typeof gang === 'string') return;
    const waiting = this.#waiting.get(gang.key);
    if (waiting === undefined) return;
    // Forget the gang before rejecting: each rejected member's own Unreserve then finds nothing to do.
    this.#waiting.delete(gang.key);
    const self = podKey(pod);
    const message = `gang ${gang.key} was rejected: member ${pod.metadata?.name} could not be scheduled`;
    for (const key of waiting) if (key !== self) this.handle.rejectWaitingPod(key, this.name, message);
  }

  permit(_state: CycleState, pod: Pod): PermitOutcome {
    const gang = gangOf(pod);
    if (gang === undefined) return { status: SchedulingStatus.success() };
    if (typeof gang === 'string') return { status: SchedulingStatus.unschedulableAndUnresolvable(gang) };
    const self = podKey(pod);
    const placed = this.#countPlaced(gang, self) + 1;
    if (placed >= gang.minMember) {
      const waiting = this.#waiting.get(gang.key);
      this.#waiting.delete(gang.key);
      for (const key of waiting ?? []) this.handle.getWaitingPod(key)?.allow(this.name);
      return { status: SchedulingStatus.success() };
    }
    let waiting = this.#waiting.get(gang.key);
    if (waiting === undefined) {
      waiting = new Set();
      this.#waiting.set(gang.key, waiting);
    }
    waiting.add(self);
    return {
      status: SchedulingStatus.wait(
        `waiting for gang ${gang.key}: ${placed}/${gang.minMember} members have a node`,
      ),
      timeoutMs: this.timeoutMs,
    };
  }

  /** Members of `gang` other than `self` that have a node in the snapshot (bound or assumed). */
  #countPlaced(gang: Gang, self: string): number {
    let count = 0;
    for (const nodeInfo of this.handle.nodeInfos().list()) {
      for (const { pod } of nodeInfo.pods) {
        const metadata = pod.metadata;
        if (
          metadata?.labels?.[PodGroupLabel] === gang.name &&
          (metadata.namespace ?? 'default') === gang.namespace &&
          podKey(pod) !== self
        ) {
          count++;
        }
      }
    }
    return count;
  }
}

/**
 * Checks `pluginConfig[].args` and returns the Permit timeout in milliseconds. Throws `Invalid` naming
 * the field.
 * @category Custom scheduler
 */
export function gangPermitTimeoutMs(args: unknown): number {
  if (args === undefined || args === null) return defaultWaitingTimeSeconds * 1000;
  const causes: StatusCause[] = [];
  if (typeof args !== 'object' || Array.isArray(args)) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'args',
      message: 'must be an object (GangPermitArgs)',
    });
    throw errors.invalid('GangPermitArgs', GangPermitName, causes);
  }
  const { permitWaitingTimeSeconds, ...unknown } = args as Record<string, unknown>;
  for (const field of Object.keys(unknown)) {
    causes.push({ reason: 'FieldValueNotSupported', field, message: `unknown field "${field}"` });
  }
  const seconds = permitWaitingTimeSeconds ?? defaultWaitingTimeSeconds;
  if (typeof seconds !== 'number' || !(seconds > 0) || seconds > maxWaitingTimeSeconds) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'permitWaitingTimeSeconds',
      message: `Invalid value: ${JSON.stringify(seconds)}: must be a number of seconds in (0, ${maxWaitingTimeSeconds}]`,
    });
  }
  if (causes.length > 0) throw errors.invalid('GangPermitArgs', GangPermitName, causes);
  return Math.round((seconds as number) * 1000);
}

/**
 * The registration for the plugin registry. Enable it with `multiPoint` (it implements Reserve and
 * Permit, and needs both).
 * @category Custom scheduler
 */
export const gangPermitRegistration: SchedulerPlugin<GangPermitArgs> = {
  name: GangPermitName,
  factory: (args, handle) => new GangPermit(handle, gangPermitTimeoutMs(args)),
};
