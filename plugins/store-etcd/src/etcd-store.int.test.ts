// SPDX-License-Identifier: Apache-2.0
import { randomUUID } from 'node:crypto';
import { Container, Store } from '@cpkit/core';
import {
  describeStoreContract,
  type EtcdCluster,
  startEtcdCluster,
  startEtcdFromSnapshot,
} from '@cpkit/core/testing';
import { firstValueFrom, type Subscription, timeout } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdStore, etcdStoreModule, openEtcdStore } from './index.js';

// One etcd member for the whole file; every store gets a fresh random prefix so tests never see
// each other's keys (revisions are shared: each test reads them relative to its own start).
let etcd: EtcdCluster;
const clusters: EtcdCluster[] = [];
beforeAll(async () => {
  etcd = await startEtcdCluster({ name: 'store-etcd-contract' });
  clusters.push(etcd);
});
afterAll(async () => {
  for (const cluster of clusters.splice(0)) await cluster.stop();
});

let lastPrefix = '';
const openTestStore = (endpoints = etcd.endpoints, prefix = `/t-${randomUUID()}`): Promise<EtcdStore> => {
  lastPrefix = prefix;
  return openEtcdStore({ endpoints, prefix });
};

describeStoreContract('EtcdStore', {
  create: () => openTestStore(),
  // The suite restores right after backing up the store it created last: same prefix.
  restore: async (backupPath) => {
    const restored = await startEtcdFromSnapshot(backupPath);
    clusters.push(restored);
    return openEtcdStore({ endpoints: restored.endpoints, prefix: lastPrefix });
  },
  openWatches: (store) => (store as EtcdStore).watchCount,
});
