// SPDX-License-Identifier: Apache-2.0

/**
 * Service identifier of the hook through which the control plane starts runnables that need leader
 * election ({@link Runnable.needsLeaderElection}). The control-plane builder binds
 * {@link AlwaysLeaderGate} when no module binds one; the Lease-based leader elector binds itself here.
 * @category Builder
 */
export const LeaderElectionGate = Symbol.for('cpkit.LeaderElectionGate');

/** What {@link LeaderElectionGate.whenLeader} hands back. @category Builder */
export interface LeaderElectionRegistration {
  /**
   * Withdraws the registration: if the work is running (this process leads), `stop` is called and
   * awaited; `start` is never called again. Idempotent.
   */
  dispose(): Promise<void>;
}

/**
 * Runs work only while this process is the leader.
 *
 * `whenLeader(start, stop)` registers the work: the gate calls `start()` each time this process becomes
 * leader and `stop()` (awaited before leadership is given up) each time it stops leading. It resolves
 * once the work is registered; it does not wait for leadership, except that a gate which already leads
 * may start the work before resolving and must then reject if `start()` rejects.
 *
 * If the object bound to this identifier is also contributed as a {@link Runnable}, the control plane
 * starts it before every runnable that needs leader election.
 * @category Builder
 */
export interface LeaderElectionGate {
  whenLeader(start: () => Promise<void>, stop: () => Promise<void>): Promise<LeaderElectionRegistration>;
}

/**
 * The default gate for a single control-plane process: it always leads, so `whenLeader` starts the work
 * at once (rejecting if that fails) and `dispose` stops it.
 * @category Builder
 */
export class AlwaysLeaderGate implements LeaderElectionGate {
  async whenLeader(
    start: () => Promise<void>,
    stop: () => Promise<void>,
  ): Promise<LeaderElectionRegistration> {
    await start();
    let disposed = false;
    return {
      async dispose(): Promise<void> {
        if (disposed) return;
        disposed = true;
        await stop();
      },
    };
  }
}
