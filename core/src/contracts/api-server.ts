// SPDX-License-Identifier: Apache-2.0
import type { Runnable } from './runnable.js';

/**
 * Service identifier of the {@link ApiServer} role. The implementation is also contributed as a
 * {@link Runnable} so the control-plane builder starts it.
 * @category Contracts
 */
export const ApiServer = Symbol.for('cpkit.ApiServer');

/** Where a started API server listens. @category Contracts */
export interface ApiServerAddress {
  /** The address actually bound, e.g. `127.0.0.1` or `::`. */
  host: string;
  /** The port actually bound (useful when configured with port 0). */
  port: number;
  protocol: 'http' | 'https';
  /** Base URL clients use, e.g. `https://127.0.0.1:6443`. */
  url: string;
}

/**
 * Serves every registered resource kind over the Kubernetes REST API (discovery, CRUD, watch, patch,
 * subresources) so that `kubectl` and `@kubernetes/client-node` work unchanged. Each request goes through
 * authentication ({@link Authenticator}s) → authorization ({@link Authorizer}s) → admission
 * ({@link AdmissionPlugin}s) → the registry (defaulting, validation, resourceVersion) → the Store.
 * Failures reach clients as `metav1.Status` bodies with the HTTP code of their `StatusError`.
 *
 * As a {@link Runnable}, `start(signal)` resolves once the server listens; aborting `signal` stops
 * accepting connections, ends open watches, and lets in-flight requests finish.
 * @category Contracts
 */
export interface ApiServer extends Runnable {
  /** Where the server listens; `undefined` before `start` resolved and after it stopped. */
  address(): ApiServerAddress | undefined;
  /**
   * Path of a kubeconfig file the server wrote on start (server URL, CA, an admin credential) for
   * `kubectl --kubeconfig`; `undefined` when the server was configured not to write one.
   */
  readonly kubeconfigPath: string | undefined;
}
