// SPDX-License-Identifier: Apache-2.0
// The benchmark's ceiling: a "scheduler" that does no scheduling. It watches pods, and binds every
// unbound one to the next node in round-robin order through the same `pods/binding` call the
// DefaultBinder makes. What the real scheduler reaches beside it is what scheduling itself costs.
import { ApiClient, ContainerModule, Runnable, type WatchEvent } from '@cpkit/core';
import type { Binding, Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Subscription } from 'rxjs';

/** Binds unbound pods round-robin over the nodes it has seen; no filtering, no scoring. */
export class RoundRobinBinder implements Runnable {
  readonly name = 'round-robin-binder';
  readonly dependsOn = ['system-namespaces'];
  private readonly nodes: string[] = [];
  private readonly waiting: Pod[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly subscriptions: Subscription[] = [];
  private next = 0;
  /** Bindings that failed (they should not: nothing else binds these pods). */
  failures = 0;

  constructor(private readonly client: ApiClient) {}

  async start(signal: AbortSignal): Promise<void> {
    this.subscriptions.push(
      this.client.watch<Node>('nodes').subscribe((event: WatchEvent<Node>) => {
        if (event.type !== 'ADDED') return;
        this.nodes.push(event.object.metadata?.name ?? '');
        // Pods that arrived before any node.
        while (this.waiting.length > 0) this.bind(this.waiting.shift() as Pod);
      }),
      this.client.watch<Pod>('pods').subscribe((event: WatchEvent<Pod>) => {
        if (event.type !== 'ADDED' || event.object.spec?.nodeName) return;
        if (this.nodes.length === 0) this.waiting.push(event.object);
        else this.bind(event.object);
      }),
    );
    signal.addEventListener('abort', () => {
      for (const subscription of this.subscriptions) subscription.unsubscribe();
    });
  }

  async stopped(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private bind(pod: Pod): void {
    const nodeName = this.nodes[this.next++ % this.nodes.length];
    const binding: Binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
      target: { kind: 'Node', name: nodeName },
    };
    const call = this.client.bind(binding, { namespace: pod.metadata?.namespace }).then(
      () => undefined,
      () => {
        this.failures++;
      },
    );
    this.inFlight.add(call);
    void call.finally(() => this.inFlight.delete(call));
  }
}

/** Wires the {@link RoundRobinBinder} as a Runnable. */
export function roundRobinBinderModule(): ContainerModule {
  return new ContainerModule((bind) => {
    bind(RoundRobinBinder)
      .toDynamicValue(({ container }) => new RoundRobinBinder(container.get<ApiClient>(ApiClient)))
      .inSingletonScope();
    bind(Runnable).toService(RoundRobinBinder);
  });
}
