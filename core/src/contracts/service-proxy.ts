// SPDX-License-Identifier: Apache-2.0
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Runnable } from './runnable.js';

/**
 * Service identifier of the service-proxy role (the "Proxy" of the architecture, kube-proxy's job).
 * Named `ServiceProxy` because `Proxy` would shadow JavaScript's global `Proxy` in every importing module.
 * Implementations are also contributed as a {@link Runnable}.
 * @category Contracts
 */
export const ServiceProxy = Symbol.for('cpkit.ServiceProxy');

/** What one {@link ServiceProxy.sync} programmed. @category Contracts */
export interface ServiceProxySyncResult {
  /** Number of service ports (one per Service port and protocol) now forwarded. */
  servicePorts: number;
  /** Number of ready endpoints behind them. */
  endpoints: number;
}

/**
 * Programs Service → endpoint forwarding on one node: traffic to a Service's cluster IP (and node ports)
 * reaches one of its ready endpoints. The `iptables` implementation writes NAT rules; the `userspace`
 * one forwards connections itself.
 *
 * As a {@link Runnable}, `start(signal)` watches Services and EndpointSlices through informers, resolves
 * once the first full sync is programmed, and calls {@link ServiceProxy.sync} on every change; aborting
 * `signal` stops watching (and, for `userspace`, closes its listeners).
 * @category Contracts
 */
export interface ServiceProxy extends Runnable {
  /** How it forwards, e.g. `iptables` or `userspace`. */
  readonly mode: string;
  /** The node whose forwarding it programs. */
  readonly nodeName: string;

  /**
   * Makes the node's forwarding match exactly this desired state (level-triggered: services absent here
   * lose their rules). Services without a cluster IP (headless) and endpoints not ready are skipped.
   * Rejects with a `StatusError` when programming failed; the previous rules then stay in place.
   */
  sync(
    services: readonly Service[],
    endpointSlices: readonly EndpointSlice[],
  ): Promise<ServiceProxySyncResult>;
}
