// SPDX-License-Identifier: Apache-2.0
import {
  type BindPlugin,
  type CycleState,
  type SchedulerPlugin,
  type SchedulingFrameworkHandle,
  SchedulingStatus,
} from '@cpkit/core';
import type { Binding, Pod } from 'kubernetes-types/core/v1.js';

/**
 * Bind `DefaultBinder`: binds the pod by creating its `pods/binding` subresource through the ApiClient
 * (the binding carries the pod's uid, so a pod deleted and re-created under the same name is not bound by
 * mistake). A failed call becomes an Error status, which sends the pod back to the queue.
 * @category Scheduler plugins
 */
export class DefaultBinder implements BindPlugin {
  static readonly pluginName = 'DefaultBinder';
  readonly name = DefaultBinder.pluginName;

  constructor(private readonly handle: SchedulingFrameworkHandle) {}

  async bind(_state: CycleState, pod: Pod, nodeName: string): Promise<SchedulingStatus> {
    const binding: Binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
      target: { kind: 'Node', name: nodeName },
    };
    try {
      await this.handle.apiClient.bind(binding, { namespace: pod.metadata?.namespace });
    } catch (error) {
      return SchedulingStatus.error(error, this.name);
    }
    return SchedulingStatus.success();
  }
}

/** Registration of {@link DefaultBinder}; it takes no arguments. @category Scheduler plugins */
export const defaultBinderRegistration: SchedulerPlugin = {
  name: DefaultBinder.pluginName,
  factory: (_args, handle) => new DefaultBinder(handle),
};
