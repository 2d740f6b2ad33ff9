// SPDX-License-Identifier: Apache-2.0
import { leaderElectionModule } from '@cpkit/core';
import { startTestControlPlane } from '@cpkit/core/testing';
import { openEmbeddedStore } from '@cpkit/store-embedded';
import { describe, expect, it } from 'vitest';
import { schedulerModule } from './scheduler-module.js';

const standbyElection = leaderElectionModule({
  leaseName: 'scheduler-module-test',
  leaseNamespace: 'kube-system',
  identity: 'replica-1',
  dependsOn: ['system-namespaces'],
});

describe('schedulerModule', () => {
  it('fails start-up on a bad plugin argument before leader election, naming the field', async () => {
    const start = startTestControlPlane({
      store: await openEmbeddedStore(),
      modules: [
        standbyElection,
        schedulerModule({
          config: {
            apiVersion: 'kubescheduler.config.k8s.io/v1',
            kind: 'KubeSchedulerConfiguration',
            profiles: [
              {
                schedulerName: 'default-scheduler',
                pluginConfig: [
                  {
                    name: 'NodeResourcesFit',
                    args: {
                      scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 1000 }] },
                    },
                  },
                ],
              },
            ],
          },
        }),
      ],
    });
    await expect(start).rejects.toThrow(
      /scheduler-plugin-check[\s\S]*scoringStrategy\.resources\[0\]\.weight/,
    );
  });

  it('starts with a valid configuration', async () => {
    const controlPlane = await startTestControlPlane({
      store: await openEmbeddedStore(),
      modules: [standbyElection, schedulerModule()],
    });
    await controlPlane.stop();
  });
});
