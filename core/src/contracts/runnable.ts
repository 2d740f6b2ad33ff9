// SPDX-License-Identifier: Apache-2.0

/**
 * Service identifier under which every long-running part of a control plane is contributed.
 * Bind a class to it with `bind(Runnable).toService(MyThing)`; the control-plane builder starts
 * them all.
 * @category Contracts
 */
export const Runnable = Symbol.for('cpkit.Runnable');

/**
 * Anything long-running: API server, informers, controllers, the scheduler, node agents.
 *
 * The control-plane builder calls {@link Runnable.start} once, in dependency order (see
 * {@link Runnable.dependsOn}). `start` resolves once the part is ready to serve (for example once its
 * informers have synced) and keeps working in the background until `signal` aborts; then it must stop
 * and settle the promise returned by {@link Runnable.stopped}, if present.
 * @category Contracts
 */
export interface Runnable {
  /** A unique, human-readable name, used in logs, in dependency lists and in wiring errors. */
  readonly name: string;
  /** Names of runnables that must be started (ready) before this one. Default: none. */
  readonly dependsOn?: readonly string[];
  /**
   * When true, the runnable only runs while this process holds the leader lease; the builder starts
   * it on becoming leader and aborts it on losing leadership. Default: false.
   */
  readonly needsLeaderElection?: boolean;
  /** Starts the work; resolves when ready. Must stop promptly once `signal` aborts. */
  start(signal: AbortSignal): Promise<void>;
  /** Resolves when the runnable has fully stopped after its signal aborted (drained, files closed). */
  stopped?(): Promise<void>;
}
