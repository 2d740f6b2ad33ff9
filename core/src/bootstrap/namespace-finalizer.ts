// SPDX-License-Identifier: Apache-2.0
import { ContainerModule, inject, injectable } from 'inversify';
import type { Namespace } from 'kubernetes-types/core/v1.js';
import type { Subscription } from 'rxjs';
import type { GroupVersionKind } from '../api/object.js';
import { Scheme } from '../api/scheme.js';
import { ApiClient } from '../contracts/api-client.js';
import { Runnable } from '../contracts/runnable.js';
import { isStatusError } from '../errors/status-error.js';
import { Logger } from '../observability/logger.js';

/** The `spec.finalizers` entry this runnable owns and removes once a namespace is empty. */
const kubernetesFinalizer = 'kubernetes';

/** Tuning of the {@link NamespaceFinalizer}. @category Bootstrap */
export interface NamespaceFinalizerOptions {
  /**
   * Milliseconds between two passes over a namespace that still has content (objects held back by
   * their own finalizers or a grace period), and before re-opening a failed watch. Default: 1000.
   */
  retryIntervalMs?: number;
}

/**
 * Service identifier of the {@link NamespaceFinalizerOptions}.
 * @category Bootstrap
 */
export const NamespaceFinalizerOptions = Symbol.for('cpkit.NamespaceFinalizerOptions');

function isTerminating(namespace: Namespace): boolean {
  return namespace.metadata?.deletionTimestamp !== undefined || namespace.status?.phase === 'Terminating';
}

/**
 * Empties namespaces that are being deleted, then finalizes them, as upstream's namespace controller
 * does: deleting a Namespace only marks it `Terminating` (it keeps the `kubernetes` entry in
 * `spec.finalizers`); this runnable deletes every namespaced object in it (Background propagation),
 * retries until none is left (objects with their own finalizers take their time), then removes
 * `kubernetes` through the `finalize` subresource, after which the registry deletes the namespace.
 * @category Bootstrap
 */
@injectable()
export class NamespaceFinalizer implements Runnable {
  readonly name = 'namespace-finalizer';
  private readonly log: Logger;
  private readonly retryIntervalMs: number;
  /** Namespaces being worked on or waiting for a retry, so one namespace has one pass at a time. */
  private readonly queued = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private subscription: Subscription | undefined;
  private signal: AbortSignal | undefined;

  constructor(
    @inject(ApiClient) private readonly client: ApiClient,
    @inject(Scheme) private readonly scheme: Scheme,
    @inject(Logger) logger: Logger,
    @inject(NamespaceFinalizerOptions) options: NamespaceFinalizerOptions,
  ) {
    this.log = logger.child({ component: this.name });
    this.retryIntervalMs = options.retryIntervalMs ?? 1000;
  }

  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    signal.addEventListener('abort', () => this.shutdown(), { once: true });
    this.openWatch();
  }

  async stopped(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  private shutdown(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private openWatch(): void {
    if (this.signal?.aborted) return;
    // A watch without a resourceVersion starts with an ADDED for every namespace, so namespaces
    // left Terminating by an earlier run are picked up too.
    this.subscription = this.client.watch<Namespace>('Namespace').subscribe({
      next: (event) => {
        const name = event.object.metadata?.name;
        if (!name || event.type === 'BOOKMARK' || event.type === 'DELETED') return;
        if (isTerminating(event.object)) this.enqueue(name, 0);
      },
      error: (error: unknown) => {
        this.log.warn({ err: error }, 'namespace watch failed; reopening');
        this.after(this.retryIntervalMs, () => this.openWatch());
      },
      complete: () => this.after(0, () => this.openWatch()),
    });
  }

  private after(delayMs: number, work: () => void): void {
    if (this.signal?.aborted) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.signal?.aborted) work();
    }, delayMs);
    this.timers.add(timer);
  }

  private enqueue(name: string, delayMs: number): void {
    if (this.queued.has(name)) return;
    this.queued.add(name);
    this.after(delayMs, () => {
      const pass = this.process(name).finally(() => this.running.delete(pass));
      this.running.add(pass);
    });
  }

  private async process(name: string): Promise<void> {
    let again = false;
    try {
      again = !(await this.finalize(name));
    } catch (error) {
      this.log.warn({ err: error, namespace: name }, `finalizing namespace ${name} failed; retrying`);
      again = true;
    }
    this.queued.delete(name);
    if (again) this.enqueue(name, this.retryIntervalMs);
  }

  /** One pass over the namespace; true when it is finalized (or gone), false to try again later. */
  private async finalize(name: string): Promise<boolean> {
    let namespace: Namespace;
    try {
      namespace = await this.client.get<Namespace>('Namespace', name);
    } catch (error) {
      if (isStatusError(error, 'NotFound')) return true;
      throw error;
    }
    if (!isTerminating(namespace)) return true;
    const finalizers = namespace.spec?.finalizers ?? [];
    if (!finalizers.includes(kubernetesFinalizer)) return true;

    let remaining = 0;
    for (const kind of this.namespacedKinds()) {
      if (this.signal?.aborted) return false;
      remaining += await this.deleteAll(kind, name);
    }
    if (remaining > 0) {
      this.log.debug({ namespace: name, remaining }, `namespace ${name} still has ${remaining} objects`);
      return false;
    }
    // spec.finalizers changes only through the finalize subresource; a merge patch replaces the list.
    await this.client.patch(
      'Namespace',
      name,
      'merge',
      { spec: { finalizers: finalizers.filter((f) => f !== kubernetesFinalizer) } },
      { subresource: 'finalize' },
    );
    this.log.info({ namespace: name }, `namespace ${name} is empty and finalized`);
    return true;
  }

  /** One version per group and kind: every version of a kind reads and deletes the same objects. */
  private namespacedKinds(): GroupVersionKind[] {
    const seen = new Map<string, GroupVersionKind>();
    for (const kind of this.scheme.kinds()) {
      if (!kind.namespaced) continue;
      const key = `${kind.group}/${kind.kind}`;
      if (!seen.has(key)) seen.set(key, { group: kind.group, version: kind.version, kind: kind.kind });
    }
    return [...seen.values()];
  }

  /** Deletes every object of `kind` in `namespace`; returns how many are still there afterwards. */
  private async deleteAll(kind: GroupVersionKind, namespace: string): Promise<number> {
    const list = await this.client.list(kind, { namespace });
    let remaining = 0;
    for (const object of list.items) {
      const objectName = object.metadata?.name;
      if (!objectName) continue;
      try {
        const result = await this.client.delete(kind, objectName, {
          namespace,
          propagationPolicy: 'Background',
        });
        // A delete that returns an object with a deletionTimestamp only marked it: it is still there.
        if (result.metadata?.deletionTimestamp !== undefined) remaining += 1;
      } catch (error) {
        if (!isStatusError(error, 'NotFound')) throw error;
      }
    }
    return remaining;
  }
}

/**
 * Contributes {@link NamespaceFinalizer} as a Runnable (needs an `ApiClient` and the `Scheme`), so
 * `kubectl delete namespace` finishes.
 * @category Bootstrap
 */
export function namespaceFinalizerModule(options: NamespaceFinalizerOptions = {}): ContainerModule {
  return new ContainerModule((bind) => {
    bind<NamespaceFinalizerOptions>(NamespaceFinalizerOptions).toConstantValue(options);
    bind(NamespaceFinalizer).toSelf().inSingletonScope();
    bind(Runnable).toService(NamespaceFinalizer);
  });
}
