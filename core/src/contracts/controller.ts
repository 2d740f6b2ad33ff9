// SPDX-License-Identifier: Apache-2.0

/**
 * Service identifier under which controllers are contributed (`bind(Controller).toConstantValue(...)`).
 * @category Contracts
 */
export const Controller = Symbol.for('cpkit.Controller');

/**
 * Identifies the object to reconcile: its namespace (empty for cluster-scoped kinds) and name.
 * Reconcilers receive a key, never an event: they read the current state and converge to it.
 * @category Contracts
 */
export interface ReconcileRequest {
  namespace: string;
  name: string;
}

/**
 * What a reconcile asks for next. `{}` means done until the next change; `requeueAfter` asks to be
 * called again after that many milliseconds (without counting as a failure).
 * @category Contracts
 */
export interface ReconcileResult {
  requeueAfter?: number;
}

/**
 * A level-triggered reconciler: `reconcile(request) → Result`.
 * - Resolve with a {@link ReconcileResult} on success.
 * - Throw (reject) to retry with per-item exponential backoff (rate-limited).
 * - Throw a {@link TerminalError} for failures that retrying cannot fix: the error is logged and
 *   counted and the key is not retried until its object changes again.
 * @category Contracts
 */
export interface Reconciler {
  reconcile(request: ReconcileRequest, signal: AbortSignal): Promise<ReconcileResult>;
}

/**
 * A named controller: a reconciler plus what feeds it. Built with the controller builder
 * (`controllerFor(kind).owns(kind).watches(kind, map).complete(reconciler)`), which also makes it a
 * Runnable.
 * @category Contracts
 */
export interface Controller {
  /** Unique name, e.g. `replicaset`; used in logs and as the `controller`/`name` metric labels. */
  readonly name: string;
}

/**
 * A failure that retrying will not fix. Thrown from {@link Reconciler.reconcile} it stops retries for
 * the key until the object changes.
 * @category Contracts
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}
