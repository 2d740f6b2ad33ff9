// SPDX-License-Identifier: Apache-2.0
import { ContainerModule } from 'inversify';
import { LeaderElectionGate } from '../builder/leader-election-gate.js';
import { Clock } from '../clock/clock.js';
import { ApiClient } from '../contracts/api-client.js';
import { Runnable } from '../contracts/runnable.js';
import { Logger } from '../observability/logger.js';
import { LeaderElector, type LeaderElectorOptions } from './leader-elector.js';

/** Options of {@link leaderElectionModule}: the elector's, minus what the container provides. @category Leader election */
export type LeaderElectionModuleOptions = Omit<LeaderElectorOptions, 'client' | 'clock' | 'logger'>;

/**
 * Binds one {@link LeaderElector} on the container's ApiClient (and Clock and Logger when bound) as
 * the control plane's `LeaderElectionGate` and as a `Runnable`, so runnables with
 * `needsLeaderElection` run only on the leader.
 * @category Leader election
 */
export function leaderElectionModule(options: LeaderElectionModuleOptions): ContainerModule {
  return new ContainerModule((bind) => {
    bind(LeaderElector)
      .toDynamicValue(({ container }) => {
        const logger = container.isBound(Logger) ? container.get<Logger>(Logger) : undefined;
        return new LeaderElector({
          ...options,
          client: container.get<ApiClient>(ApiClient),
          clock: container.isBound(Clock) ? container.get<Clock>(Clock) : undefined,
          logger,
        });
      })
      .inSingletonScope();
    bind(LeaderElectionGate).toService(LeaderElector);
    bind(Runnable).toService(LeaderElector);
  });
}
