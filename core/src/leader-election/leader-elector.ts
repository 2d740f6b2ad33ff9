// SPDX-License-Identifier: Apache-2.0
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Logger } from 'pino';
import { BehaviorSubject, distinctUntilChanged, type Observable, Subject } from 'rxjs';
import type { GroupVersionKind, KubeObject } from '../api/object.js';
import type { LeaderElectionGate, LeaderElectionRegistration } from '../builder/leader-election-gate.js';
import { type Clock, SystemClock, sleep } from '../clock/clock.js';
import type { ApiClient } from '../contracts/api-client.js';
import type { Runnable } from '../contracts/runnable.js';
import { errors, isStatusError, type StatusCause } from '../errors/status-error.js';
import { formatMicroTime, parseMicroTime } from './micro-time.js';

/** The Lease kind leader election works on. @category Leader election */
export const leaseKind: GroupVersionKind = { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' };

type LeaseObject = Lease & KubeObject;

interface GatedWork {
  start: () => Promise<void>;
  stop: () => Promise<void>;
  running: boolean;
}

/** @category Leader election */
export type LeaderElectionEvent =
  | { type: 'started-leading' }
  | { type: 'stopped-leading' }
  /** The lease's holder changed (to this elector or another); `identity` is `''` once released. */
  | { type: 'new-leader'; identity: string };

/** @category Leader election */
export interface LeaderElectionCallbacks {
  /**
   * Called on becoming leader with a signal that aborts when leadership ends. A returned promise is
   * awaited (once the signal aborts) before the lease is released on shutdown, so work stops before
   * another process may take over.
   */
  onStartedLeading?(signal: AbortSignal): void | Promise<void>;
  onStoppedLeading?(): void;
  onNewLeader?(identity: string): void;
}

/** @category Leader election */
export interface LeaderElectorOptions {
  client: ApiClient;
  /** Name and namespace of the coordination.k8s.io/v1 Lease. */
  leaseName: string;
  leaseNamespace: string;
  /** This candidate's unique identity (e.g. `hostname_uuid`). */
  identity: string;
  /** How long a lease is valid after its last observed renewal. Default 15 000 ms. */
  leaseDurationMs?: number;
  /** The leader gives up if it could not renew for this long. Default 10 000 ms; must be < leaseDurationMs. */
  renewDeadlineMs?: number;
  /** Wait between attempts to acquire or renew. Default 2 000 ms. */
  retryPeriodMs?: number;
  /** Acquire attempts wait `retryPeriod * (1 + random * jitterFactor)`. Default 1.2, as upstream. */
  jitterFactor?: number;
  /** On shutdown, clear the holder so another candidate takes over at once. Default true. */
  releaseOnCancel?: boolean;
  callbacks?: LeaderElectionCallbacks;
  clock?: Clock;
  logger?: Logger;
  /** Source of jitter; default Math.random. */
  random?: () => number;
  /**
   * Runnables that must be ready before the election starts, e.g. `['system-namespaces']` so the
   * Lease's namespace exists. Default: none.
   */
  dependsOn?: readonly string[];
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's algorithm:
 * - a candidate acquires the lease when it does not exist, has no holder, or its holder has not
 *   renewed it within `leaseDurationSeconds` of when this candidate last saw it change (measured on
 *   the local clock, so clock skew between machines does not matter);
 * - every write carries the read resourceVersion, so of two candidates racing only one wins;
 * - the leader renews every `retryPeriod` and steps down when it could not renew for
 *   `renewDeadline` (before anyone else can take over: renewDeadline < leaseDuration);
 * - on shutdown it releases the lease (empty holder, `leaseDurationSeconds: 1`) so a standby takes over
 *   without waiting for expiry.
 * After losing leadership it becomes a candidate again. `start` resolves at once; the election runs
 * until the signal aborts.
 *
 * It is also the control plane's `LeaderElectionGate`: work registered with
 * {@link LeaderElector.whenLeader} is started on each election and stopped (awaited) when leadership
 * ends, before the lease is released.
 * @category Leader election
 */
export class LeaderElector implements Runnable, LeaderElectionGate {
  readonly name: string;
  readonly dependsOn: readonly string[];
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  private readonly options: LeaderElectorOptions;
  private readonly clock: Clock;
  private readonly jitterFactor: number;
  private readonly logger: Logger | undefined;
  private readonly eventsSubject = new Subject<LeaderElectionEvent>();
  private readonly leaderSubject = new BehaviorSubject<string | undefined>(undefined);
  private readonly leadingSubject = new BehaviorSubject<boolean>(false);
  private observed: { holder: string; renewTime: string | undefined } | undefined;
  private observedAt = 0;
  private running: Promise<void> | undefined;
  private readonly gated: GatedWork[] = [];
  private gatedStarts: Promise<void> = Promise.resolve();

  /** started/stopped leading and new-leader events. */
  readonly events$: Observable<LeaderElectionEvent> = this.eventsSubject.asObservable();
  /** The current holder as last observed (`undefined` before the first read, `''` when released). */
  readonly leader$: Observable<string | undefined> = this.leaderSubject.pipe(distinctUntilChanged());
  /** Whether this elector leads now; replays the current value on subscribe. */
  readonly isLeader$: Observable<boolean> = this.leadingSubject.pipe(distinctUntilChanged());

  constructor(options: LeaderElectorOptions) {
    this.options = options;
    this.identity = options.identity;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.jitterFactor = options.jitterFactor ?? 1.2;
    this.validate();
    this.name = `leader-election/${options.leaseNamespace}/${options.leaseName}`;
    this.dependsOn = options.dependsOn ?? [];
    this.clock = options.clock ?? new SystemClock();
    this.logger = options.logger?.child({ lease: this.name, identity: this.identity });
  }

  /** True while this elector holds the lease. */
  isLeader(): boolean {
    return this.leadingSubject.value;
  }

  /** The holder last observed. */
  getLeader(): string | undefined {
    return this.leaderSubject.value;
  }

  /**
   * Runs `start` each time this elector becomes leader and awaits `stop` each time leadership ends.
   * When it leads already, `start` runs before this resolves (and its rejection is this call's).
   */
  async whenLeader(
    start: () => Promise<void>,
    stop: () => Promise<void>,
  ): Promise<LeaderElectionRegistration> {
    const work: GatedWork = { start, stop, running: false };
    this.gated.push(work);
    if (this.isLeader()) {
      work.running = true;
      try {
        await start();
      } catch (error) {
        work.running = false;
        this.gated.splice(this.gated.indexOf(work), 1);
        throw error;
      }
    }
    let disposed = false;
    return {
      dispose: async (): Promise<void> => {
        if (disposed) return;
        disposed = true;
        const at = this.gated.indexOf(work);
        if (at >= 0) this.gated.splice(at, 1);
        if (work.running) {
          work.running = false;
          await stop();
        }
      },
    };
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.running) throw errors.badRequest(`${this.name}: already started`);
    if (signal.aborted) return;
    this.running = this.loop(signal).finally(() => {
      this.running = undefined;
    });
  }

  async stopped(): Promise<void> {
    await this.running;
  }

  private validate(): void {
    const causes: StatusCause[] = [];
    const o = this.options;
    const invalid = (field: string, message: string): void => {
      causes.push({ reason: 'FieldValueInvalid', field, message });
    };
    for (const field of ['leaseName', 'leaseNamespace', 'identity'] as const) {
      if (typeof o?.[field] !== 'string' || o[field] === '') {
        causes.push({ reason: 'FieldValueRequired', field, message: 'must be a non-empty string' });
      }
    }
    if (!o?.client)
      causes.push({ reason: 'FieldValueRequired', field: 'client', message: 'an ApiClient is required' });
    for (const [field, value] of [
      ['leaseDurationMs', this.leaseDurationMs],
      ['renewDeadlineMs', this.renewDeadlineMs],
      ['retryPeriodMs', this.retryPeriodMs],
    ] as const) {
      if (!Number.isFinite(value) || value <= 0) invalid(field, `must be a positive number, got ${value}`);
    }
    if (!(this.jitterFactor >= 0)) invalid('jitterFactor', `must be >= 0, got ${this.jitterFactor}`);
    if (this.leaseDurationMs <= this.renewDeadlineMs) {
      invalid('leaseDurationMs', `must be greater than renewDeadlineMs (${this.renewDeadlineMs})`);
    }
    if (this.renewDeadlineMs <= this.retryPeriodMs * Math.max(1, this.jitterFactor)) {
      invalid(
        'renewDeadlineMs',
        `must be greater than retryPeriodMs × max(1, jitterFactor) (${this.retryPeriodMs * Math.max(1, this.jitterFactor)})`,
      );
    }
    if (causes.length > 0)
      throw errors.invalid('LeaderElection', o?.leaseName ?? '', causes, 'coordination.k8s.io');
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const random = this.options.random ?? Math.random;
    while (!signal.aborted) {
      // Candidate: try until we hold the lease.
      let acquired = false;
      while (!signal.aborted) {
        acquired = await this.tryAcquireOrRenew();
        if (acquired) break;
        await sleep(this.clock, this.retryPeriodMs * (1 + random() * this.jitterFactor), signal);
      }
      if (signal.aborted) {
        // A stop that raced with a successful acquire must not leave the lease held until it expires.
        if (acquired && (this.options.releaseOnCancel ?? true)) await this.release();
        return;
      }

      // Leader: renew until it fails for renewDeadline or we are stopped.
      const leading = new AbortController();
      this.leadingSubject.next(true);
      this.logger?.info('became leader');
      this.eventsSubject.next({ type: 'started-leading' });
      let work: Promise<void> | undefined;
      try {
        const result = this.options.callbacks?.onStartedLeading?.(leading.signal);
        if (result)
          work = Promise.resolve(result).catch((error) =>
            this.logger?.error({ err: error }, 'leader work failed'),
          );
      } catch (error) {
        this.logger?.error({ err: error }, 'onStartedLeading threw');
      }
      this.startGatedWork(leading.signal);
      let lastRenew = this.clock.now();
      while (!signal.aborted) {
        await sleep(this.clock, this.retryPeriodMs, signal);
        if (signal.aborted) break;
        if (await this.tryAcquireOrRenew()) {
          lastRenew = this.clock.now();
        } else if (this.clock.now() - lastRenew >= this.renewDeadlineMs) {
          this.logger?.warn('failed to renew the lease within the renew deadline; stepping down');
          break;
        }
      }
      leading.abort();
      this.leadingSubject.next(false);
      await this.stopGatedWork();
      if (signal.aborted && (this.options.releaseOnCancel ?? true)) {
        await work;
        await this.release();
      }
      this.logger?.info('stopped leading');
      this.eventsSubject.next({ type: 'stopped-leading' });
      this.callSafely(() => this.options.callbacks?.onStoppedLeading?.());
    }
  }

  // Starts registered work in registration order without holding up lease renewals.
  private startGatedWork(leading: AbortSignal): void {
    this.gatedStarts = (async () => {
      for (const work of [...this.gated]) {
        if (leading.aborted) return;
        work.running = true;
        try {
          await work.start();
        } catch (error) {
          this.logger?.error({ err: error }, 'work gated on leadership failed to start');
        }
      }
    })();
  }

  // Stops running work in reverse order once every start has settled.
  private async stopGatedWork(): Promise<void> {
    await this.gatedStarts;
    for (const work of [...this.gated].reverse()) {
      if (!work.running) continue;
      work.running = false;
      try {
        await work.stop();
      } catch (error) {
        this.logger?.error({ err: error }, 'work gated on leadership failed to stop');
      }
    }
  }

  private newSpec(previous: Lease['spec'], now: number): NonNullable<Lease['spec']> {
    const mine = previous?.holderIdentity === this.identity;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: mine && previous?.acquireTime ? previous.acquireTime : formatMicroTime(now),
      renewTime: formatMicroTime(now),
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
  }

  /** One attempt; true when this elector holds the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, leaseName, leaseNamespace } = this.options;
    let lease: LeaseObject;
    try {
      lease = await client.get<LeaseObject>(leaseKind, leaseName, { namespace: leaseNamespace });
    } catch (error) {
      if (!isStatusError(error, 'NotFound')) {
        this.logger?.warn({ err: error }, 'could not read the lease');
        return false;
      }
      try {
        const spec = { ...this.newSpec(undefined, this.clock.now()), leaseTransitions: 0 };
        const created = await client.create<LeaseObject>({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: leaseName, namespace: leaseNamespace },
          spec,
        });
        this.observe(created.spec);
        return true;
      } catch (createError) {
        this.logger?.debug({ err: createError }, 'lost the race to create the lease');
        return false;
      }
    }

    const now = this.clock.now();
    this.observe(lease.spec);
    const holder = lease.spec?.holderIdentity ?? '';
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== this.identity && this.observedAt + durationMs > now) return false;

    try {
      const updated = await client.update<LeaseObject>({ ...lease, spec: this.newSpec(lease.spec, now) });
      this.observe(updated.spec);
      return true;
    } catch (error) {
      // A Conflict means someone else wrote first: they won this round.
      this.logger?.debug({ err: error }, 'could not update the lease');
      return false;
    }
  }

  private async release(): Promise<void> {
    const { client, leaseName, leaseNamespace } = this.options;
    try {
      const lease = await client.get<LeaseObject>(leaseKind, leaseName, { namespace: leaseNamespace });
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = formatMicroTime(this.clock.now());
      const released = await client.update<LeaseObject>({
        ...lease,
        spec: {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: lease.spec?.leaseTransitions ?? 0,
        },
      });
      this.observe(released.spec);
      this.logger?.info('released the lease');
    } catch (error) {
      this.logger?.warn({ err: error }, 'could not release the lease; others wait for it to expire');
    }
  }

  /** Records what the lease says and when we saw it change, on our own clock. */
  private observe(spec: Lease['spec']): void {
    const holder = spec?.holderIdentity ?? '';
    const renewTime = spec?.renewTime;
    if (this.observed?.holder === holder && this.observed.renewTime === renewTime) return;
    const holderChanged = this.observed?.holder !== holder;
    this.observed = { holder, renewTime };
    this.observedAt = this.clock.now();
    if (parseMicroTime(renewTime) === undefined && renewTime !== undefined) {
      this.logger?.warn({ renewTime }, 'lease has an unparsable renewTime');
    }
    if (holderChanged) {
      this.leaderSubject.next(holder);
      this.eventsSubject.next({ type: 'new-leader', identity: holder });
      this.callSafely(() => this.options.callbacks?.onNewLeader?.(holder));
    }
  }

  private callSafely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.logger?.error({ err: error }, 'leader election callback threw');
    }
  }
}
