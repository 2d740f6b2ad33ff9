// SPDX-License-Identifier: Apache-2.0
import {
  ApiClient,
  Clock,
  ContainerModule,
  Logger,
  MetricsRegistry,
  Runnable,
  SchedulerPlugin,
  SharedInformerFactory,
} from '@cpkit/core';
import { defaultPluginRegistrations, defaultProfileFor } from './plugins/index.js';
import { Scheduler, SchedulerPluginCheck } from './scheduler/scheduler.js';
import {
  loadSchedulerConfigurationSync,
  type SchedulerConfiguration,
  validateSchedulerConfiguration,
} from './scheduler/scheduler-configuration.js';

/** Options of {@link schedulerModule}. @category Scheduler */
export interface SchedulerModuleOptions {
  /**
   * The configuration: an object shaped like KubeSchedulerConfiguration, or the path of a YAML (or JSON)
   * file holding one. Absent: one `default-scheduler` profile with the default plugins.
   */
  config?: SchedulerConfiguration | string;
  /**
   * Plugins to register besides the default ones (a profile still has to enable them). Plugins bound
   * to the `SchedulerPlugin` contribution point by other modules are registered too.
   */
  registrations?: readonly SchedulerPlugin[];
  /** How long an assumed pod may wait for its binding to be observed. Default 15 minutes. */
  assumedPodTtlMs?: number;
}

/**
 * Binds the {@link Scheduler} (its class is its service identifier) as a `Runnable` that needs leader
 * election and starts after `system-namespaces`. The configuration is read and checked here, when the
 * module is made: a bad file throws a `StatusError` (`BadRequest` when unreadable, `Invalid` naming the
 * exact field otherwise), and unknown plugin names fail the control plane's build.
 *
 * ```ts
 * new ControlPlaneBuilder().withModules(..., schedulerModule({ config: '/etc/cpkit/scheduler.yaml' }));
 * ```
 * @category Scheduler
 */
export function schedulerModule(options: SchedulerModuleOptions = {}): ContainerModule {
  const configuration =
    typeof options.config === 'string'
      ? loadSchedulerConfigurationSync(options.config)
      : options.config === undefined
        ? undefined
        : validateSchedulerConfiguration(options.config);
  return new ContainerModule((bind) => {
    bind(Scheduler)
      .toDynamicValue(({ container }) => {
        const contributed = container.isBound(SchedulerPlugin)
          ? container.getAll<SchedulerPlugin>(SchedulerPlugin)
          : [];
        const registrations = [
          ...defaultPluginRegistrations,
          ...(options.registrations ?? []),
          ...contributed,
        ];
        return new Scheduler({
          apiClient: container.get<ApiClient>(ApiClient),
          logger: container.get<Logger>(Logger),
          metrics: container.get<MetricsRegistry>(MetricsRegistry),
          registrations,
          defaultProfile: defaultProfileFor(registrations),
          configuration,
          clock: container.isBound(Clock) ? container.get<Clock>(Clock) : undefined,
          informerFactory: container.isBound(SharedInformerFactory)
            ? container.get<SharedInformerFactory>(SharedInformerFactory)
            : undefined,
          assumedPodTtlMs: options.assumedPodTtlMs,
          dependsOn: ['system-namespaces', 'scheduler-plugin-check'],
        });
      })
      .inSingletonScope();
    bind(Runnable).toService(Scheduler);
    bind(SchedulerPluginCheck)
      .toDynamicValue(({ container }) => new SchedulerPluginCheck(container.get(Scheduler)))
      .inSingletonScope();
    bind(Runnable).toService(SchedulerPluginCheck);
  });
}
