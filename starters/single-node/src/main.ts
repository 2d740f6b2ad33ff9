#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
/**
 * The single-node starter: a whole cpkit control plane in one process, on the embedded store.
 *
 * This file is meant to be forked. Each module below is one part of the control plane; swap a module
 * to swap the part (an etcd store, your own scheduler profile, extra controllers for your kinds).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { apiServerModule } from '@cpkit/apiserver';
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
import pretty from 'pino-pretty';
import { parseSingleNodeOptions } from './options.js';
import { openChosenStore } from './store-choice.js';

const options = parseSingleNodeOptions(process.argv);
const logger = createLogger({
  level: options.logLevel,
  name: 'cpkit-single-node',
  // pino-pretty renders the same structured lines readably; JSON stays the default off a terminal.
  destination:
    options.logFormat === 'pretty'
      ? pretty({
          colorize: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,name',
          singleLine: true,
          sync: true,
        })
      : undefined,
});

// The store is opened before wiring (opening reads SQLite or dials etcd) and closed after everything
// has stopped.
const chosen = await openChosenStore(options).catch((error: unknown) => {
  logger.fatal({ err: error }, `cannot open the store: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
const { store } = chosen;
logger.info(
  { store: chosen.description, revision: await store.currentRevision() },
  `opened ${chosen.description}`,
);

try {
  const controlPlane = await new ControlPlaneBuilder({ gracePeriodMs: options.shutdownGracePeriodMs })
    .withModules(
      new ContainerModule((bind) => bind(Logger).toConstantValue(logger)), // structured JSON logs (pino)
      chosen.module, //                    Store: embedded (MVCC in memory, durable in SQLite) or etcd
      registryModule({
        // Scheme with the built-in kinds + Registry (object semantics); Services get ClusterIPs and
        // node ports from these ranges.
        serviceAllocation: {
          serviceClusterIPRange: options.serviceClusterIPRange,
          nodePortRange: options.serviceNodePortRange,
        },
      }),
      inProcessApiClientModule(), //       ApiClient for the components in this process
      systemNamespacesModule(), //         default, kube-system, kube-public, kube-node-lease
      namespaceFinalizerModule(), //       empties deleted namespaces so `kubectl delete namespace` finishes
      leaderElectionModule({
        leaseName: 'cpkit-single-node', //  one active control plane per data directory
        leaseNamespace: 'kube-system',
        identity: `${hostname()}_${randomUUID()}`,
        dependsOn: ['system-namespaces'],
      }),
      apiServerModule({
        host: options.apiHost, //          Kubernetes REST API over HTTPS (kubectl, client libraries)
        port: options.apiPort,
        dataDir: options.dataDir, //       <data-dir>/pki: CA, serving certificate, service-account key
        kubeconfigPath: options.kubeconfigPath, // admin kubeconfig (client certificate in system:masters)
        ...(options.tokenFile ? { tokenFile: options.tokenFile } : {}), // static bearer tokens
        anonymous: options.anonymous, //   off by default: requests without credentials get 401
        authorization: options.authorizationMode, // RBAC (default) or AlwaysAllow (development only)
      }),
      schedulerModule(), //                Scheduler: default plugins, one default-scheduler profile (leader only)
    )
    .build();
  logger.info('control plane wired; starting (Ctrl-C stops it)');
  const report = await controlPlane.runUntilSignal();
  logger.info({ report }, 'control plane stopped');
} catch (error) {
  // Wiring and start-up errors carry a precise message (which part, what is missing): say it plainly.
  logger.fatal({ err: error }, error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
} finally {
  await store.close();
  logger.info(`closed ${chosen.description}`);
}
