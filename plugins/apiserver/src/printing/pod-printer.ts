// SPDX-License-Identifier: Apache-2.0
import type { Pod, PodCondition } from '@cpkit/core';
import { parseTimestamp, timestampSince } from './duration.js';
import type { PodContainer } from './format.js';
import { ageColumn, column, type KindPrinter, nameColumn, type TableRowCondition } from './table.js';

// The reason the node lifecycle controller sets on pods of an unreachable node.
const nodeUnreachablePodReason = 'NodeLost';

function isRestartableInitContainer(container: PodContainer | undefined): boolean {
  return container?.restartPolicy === 'Always';
}

function conditionIsTrue(conditions: PodCondition[] | undefined, type: string): boolean {
  return (conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** The Status, Ready and Restarts values kubectl shows for a pod (upstream `printPod`). */
export interface PodSummary {
  /** `Running`, `Pending`, `Init:0/1`, `CrashLoopBackOff`, `Completed`, `Terminating`, ... */
  status: string;
  /** `ready/total`. */
  ready: string;
  /** `0`, or `3 (5m ago)` when the last restart time is known. */
  restarts: string;
}

/**
 * Computes a pod's STATUS, READY and RESTARTS cells as upstream's printer does: the phase or
 * `status.reason`; the first unfinished init container (`Init:1/3`, `Init:CrashLoopBackOff`,
 * `Init:ExitCode:1`); then the containers' waiting or terminated reasons; `Terminating` once
 * `deletionTimestamp` is set on a pod that has not finished. Sidecars (init containers with
 * `restartPolicy: Always`) count towards READY and RESTARTS.
 * @category API server
 */
export function summarizePod(pod: Pod, now: number): PodSummary {
  const spec = pod.spec;
  const status = pod.status ?? {};
  const initContainers = new Map((spec?.initContainers ?? []).map((c) => [c.name, c]));
  let totalContainers = spec?.containers?.length ?? 0;
  for (const container of initContainers.values()) {
    if (isRestartableInitContainer(container)) totalContainers++;
  }
  let readyContainers = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart: number | undefined;
  let lastSidecarRestart: number | undefined;
  const later = (a: number | undefined, b: string | undefined): number | undefined => {
    const at = parseTimestamp(b);
    return at !== undefined && (a === undefined || at > a) ? at : a;
  };

  const phase = status.phase ?? '';
  let reason = status.reason || phase;
  if ((status.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) {
    reason = 'SchedulingGated';
  }

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const container = initStatuses[i];
    const restartable = isRestartableInitContainer(initContainers.get(container.name));
    restarts += container.restartCount ?? 0;
    lastRestart = later(lastRestart, container.lastState?.terminated?.finishedAt);
    if (restartable) {
      sidecarRestarts += container.restartCount ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, container.lastState?.terminated?.finishedAt);
    }
    const terminated = container.state?.terminated;
    const waiting = container.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (restartable && container.started) {
      if (container.ready) readyContainers++;
      continue;
    }
    // This init container has not finished: it decides the status and the later ones do not.
    if (terminated) {
      if (terminated.reason) reason = `Init:${terminated.reason}`;
      else if (terminated.signal) reason = `Init:Signal:${terminated.signal}`;
      else reason = `Init:ExitCode:${terminated.exitCode}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${spec?.initContainers?.length ?? 0}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionIsTrue(status.conditions, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    // Walk backwards so that the first container's reason wins, as upstream does.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i];
      restarts += container.restartCount ?? 0;
      lastRestart = later(lastRestart, container.lastState?.terminated?.finishedAt);
      const waiting = container.state?.waiting;
      const terminated = container.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated?.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      } else if (container.ready && container.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A pod whose first container completed while another still runs is not "Completed".
    if (reason === 'Completed' && hasRunning) {
      reason = conditionIsTrue(status.conditions, 'Ready') ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata?.deletionTimestamp) {
    if (status.reason === nodeUnreachablePodReason) reason = 'Unknown';
    else if (phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  }

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) {
    restartsCell = `${restarts} (${timestampSince(new Date(lastRestart).toISOString(), now)} ago)`;
  }
  return { status: reason, ready: `${readyContainers}/${totalContainers}`, restarts: restartsCell };
}

/**
 * Pods: `NAME READY STATUS RESTARTS AGE`, wide `IP NODE NOMINATED NODE READINESS GATES`.
 * @category API server
 */
export const podPrinter: KindPrinter<Pod> = {
  columns: [
    nameColumn,
    column('Ready', 'string', 'Ready containers out of all containers (sidecars included).'),
    column('Status', 'string', 'The aggregate status of the pod and its containers.'),
    column('Restarts', 'string', 'Container restarts, and how long ago the last one was.'),
    ageColumn,
    column('IP', 'string', 'The first IP address assigned to the pod.', { priority: 1 }),
    column('Node', 'string', 'The node the pod is bound to.', { priority: 1 }),
    column('Nominated Node', 'string', 'The node preemption nominated for the pod.', { priority: 1 }),
    column('Readiness Gates', 'string', 'True readiness gates out of all readiness gates.', { priority: 1 }),
  ],
  cells(pod, now) {
    const summary = summarizePod(pod, now);
    const gates = pod.spec?.readinessGates ?? [];
    let readinessGates = '<none>';
    if (gates.length > 0) {
      // Only the first condition of each type counts, as upstream.
      const passed = gates.filter(
        (gate) => pod.status?.conditions?.find((c) => c.type === gate.conditionType)?.status === 'True',
      ).length;
      readinessGates = `${passed}/${gates.length}`;
    }
    return [
      pod.metadata?.name ?? '',
      summary.ready,
      summary.status,
      summary.restarts,
      timestampSince(pod.metadata?.creationTimestamp, now),
      pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || '<none>',
      pod.spec?.nodeName || '<none>',
      pod.status?.nominatedNodeName || '<none>',
      readinessGates,
    ];
  },
  conditions(pod): TableRowCondition[] | undefined {
    // kubectl reads these to tell finished pods apart.
    if (pod.status?.phase === 'Succeeded') {
      return [
        {
          type: 'Completed',
          status: 'True',
          reason: 'Succeeded',
          message: 'The pod has completed successfully.',
        },
      ];
    }
    if (pod.status?.phase === 'Failed') {
      return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
    }
    return undefined;
  },
};
