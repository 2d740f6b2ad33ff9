// SPDX-License-Identifier: Apache-2.0
/**
 * A demonstration for `main.ts --demo`: a few nodes (two in the reserved pool), some web pods and a gang
 * of training pods, and a log line for every pod once it is bound, so a newcomer sees the custom plugins
 * decide without any other tool.
 * @module
 */
import { ApiClient, ContainerModule, Logger, Runnable, StatusError } from '@cpkit/core';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { PodGroupLabel, PodGroupMinMemberAnnotation } from './gang-permit.js';

const demoNamespace = 'default';

function demoNode(name: string, pool: string | undefined): Node {
  const capacity = { cpu: '4', memory: '8Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name, ...(pool ? { 'node-pool': pool } : {}) },
    },
    spec: {},
    status: {
      capacity,
      allocatable: capacity,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
    },
  };
}

function demoPod(name: string, cpu: string, gang?: { name: string; minMember: number }): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: demoNamespace,
      labels: gang ? { app: gang.name, [PodGroupLabel]: gang.name } : { app: 'web' },
      ...(gang ? { annotations: { [PodGroupMinMemberAnnotation]: String(gang.minMember) } } : {}),
    },
    spec: {
      containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu, memory: '512Mi' } } }],
    },
  };
}

/**
 * Creates the demonstration objects (those that exist already are kept) and logs where each pod lands.
 * Starts after the scheduler; only on the leader.
 * @category Custom scheduler
 */
export class DemoWorkload implements Runnable {
  readonly name = 'custom-scheduler-demo';
  readonly dependsOn = ['scheduler'];
  readonly needsLeaderElection = true;
  #watching: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: ApiClient,
    private readonly logger: Logger,
  ) {}

  async start(signal: AbortSignal): Promise<void> {
    const nodes = [
      demoNode('reserved-1', 'reserved'),
      demoNode('reserved-2', 'reserved'),
      demoNode('general-1', undefined),
      demoNode('general-2', undefined),
    ];
    for (const node of nodes) {
      const created = await this.createIfMissing(node);
      // The registry ignores status on create (a node agent would report it): set it as one would.
      if (created) await this.client.updateStatus({ ...created, status: node.status });
    }
    const gang = { name: 'train', minMember: 3 };
    const pods = [
      ...[0, 1, 2, 3].map((i) => demoPod(`web-${i}`, '500m')),
      ...[0, 1, 2].map((i) => demoPod(`train-${i}`, '1', gang)),
    ];
    for (const pod of pods) await this.createIfMissing(pod);
    this.logger.info(
      `demo: created ${nodes.length} nodes (reserved-1, reserved-2 carry node-pool=reserved) and ${pods.length} pods`,
    );
    this.#watching = this.reportPlacements(
      pods.map((p) => p.metadata!.name!),
      signal,
    );
  }

  stopped(): Promise<void> {
    return this.#watching;
  }

  /** The created object, or `undefined` when it already existed. */
  private async createIfMissing<T extends Node | Pod>(object: T): Promise<T | undefined> {
    try {
      return await this.client.create(object);
    } catch (error) {
      if (error instanceof StatusError && error.reason === 'AlreadyExists') return undefined;
      throw error;
    }
  }

  /** Polls until every pod is bound (or the control plane stops), logging each placement once. */
  private async reportPlacements(names: string[], signal: AbortSignal): Promise<void> {
    const pending = new Set(names);
    while (pending.size > 0 && !signal.aborted) {
      for (const name of [...pending]) {
        const pod = await this.client
          .get<Pod>('pods', name, { namespace: demoNamespace })
          .catch(() => undefined);
        const node = pod?.spec?.nodeName;
        if (node === undefined) continue;
        pending.delete(name);
        this.logger.info({ pod: name, node }, `demo: ${name} → ${node}`);
      }
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if (pending.size === 0) this.logger.info('demo: every pod is bound');
  }
}

/**
 * Binds the {@link DemoWorkload} as a Runnable.
 * @category Custom scheduler
 */
export function demoWorkloadModule(): ContainerModule {
  return new ContainerModule((bind) => {
    bind(DemoWorkload)
      .toDynamicValue(
        ({ container }) =>
          new DemoWorkload(container.get<ApiClient>(ApiClient), container.get<Logger>(Logger)),
      )
      .inSingletonScope();
    bind(Runnable).toService(DemoWorkload);
  });
}
