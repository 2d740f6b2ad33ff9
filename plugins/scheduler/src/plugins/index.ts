// SPDX-License-Identifier: Apache-2.0
/**
 * The default scheduler plugins: their registrations (`defaultPluginRegistrations`, what the registry
 * holds) and the default profile (`defaultProfile`, which of them run and with what weights, as
 * upstream's kube-scheduler enables them).
 * @module
 */
import {
  DefaultSchedulerName,
  type SchedulerPlugin,
  type SchedulingPluginReference,
  type SchedulingProfile,
} from '@cpkit/core';
import { defaultBinderRegistration } from './default-binder.js';
import { defaultPreemptionRegistration } from './default-preemption.js';
import { imageLocalityRegistration } from './image-locality.js';
import { interPodAffinityRegistration } from './inter-pod-affinity.js';
import { nodeAffinityRegistration } from './node-affinity.js';
import { nodeNameRegistration } from './node-name.js';
import { nodePortsRegistration } from './node-ports.js';
import { nodeResourcesBalancedAllocationRegistration } from './node-resources-balanced-allocation.js';
import { nodeResourcesFitRegistration } from './node-resources-fit.js';
import { nodeUnschedulableRegistration } from './node-unschedulable.js';
import { podTopologySpreadRegistration } from './pod-topology-spread.js';
import { prioritySortRegistration } from './priority-sort.js';
import { schedulingGatesRegistration } from './scheduling-gates.js';
import { taintTolerationRegistration } from './taint-toleration.js';

export * from './default-binder.js';
export * from './default-normalize-score.js';
export * from './default-preemption.js';
export * from './image-locality.js';
export * from './inter-pod-affinity.js';
export * from './node-affinity.js';
export * from './node-name.js';
export * from './node-ports.js';
export * from './node-resources-balanced-allocation.js';
export * from './node-resources-fit.js';
export * from './node-selector.js';
export * from './node-unschedulable.js';
export * from './pod-topology-spread.js';
export * from './priority-sort.js';
export * from './resource-allocation.js';
export * from './scheduling-gates.js';
export * from './taint-toleration.js';
export * from './tolerations.js';

/**
 * The registration (`{ name, factory }`) of every default plugin. Put them in a `PluginRegistry`, next to
 * your own plugins: `new PluginRegistry([...defaultPluginRegistrations, myPlugin])`.
 * @category Scheduler plugins
 */
export const defaultPluginRegistrations: readonly SchedulerPlugin[] = [
  schedulingGatesRegistration,
  prioritySortRegistration,
  nodeUnschedulableRegistration,
  nodeNameRegistration,
  taintTolerationRegistration,
  nodeAffinityRegistration,
  nodePortsRegistration,
  nodeResourcesFitRegistration,
  podTopologySpreadRegistration,
  interPodAffinityRegistration,
  nodeResourcesBalancedAllocationRegistration,
  imageLocalityRegistration,
  defaultBinderRegistration,
  defaultPreemptionRegistration,
];

/**
 * Upstream's default plugin list (kube-scheduler's `getDefaultPlugins`, without the volume plugins), in
 * its order, with its Score weights. Each is enabled at every extension point it implements.
 */
const upstreamDefaultPlugins: readonly SchedulingPluginReference[] = [
  { name: 'SchedulingGates' },
  { name: 'PrioritySort' },
  { name: 'NodeUnschedulable' },
  { name: 'NodeName' },
  { name: 'TaintToleration', weight: 3 },
  { name: 'NodeAffinity', weight: 2 },
  { name: 'NodePorts' },
  { name: 'NodeResourcesFit', weight: 1 },
  { name: 'PodTopologySpread', weight: 2 },
  { name: 'InterPodAffinity', weight: 2 },
  { name: 'DefaultPreemption' },
  { name: 'NodeResourcesBalancedAllocation', weight: 1 },
  { name: 'ImageLocality', weight: 1 },
  { name: 'DefaultBinder' },
];

/**
 * A profile enabling, through `multiPoint` as upstream does, those of upstream's default plugins that
 * `registrations` contains, in upstream's order and with its weights (TaintToleration 3, NodeAffinity 2,
 * PodTopologySpread 2, InterPodAffinity 2, NodeResourcesFit 1, NodeResourcesBalancedAllocation 1,
 * ImageLocality 1).
 * @category Scheduler plugins
 */
export function defaultProfileFor(registrations: readonly SchedulerPlugin[]): SchedulingProfile {
  const registered = new Set(registrations.map((r) => r.name));
  return {
    schedulerName: DefaultSchedulerName,
    plugins: {
      multiPoint: {
        enabled: upstreamDefaultPlugins.filter((p) => registered.has(p.name)).map((p) => ({ ...p })),
      },
    },
  };
}

/**
 * The default profile, shaped like a KubeSchedulerConfiguration profile: every plugin of
 * {@link defaultPluginRegistrations} enabled through `multiPoint` with upstream's weights. A configured
 * profile is merged into it (disable a default with `plugins.<point>.disabled`, change a weight by
 * enabling it again with a new one).
 * @category Scheduler plugins
 */
export const defaultProfile: SchedulingProfile = defaultProfileFor(defaultPluginRegistrations);
