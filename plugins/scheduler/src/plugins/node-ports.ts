// SPDX-License-Identifier: Apache-2.0
import {
  type CycleState,
  type FilterPlugin,
  type NodeInfo,
  type PreFilterExtensions,
  type PreFilterOutcome,
  type PreFilterPlugin,
  type SchedulerPlugin,
  SchedulingStatus,
  StateKey,
  type UsedHostPort,
} from '@cpkit/core';
import type { Pod } from 'kubernetes-types/core/v1.js';

/** @category Scheduler plugins */
export const nodePortsErrorReason = "node(s) didn't have free ports for the requested pod ports";

/** The address a host port without `hostIP` binds: every address. */
const bindAllHostIP = '0.0.0.0';

const preFilterStateKey = new StateKey<readonly UsedHostPort[]>('PreFilterNodePorts');

/**
 * The host ports a pod asks for (`hostPort > 0`) in its containers and its sidecar (restartable) init
 * containers, with upstream's defaults filled in: `hostIP` 0.0.0.0, `protocol` TCP.
 * @category Scheduler plugins
 */
export function podHostPorts(pod: Pod): UsedHostPort[] {
  const ports: UsedHostPort[] = [];
  const collect = (
    containerPorts: readonly { hostPort?: number; hostIP?: string; protocol?: string }[] = [],
  ): void => {
    for (const p of containerPorts) {
      if (p.hostPort !== undefined && p.hostPort > 0) {
        ports.push({
          hostIP: p.hostIP || bindAllHostIP,
          protocol: (p.protocol || 'TCP') as UsedHostPort['protocol'],
          port: p.hostPort,
        });
      }
    }
  };
  for (const container of pod.spec?.initContainers ?? []) {
    if (container.restartPolicy === 'Always') collect(container.ports);
  }
  for (const container of pod.spec?.containers ?? []) collect(container.ports);
  return ports;
}

/**
 * True when `wanted` collides with a port in `used`: same protocol and port, and either side binds every
 * address (0.0.0.0) or both bind the same address.
 * @category Scheduler plugins
 */
export function hostPortConflicts(wanted: UsedHostPort, used: readonly UsedHostPort[]): boolean {
  if (wanted.port <= 0) return false;
  const wantedIP = wanted.hostIP || bindAllHostIP;
  const wantedProtocol = wanted.protocol || 'TCP';
  for (let i = 0; i < used.length; i++) {
    const u = used[i];
    if (u.port !== wanted.port || (u.protocol || 'TCP') !== wantedProtocol) continue;
    const usedIP = u.hostIP || bindAllHostIP;
    if (wantedIP === bindAllHostIP || usedIP === bindAllHostIP || usedIP === wantedIP) return true;
  }
  return false;
}

/**
 * PreFilter and Filter `NodePorts`: a node fits when none of the pod's host ports is already in use there.
 * PreFilter collects the pod's host ports and skips the Filter for pods without any.
 * @category Scheduler plugins
 */
export class NodePorts implements PreFilterPlugin, FilterPlugin {
  static readonly pluginName = 'NodePorts';
  readonly name = NodePorts.pluginName;
  private readonly rejected = new SchedulingStatus(
    'Unschedulable',
    [nodePortsErrorReason],
    NodePorts.pluginName,
  );

  preFilter(state: CycleState, pod: Pod): PreFilterOutcome {
    const ports = podHostPorts(pod);
    if (ports.length === 0) return { status: SchedulingStatus.skip() };
    state.write(preFilterStateKey, ports);
    return { status: SchedulingStatus.success() };
  }

  preFilterExtensions(): PreFilterExtensions | undefined {
    return undefined;
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): SchedulingStatus {
    const wanted = state.read(preFilterStateKey) ?? podHostPorts(pod);
    const used = nodeInfo.usedPorts;
    if (wanted.length === 0 || used.length === 0) return SchedulingStatus.success();
    for (let i = 0; i < wanted.length; i++) if (hostPortConflicts(wanted[i], used)) return this.rejected;
    return SchedulingStatus.success();
  }
}

/** Registration of {@link NodePorts}; it takes no arguments. @category Scheduler plugins */
export const nodePortsRegistration: SchedulerPlugin = {
  name: NodePorts.pluginName,
  factory: () => new NodePorts(),
};
