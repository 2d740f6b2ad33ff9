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
import {
  ContainerModule,
  ControlPlaneBuilder,
  createLogger,
  inProcessApiClientModule,
  Logger,
  leaderElectionModule,
  registryModule,
  systemNamespacesModule,
} from '@cpkit/core';
import { embeddedStoreModule, openEmbeddedStore } from '@cpkit/store-embedded';
import pretty from 'pino-pretty';
import { parseSingleNodeOptions } from './options.js';

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

// The store is opened before wiring (opening reads SQLite) and closed after everything has stopped.
const store = await openEmbeddedStore(options.inMemory ? {} : { path: options.dataDir });
const revision = await store.currentRevision();
logger.info(
  { dataDir: options.inMemory ? undefined : options.dataDir, revision },
  options.inMemory ? 'embedded store opened in memory' : `embedded store opened in ${options.dataDir}`,
);

try {
  const controlPlane = await new ControlPlaneBuilder({ gracePeriodMs: options.shutdownGracePeriodMs })
    .withModules(
      new ContainerModule((bind) => bind(Logger).toConstantValue(logger)), // structured JSON logs (pino)
      embeddedStoreModule(store), //       Store: MVCC in memory, durable in SQLite
      registryModule(), //                 Scheme with the built-in kinds + Registry (object semantics)
      inProcessApiClientModule(), //       ApiClient for the components in this process
      systemNamespacesModule(), //         default, kube-system, kube-public, kube-node-lease
      leaderElectionModule({
        leaseName: 'cpkit-single-node', //  one active control plane per data directory
        leaseNamespace: 'kube-system',
        identity: `${hostname()}_${randomUUID()}`,
        dependsOn: ['system-namespaces'],
      }),
    )
    .build();
  logger.info('control plane wired; starting (Ctrl-C stops it)');
  const report = await controlPlane.runUntilSignal();
  logger.info({ report }, 'control plane stopped');
} finally {
  await store.close();
  logger.info('embedded store closed');
}
