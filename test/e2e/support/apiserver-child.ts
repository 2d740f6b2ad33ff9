// SPDX-License-Identifier: Apache-2.0
// One API server process on a shared etcd, for the multi-instance e2e test:
//   node --conditions=source --import tsx apiserver-child.ts <etcd endpoints, comma-separated> <data dir> <kubeconfig path>
// Prints one JSON line `{"ready":true,"url":...}` once it serves; SIGTERM stops it cleanly.
import { apiServerModule, HttpApiServer } from '@cpkit/apiserver';
import {
  ContainerModule,
  ControlPlaneBuilder,
  createLogger,
  inProcessApiClientModule,
  Logger,
  registryModule,
  systemNamespacesModule,
} from '@cpkit/core';
import { etcdStoreModule, openEtcdStore } from '@cpkit/store-etcd';

const [endpoints = '', dataDir = '', kubeconfigPath = ''] = process.argv.slice(2);
const logger = createLogger({ level: process.env.CPKIT_LOG_LEVEL ?? 'warn', name: 'apiserver-child' });
const store = await openEtcdStore({ endpoints: endpoints.split(','), prefix: '/multi-apiserver' });
const controlPlane = await new ControlPlaneBuilder({ gracePeriodMs: 5000 })
  .withModules(
    new ContainerModule((bind) => bind(Logger).toConstantValue(logger)),
    etcdStoreModule(store), //      every instance reads and writes the same etcd
    registryModule(), //            its own scheme and registry; watches come from etcd
    inProcessApiClientModule(),
    systemNamespacesModule(),
    apiServerModule({ port: 0, dataDir, kubeconfigPath }),
  )
  .build();
await controlPlane.start();
const address = controlPlane.get<HttpApiServer>(HttpApiServer).address();
process.stdout.write(`${JSON.stringify({ ready: true, url: address?.url, pid: process.pid })}\n`);
process.once('SIGTERM', () => {
  void controlPlane
    .stop()
    .then(() => store.close())
    .then(() => process.exit(0));
});
