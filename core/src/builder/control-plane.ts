// SPDX-License-Identifier: Apache-2.0
import type { interfaces } from 'inversify';
import type { Runnable } from '../contracts/runnable.js';
import { errors, StatusError } from '../errors/status-error.js';
import type { Logger } from '../observability/logger.js';
import type { LeaderElectionGate, LeaderElectionRegistration } from './leader-election-gate.js';

/** Default time {@link ControlPlane.stop} gives runnables to stop: 30 s, as Kubernetes' grace period. @category Builder */
export const DefaultGracePeriodMs = 30_000;

/** What {@link ControlPlane.stop} did. @category Builder */
export interface ControlPlaneStopReport {
  /** Runnables that stopped within the grace period, in the order they were stopped. */
  stopped: string[];
  /** Runnables still running when the grace period ended. */
  timedOut: string[];
  /** Runnables whose `stopped()` (or leader-election release) rejected, with the error. */
  failed: { name: string; error: unknown }[];
  /** Milliseconds the stop took. */
  durationMs: number;
}

/** Options of {@link ControlPlane.runUntilSignal}. @category Builder */
export interface RunUntilSignalOptions {
  /** Signals that stop the control plane. Default: SIGTERM and SIGINT. */
  signals?: NodeJS.Signals[];
  /**
   * A second signal while stopping exits the process at once with code 130, as a second Ctrl-C is meant.
   * Default true; tests turn it off.
   */
  exitOnSecondSignal?: boolean;
}

type EntryState = 'idle' | 'starting' | 'running' | 'stopped';

interface RunnableEntry {
  readonly runnable: Runnable;
  state: EntryState;
  controller?: AbortController;
  registration?: LeaderElectionRegistration;
  /** Settles when `start` settles; used to tell whether a hung start is still running at stop. */
  startSettled?: Promise<unknown>;
}

/** Resolves true when `promise` settles within `ms`, false otherwise; never rejects. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, ms));
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A built, validated control plane: its container and its runnables in start order. Made by
 * {@link ControlPlaneBuilder.build}.
 *
 * - {@link ControlPlane.start} starts every runnable in dependency order, each with its own AbortSignal;
 *   runnables that need leader election are started through the {@link LeaderElectionGate}.
 * - {@link ControlPlane.stop} stops them in reverse order within the grace period.
 * - {@link ControlPlane.runUntilSignal} starts, waits for SIGTERM/SIGINT, then stops.
 * @category Builder
 */
export class ControlPlane {
  private readonly entries: RunnableEntry[];
  private readonly log: Logger;
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<ControlPlaneStopReport> | undefined;
  private stopRequested = false;

  /** @internal Use {@link ControlPlaneBuilder.build}. */
  constructor(
    /** The inversify container holding every binding of the control plane. */
    readonly container: interfaces.Container,
    /** The runnables, in the order they start. */
    readonly runnables: readonly Runnable[],
    private readonly gate: LeaderElectionGate,
    logger: Logger,
    /** Milliseconds {@link ControlPlane.stop} waits for runnables to stop. */
    readonly gracePeriodMs: number = DefaultGracePeriodMs,
  ) {
    this.entries = runnables.map((runnable) => ({ runnable, state: 'idle' }));
    this.log = logger.child({ component: 'control-plane' });
  }

  /** The service bound to `serviceIdentifier` (shorthand for `container.get`). */
  get<T>(serviceIdentifier: interfaces.ServiceIdentifier<T>): T {
    return this.container.get<T>(serviceIdentifier);
  }

  /**
   * Starts every runnable in dependency order and resolves once all are started (ready). If one fails to
   * start, the ones already started are stopped in reverse order and the promise rejects with an error
   * naming the runnable. Calling it again returns the same promise.
   */
  start(): Promise<void> {
    if (this.stopPromise) {
      // A failed start keeps reporting its own failure; otherwise a stopped control plane cannot restart.
      const stopped = errors.badRequest('cpkit control plane: start() called after stop()');
      return (this.startPromise ?? Promise.resolve()).then(() => Promise.reject(stopped));
    }
    this.startPromise ??= this.startAll();
    return this.startPromise;
  }

  private async startAll(): Promise<void> {
    const began = Date.now();
    this.log.info({ runnables: this.entries.map((e) => e.runnable.name) }, 'starting control plane');
    for (const entry of this.entries) {
      if (this.stopRequested) {
        throw new StatusError(
          'ServiceUnavailable',
          `cpkit start interrupted: stop requested before runnable "${entry.runnable.name}" started`,
        );
      }
      const name = entry.runnable.name;
      const t0 = Date.now();
      this.log.info(
        { runnable: name, leaderElection: entry.runnable.needsLeaderElection === true },
        'starting runnable',
      );
      try {
        entry.state = 'starting';
        await this.startEntry(entry);
        entry.state = 'running';
      } catch (error) {
        if (this.stopRequested) {
          // The start was aborted by stop(); stop() does the cleanup and reports.
          throw new StatusError(
            'ServiceUnavailable',
            `cpkit start interrupted: stop requested while starting "${name}"`,
          );
        }
        this.log.error(
          { runnable: name, err: error },
          'runnable failed to start; stopping the ones already started',
        );
        const failure = new StatusError(
          'InternalError',
          `cpkit start error: runnable "${name}" failed to start: ${messageOf(error)}`,
        );
        failure.cause = error;
        await this.stop();
        throw failure;
      }
      this.log.info({ runnable: name, ms: Date.now() - t0 }, 'started runnable');
    }
    this.log.info({ ms: Date.now() - began }, 'control plane started');
  }

  private async startEntry(entry: RunnableEntry): Promise<void> {
    const { runnable } = entry;
    if (!runnable.needsLeaderElection) {
      entry.controller = new AbortController();
      const started = runnable.start(entry.controller.signal);
      entry.startSettled = started.catch(() => undefined);
      await started;
      return;
    }
    // Each term of leadership gets a fresh AbortController: a runnable restarted after regaining the
    // lease must not see the old, aborted signal.
    entry.registration = await this.gate.whenLeader(
      async () => {
        if (this.stopRequested) return;
        entry.controller = new AbortController();
        this.log.info({ runnable: runnable.name }, 'became leader; starting runnable');
        const started = runnable.start(entry.controller.signal);
        entry.startSettled = started.catch(() => undefined);
        await started;
      },
      async () => {
        this.log.info({ runnable: runnable.name }, 'stopping runnable that needs leader election');
        entry.controller?.abort();
        await Promise.all([entry.startSettled, runnable.stopped?.()]);
      },
    );
  }

  /**
   * Stops the runnables in reverse start order: aborts each one's signal and waits for its `stopped()`
   * before the next, all within `gracePeriodMs` (default: the builder's, 30 s). Runnables still running
   * when the grace period ends are aborted anyway, logged and listed in the report; `stop` never waits
   * longer. Calling it again returns the same promise.
   */
  stop(gracePeriodMs: number = this.gracePeriodMs): Promise<ControlPlaneStopReport> {
    if (!Number.isFinite(gracePeriodMs) || gracePeriodMs < 0) {
      return Promise.reject(
        errors.badRequest(
          `invalid gracePeriodMs ${gracePeriodMs}: must be a non-negative number of milliseconds`,
        ),
      );
    }
    this.stopRequested = true;
    this.stopPromise ??= this.stopAll(gracePeriodMs);
    return this.stopPromise;
  }

  private async stopAll(gracePeriodMs: number): Promise<ControlPlaneStopReport> {
    const began = Date.now();
    const deadline = began + gracePeriodMs;
    const report: ControlPlaneStopReport = { stopped: [], timedOut: [], failed: [], durationMs: 0 };
    const active = this.entries.filter((e) => e.state === 'starting' || e.state === 'running').reverse();
    this.log.info({ runnables: active.map((e) => e.runnable.name), gracePeriodMs }, 'stopping control plane');
    for (const entry of active) {
      const name = entry.runnable.name;
      this.log.info({ runnable: name }, 'stopping runnable');
      const done = this.stopEntry(entry).then(
        () => undefined,
        (error: unknown) => {
          report.failed.push({ name, error });
          this.log.error({ runnable: name, err: error }, 'runnable failed to stop cleanly');
        },
      );
      const inTime = await settlesWithin(done, deadline - Date.now());
      entry.state = 'stopped';
      if (inTime) {
        report.stopped.push(name);
        this.log.info({ runnable: name }, 'stopped runnable');
      } else {
        report.timedOut.push(name);
      }
    }
    report.durationMs = Date.now() - began;
    if (report.timedOut.length > 0) {
      this.log.warn(
        { runnables: report.timedOut, gracePeriodMs },
        `runnables still running after the grace period of ${gracePeriodMs} ms: ${report.timedOut.join(', ')}`,
      );
    }
    this.log.info({ ms: report.durationMs, stopped: report.stopped.length }, 'control plane stopped');
    return report;
  }

  private async stopEntry(entry: RunnableEntry): Promise<void> {
    if (entry.registration) {
      await entry.registration.dispose();
      return;
    }
    entry.controller?.abort();
    // A start that is still pending counts as running until it settles.
    await Promise.all([entry.startSettled, entry.runnable.stopped?.()]);
  }

  /**
   * Starts the control plane, then waits for SIGTERM or SIGINT and stops it, logging each step. Resolves
   * with the stop report; rejects if starting fails (after stopping what had started). Signal handlers are
   * removed before it settles.
   */
  async runUntilSignal(options: RunUntilSignalOptions = {}): Promise<ControlPlaneStopReport> {
    const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
    const exitOnSecondSignal = options.exitOnSecondSignal ?? true;
    let received: NodeJS.Signals | undefined;
    let onStopRequested: (signal: NodeJS.Signals) => void = () => {};
    const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
      onStopRequested = resolve;
    });
    const handler = (signal: NodeJS.Signals): void => {
      if (received !== undefined) {
        if (exitOnSecondSignal) {
          this.log.warn({ signal }, `received ${signal} again while stopping; exiting now`);
          process.exit(130);
        }
        this.log.warn({ signal }, `received ${signal} again; still stopping`);
        return;
      }
      received = signal;
      this.log.info({ signal, gracePeriodMs: this.gracePeriodMs }, `received ${signal}; stopping`);
      onStopRequested(signal);
      // Abort a start still in progress; start() then rejects and the report comes from stop().
      void this.stop();
    };
    for (const signal of signals) process.on(signal, handler);
    try {
      try {
        await this.start();
      } catch (error) {
        if (received === undefined) throw error;
      }
      await stopRequested;
      return await this.stop();
    } finally {
      for (const signal of signals) process.off(signal, handler);
    }
  }
}
