// SPDX-License-Identifier: Apache-2.0
// The cpkit scheduler as a process of its own, reaching the API server only over HTTPS:
//   node --conditions=source --import tsx scheduler-child.ts <kubeconfig path> <identity>
// Leader election (a Lease), the system-namespaces check and the scheduler's informers and bindings
// all go through HttpApiClient. Logs JSON lines; SIGTERM stops it cleanly.
import {
  ContainerModule,
  ControlPlaneBuilder,
  createLogger,
  httpApiClientModule,
  Logger,
  leaderElectionModule,
  systemNamespacesModule,
} from '@cpkit/core';
import { schedulerModule } from '@cpkit/scheduler';

const [kubeconfig = '', identity = 'scheduler-child'] = process.argv.slice(2);
const logger = createLogger({ level: process.env.CPKIT_LOG_LEVEL ?? 'info', name: 'scheduler-child' });
const controlPlane = await new ControlPlaneBuilder({ gracePeriodMs: 5000 })
  .withModules(
    new ContainerModule((bind) => bind(Logger).toConstantValue(logger)),
    httpApiClientModule({ kubeconfig }), // ApiClient = HTTPS to the API server, no Store, no Registry
    systemNamespacesModule(),
    leaderElectionModule({
      leaseName: 'cpkit-remote-scheduler',
      leaseNamespace: 'kube-system',
      identity,
      dependsOn: ['system-namespaces'],
    }),
    schedulerModule(),
  )
  .build();
await controlPlane.start();
logger.info('scheduler process started');
process.once('SIGTERM', () => {
  void controlPlane.stop().then(() => process.exit(0));
});
