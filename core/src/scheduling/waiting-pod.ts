// SPDX-License-Identifier: Apache-2.0
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CancelTimer, Clock } from '../clock/clock.js';
import { SchedulingStatus, type WaitingPod } from '../contracts/scheduler-plugin.js';

/** Longest a Permit plugin may hold a pod, as upstream (15 minutes). @category Scheduling */
export const MaxPermitTimeoutMs = 15 * 60 * 1000;

/** A duration the way Go prints one (`500ms`, `10s`, `1m30s`), for upstream-identical messages. */
export function formatGoDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const totalSeconds = ms / 1000;
  if (totalSeconds < 60) return `${totalSeconds}s`;
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds - minutes * 60;
  if (minutes < 60) return `${minutes}m${seconds}s`;
  return `${Math.floor(minutes / 60)}h${minutes % 60}m${seconds}s`;
}

/**
 * A pod held at Permit. Each waiting plugin has its own timer; the pod proceeds once every one of them
 * allowed it, and is rejected by the first rejection or timeout.
 * @category Scheduling
 */
export class FrameworkWaitingPod implements WaitingPod {
  readonly #pending = new Map<string, CancelTimer>();
  readonly #result: Promise<SchedulingStatus>;
  #resolve!: (status: SchedulingStatus) => void;
  #done = false;

  /**
   * @param waits plugin name → milliseconds to wait (clamped to {@link MaxPermitTimeoutMs}).
   */
  constructor(
    readonly pod: Pod,
    waits: ReadonlyMap<string, number>,
    clock: Clock,
  ) {
    this.#result = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    for (const [plugin, timeoutMs] of waits) {
      const wait = Math.min(Math.max(timeoutMs, 0), MaxPermitTimeoutMs);
      this.#pending.set(
        plugin,
        clock.setTimeout(
          () =>
            this.reject(
              plugin,
              `rejected due to timeout after waiting ${formatGoDuration(wait)} at plugin ${plugin}`,
            ),
          wait,
        ),
      );
    }
  }

  pendingPlugins(): string[] {
    return [...this.#pending.keys()];
  }

  allow(plugin: string): void {
    const cancel = this.#pending.get(plugin);
    if (!cancel || this.#done) return;
    cancel();
    this.#pending.delete(plugin);
    if (this.#pending.size === 0) this.#finish(SchedulingStatus.success());
  }

  reject(plugin: string, message: string): void {
    if (this.#done) return;
    this.#finish(new SchedulingStatus('Unschedulable', [message], plugin));
  }

  /** Resolves with Success once allowed, or the Unschedulable status of the rejection. */
  result(): Promise<SchedulingStatus> {
    return this.#result;
  }

  #finish(status: SchedulingStatus): void {
    this.#done = true;
    for (const cancel of this.#pending.values()) cancel();
    this.#pending.clear();
    this.#resolve(status);
  }
}
