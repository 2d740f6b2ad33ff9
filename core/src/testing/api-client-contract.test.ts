// SPDX-License-Identifier: Apache-2.0
// The ApiClient contract against the in-process transport (registry + embedded store).
import { EmbeddedStore } from '@cpkit/store-embedded';
import { describeApiClientContract } from './api-client-contract.js';
import { startTestControlPlane } from './test-control-plane.js';

describeApiClientContract('InProcessApiClient', {
  async create() {
    const store = await EmbeddedStore.open({ compactionIntervalMs: 0 });
    const cp = await startTestControlPlane({ store });
    return {
      client: cp.client,
      compact: async () => store.compact(await store.currentRevision()),
      close: () => cp.stop(),
    };
  },
});
