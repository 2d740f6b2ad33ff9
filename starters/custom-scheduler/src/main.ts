#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
/**
 * The custom-scheduler starter: a cpkit control plane in one process whose scheduler runs two plugins
 * written for it, NodeLabelPacking (Score) and GangPermit (Permit), enabled by `scheduler-config.yaml`.
 *
 * Fork it: replace the plugins in `registrations` with yours and enable them in the YAML file.
 *
 *   npm start -w @cpkit/starter-custom-scheduler -- --in-memory --demo
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import {
  ContainerModule,
  ControlPlaneBuilder,
  createLogger,
  inProcessApiClientModule,
  Logger,
  leaderElectionModule,
  namespaceFinalizerModule,
  registryModule,
  systemNamespacesModule,
} from '@cpkit/core';
import { schedulerModule } from '@cpkit/scheduler';
import { embeddedStoreModule, openEmbeddedStore } from '@cpkit/store-embedded';
import pretty from 'pino-pretty';
import { demoWorkloadModule } from './demo-workload.js';
import { customPluginRegistrations, customSchedulerConfigPath } from './index.js';

const { values: options } = parseArgs({
  options: {
    config: { type: 'string', default: customSchedulerConfigPath }, // the KubeSchedulerConfiguration file
    'data-dir': { type: 'string', default: '.cpkit-custom-scheduler' },
    'in-memory': { type: 'boolean', default: false },
    'log-level': { type: 'string', default: process.env.CPKIT_LOG_LEVEL ?? 'info' },
    demo: { type: 'boolean', default: false }, // create a few nodes and pods and log where they land
  },
});
const logger = createLogger({
  level: options['log-level'],
  name: 'cpkit-custom-scheduler',
  // Readable lines at a terminal; JSON (one object per line) when piped to a log collector.
  destination: process.stdout.isTTY
    ? pretty({
        colorize: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,name',
        singleLine: true,
        sync: true,
      })
    : undefined,
});

const store = await openEmbeddedStore(options['in-memory'] ? {} : { path: options['data-dir'] });
try {
  const controlPlane = await new ControlPlaneBuilder()
    .withModules(
      new ContainerModule((bind) => bind(Logger).toConstantValue(logger)), // structured logs (pino)
      embeddedStoreModule(store), //         Store: MVCC in memory, durable in SQLite
      registryModule(), //                    Scheme with the built-in kinds + Registry
      inProcessApiClientModule(), //          ApiClient for the components in this process
      systemNamespacesModule(), //            default, kube-system, kube-public, kube-node-lease
      namespaceFinalizerModule(), //          empties deleted namespaces so `kubectl delete namespace` finishes
      leaderElectionModule({
        leaseName: 'cpkit-custom-scheduler', // one active scheduler per data directory
        leaseNamespace: 'kube-system',
        identity: `${hostname()}_${randomUUID()}`,
        dependsOn: ['system-namespaces'],
      }),
      schedulerModule({
        config: options.config, //           profiles: default plugins + NodeLabelPacking + GangPermit
        registrations: customPluginRegistrations, // makes our plugin names known to the registry
      }),
      ...(options.demo ? [demoWorkloadModule()] : []), // nodes + pods to watch the plugins decide
    )
    .build();
  logger.info({ config: options.config }, 'control plane wired; starting (Ctrl-C stops it)');
  const report = await controlPlane.runUntilSignal();
  logger.info({ report }, 'control plane stopped');
} catch (error) {
  // A bad configuration file or unknown plugin name lands here, naming the field and the reason.
  logger.fatal({ err: error }, error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
} finally {
  await store.close();
}
