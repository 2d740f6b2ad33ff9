// SPDX-License-Identifier: Apache-2.0
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import {
  checkStoreKey,
  checkStoreLimit,
  checkStoreOptions,
  checkStoreRevision,
  checkStoreValue,
  decodeContinueToken,
  encodeContinueToken,
  errors,
  invalidStoreArgument,
  type StatusError,
  type Store,
  type StoreBackupInfo,
  type StoreDeleteOptions,
  type StoreEntry,
  type StoreEvent,
  type StoreGetOptions,
  type StoreListOptions,
  type StoreListResult,
  type StoreWatchOptions,
} from '@cpkit/core';
import type { ClientDuplexStream, ClientReadableStream } from '@grpc/grpc-js';
import {
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  isBrokenCircuitError,
  retry,
} from 'cockatiel';
import { Etcd3, type IKeyValue, type IOptions, type IResponseHeader, type IWatchResponse } from 'etcd3';
import { Observable, type Subscriber } from 'rxjs';
import { compactedMessage, futureRevisionMessage, toStatusError } from './etcd-store-errors.js';

/**
 * Options of {@link openEtcdStore}.
 * @category Store
 */
export interface EtcdStoreOptions {
  /**
   * Client URLs of the etcd members: `host:port`, `http://host:port` or `https://host:port`. Calls go
   * to any of them and move to another when one fails.
   */
  endpoints: string[];
  /**
   * Prepended to every key, so several control planes can share one etcd: `''` (the default) or a
   * path such as `/cpkit` (starts with `/`, does not end with `/`).
   */
  prefix?: string;
  /** TLS: PEM file paths of the CA that signed the members' certificates, and of a client certificate and key. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** etcd username/password authentication. */
  auth?: { username: string; password: string };
  /** How long {@link openEtcdStore} waits for a member to answer, in ms. Default 5000. */
  dialTimeoutMs?: number;
  /** Deadline of each call (retries across endpoints included), in ms. Default 10000. */
  requestTimeoutMs?: number;
}

const defaultDialTimeoutMs = 5_000;
const defaultRequestTimeoutMs = 10_000;
/** How long a member whose calls failed is skipped before one call probes it again. */
const hostSkipMs = 1_000;
/** Watch reconnect backoff: first retry, and the longest wait between retries. */
const watchRetryFirstMs = 50;
const watchRetryMaxMs = 2_000;

/** Options after validation, in the shapes the client wants. */
interface ResolvedOptions {
  endpoints: string[];
  hosts: string[];
  prefix: string;
  clientOptions: IOptions;
  dialTimeoutMs: number;
  requestTimeoutMs: number;
}

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix). */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  // Only 0xff bytes: the range is open-ended.
  return Buffer.from([0]);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isUnavailable(error: Error): boolean {
  return (error as { code?: unknown }).code === 14 || error.constructor.name === 'GRPCUnavailableError';
}

/**
 * UNAVAILABLE raised before the request reached any member (no connection, connection refused): the
 * request cannot have been applied, so even a write is safe to send again. Other UNAVAILABLE errors
 * ("leader changed", a connection dropped mid-call) may come after etcd applied a write.
 */
function isNeverSent(error: Error): boolean {
  return (
    isUnavailable(error) &&
    /No connection established|ECONNREFUSED|ENOTCONN|EHOSTUNREACH|failed to connect/i.test(error.message)
  );
}

/** Reads are idempotent: retried (on another member) after any UNAVAILABLE. */
const readRetries = 4;
const readOperations: ReadonlySet<string> = new Set([
  'get',
  'list',
  'currentRevision',
  'compactedRevision',
  'backup',
]);

function isUnreachable(error: Error): boolean {
  return isUnavailable(error) || error.constructor.name === 'GRPCDeadlineExceededError';
}

async function readPem(option: string, path: unknown): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  if (typeof path !== 'string' || path.length === 0)
    throw invalidStoreArgument(option, path, 'must be a file path');
  try {
    return await readFile(path);
  } catch (error) {
    throw invalidStoreArgument(
      option,
      path,
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
}

/** Checks every option (BadRequest naming the first bad one) and builds the etcd3 client options. */
async function resolveOptions(options: EtcdStoreOptions): Promise<ResolvedOptions> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidStoreArgument('options', options, 'must be an object');
  }
  const { endpoints, prefix = '', tls, auth } = options;
  const dialTimeoutMs = options.dialTimeoutMs ?? defaultDialTimeoutMs;
  const requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  if (!Array.isArray(endpoints) || endpoints.length === 0) {
    throw invalidStoreArgument(
      'endpoints',
      endpoints,
      'must be a non-empty array of host:port or URL strings',
    );
  }
  const schemes = new Set<string>();
  const hosts = endpoints.map((endpoint, i) => {
    const field = `endpoints[${i}]`;
    if (typeof endpoint !== 'string') throw invalidStoreArgument(field, endpoint, 'must be a string');
    const match = /^(?:(https?):\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/.exec(endpoint);
    if (!match)
      throw invalidStoreArgument(field, endpoint, 'must be host:port, http://host:port or https://host:port');
    const port = Number(match[3]);
    if (port < 1 || port > 65535)
      throw invalidStoreArgument(field, endpoint, 'port must be between 1 and 65535');
    schemes.add(match[1] ?? (tls ? 'https' : 'http'));
    return `${match[2]}:${port}`;
  });
  if (schemes.size > 1)
    throw invalidStoreArgument('endpoints', endpoints, 'must all use TLS or all use plain HTTP');
  const secure = schemes.has('https');
  if (typeof prefix !== 'string') throw invalidStoreArgument('prefix', prefix, 'must be a string');
  if (prefix !== '' && (!prefix.startsWith('/') || prefix.endsWith('/') || prefix.includes('\0'))) {
    throw invalidStoreArgument(
      'prefix',
      prefix,
      "must be empty or start with '/', not end with '/' and contain no NUL",
    );
  }
  if (!isPositiveInteger(dialTimeoutMs))
    throw invalidStoreArgument('dialTimeoutMs', dialTimeoutMs, 'must be a positive integer');
  if (!isPositiveInteger(requestTimeoutMs)) {
    throw invalidStoreArgument('requestTimeoutMs', requestTimeoutMs, 'must be a positive integer');
  }
  const clientOptions: IOptions = {
    hosts: hosts.map((host) => `${secure ? 'https' : 'http'}://${host}`),
    // Every unary call gets a deadline; streams (watch, snapshot) live as long as they are used.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
    grpcOptions: {
      // Reconnect to a member that came back within a second, not after grpc's default 2-minute backoff.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1_000,
      // Notice a silently dead member (no RST, e.g. a lost machine) on long-lived watch streams.
      // etcd rejects pings more often than every 5 s, so 10 s stays clear of its limit.
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    },
    faultHandling: {
      // A member that refused or timed out twice in a row is skipped for a second, then probed by one
      // call (the circuit's half-open state); etcd3's default skips it for 5 s after 3 failures.
      host: () =>
        circuitBreaker(handleWhen(isUnreachable), {
          halfOpenAfter: hostSkipMs,
          breaker: new ConsecutiveBreaker(2),
        }),
      // A call that could not reach its member moves to the next member (etcd3 picks a new one per
      // attempt), with a short backoff so an election (~1 s) can finish. Only failures before the
      // request was sent are retried here, because this policy also covers writes: a write that failed
      // after reaching etcd may have applied, and sending it again would report AlreadyExists or
      // Conflict for a write that happened. Reads retry every UNAVAILABLE in `call`. Deadline-exceeded
      // calls are not retried: the deadline covers the whole call.
      global: retry(
        handleWhen((error) => isNeverSent(error) || error.name === 'BrokenCircuitError'),
        {
          maxAttempts: hosts.length + 2,
          backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }),
        },
      ),
    },
  };
  if (tls !== undefined) {
    if (typeof tls !== 'object' || tls === null || Array.isArray(tls))
      throw invalidStoreArgument('tls', tls, 'must be an object');
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      throw invalidStoreArgument(
        tls.cert === undefined ? 'tls.cert' : 'tls.key',
        undefined,
        'tls.cert and tls.key go together',
      );
    }
    const [ca, cert, key] = await Promise.all([
      readPem('tls.ca', tls.ca),
      readPem('tls.cert', tls.cert),
      readPem('tls.key', tls.key),
    ]);
    if (ca !== undefined || cert !== undefined) {
      // Without a CA, grpc verifies the members against the system's roots.
      clientOptions.credentials = { rootCertificate: ca as Buffer, certChain: cert, privateKey: key };
    }
  }
  if (auth !== undefined) {
    if (typeof auth !== 'object' || auth === null)
      throw invalidStoreArgument('auth', auth, 'must be an object');
    if (typeof auth.username !== 'string' || auth.username.length === 0) {
      throw invalidStoreArgument('auth.username', auth.username, 'must be a non-empty string');
    }
    if (typeof auth.password !== 'string')
      throw invalidStoreArgument('auth.password', '…', 'must be a string');
    clientOptions.auth = {
      username: auth.username,
      password: auth.password,
      callOptions: () => ({ deadline: Date.now() + requestTimeoutMs }),
    };
  }
  return { endpoints: endpoints.slice(), hosts, prefix, clientOptions, dialTimeoutMs, requestTimeoutMs };
}

/**
 * Opens a {@link Store} on etcd v3: validates `options` (a `BadRequest` naming the option), connects,
 * and checks within `dialTimeoutMs` that a member answers; when none does it fails with
 * `ServiceUnavailable` naming every endpoint and the last cause. Wrong credentials fail with
 * `Unauthorized`. The caller owns the store and closes it.
 *
 * ```ts
 * const store = await openEtcdStore({ endpoints: ['127.0.0.1:2379'], prefix: '/cpkit' });
 * ```
 * @category Store
 */
export async function openEtcdStore(options: EtcdStoreOptions): Promise<EtcdStore> {
  const resolved = await resolveOptions(options);
  const store = new EtcdStore(resolved);
  try {
    await store.dial();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The Store role on etcd v3, through the `etcd3` client: one etcd key per object (the store's
 * prefix + the key), etcd's revisions as the store's revisions, transactions for create,
 * compare-and-swap update and delete, ranges for lists, etcd watches for watches. Open it with
 * {@link openEtcdStore}.
 * @category Store
 */
export class EtcdStore implements Store {
  private readonly client: Etcd3;
  private readonly endpoints: string[];
  private readonly prefix: string;
  private readonly prefixBytes: Buffer;
  /** `prefix + '/'`: every key of this store starts with it; reads of it alone learn the revision. */
  private readonly rootKey: Buffer;
  private readonly requestTimeoutMs: number;
  private readonly dialTimeoutMs: number;
  private readonly watches = new Set<EtcdWatch>();
  private closed = false;
  /** The highest revision any response showed: where a watch "from now" starts. */
  private knownRevision = 0;
  /** The highest compaction point seen or made; a hint for {@link compactedRevision}. */
  private compactedHint = 0;

  /** @internal Use {@link openEtcdStore}. */
  constructor(options: ResolvedOptions) {
    this.endpoints = options.endpoints;
    this.prefix = options.prefix;
    this.prefixBytes = Buffer.from(options.prefix);
    this.rootKey = Buffer.from(`${options.prefix}/`);
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.dialTimeoutMs = options.dialTimeoutMs;
    this.client = new Etcd3(options.clientOptions);
  }

  /** Number of watch subscriptions open now (for leak checks in tests). */
  get watchCount(): number {
    return this.watches.size;
  }

  /** @internal Waits until a member answers a read, or fails after the dial timeout. */
  async dial(): Promise<void> {
    const deadline = Date.now() + this.dialTimeoutMs;
    let lastCause: string | undefined;
    for (;;) {
      try {
        const response = await this.client.kv.range(
          { key: this.rootKey, count_only: true, limit: 1 },
          { deadline: Math.min(deadline, Date.now() + this.requestTimeoutMs) },
        );
        this.observe(response.header);
        return;
      } catch (error) {
        const status = toStatusError(error, 'connect', this.endpoints);
        // Wrong credentials or permissions will not get better by waiting.
        if (status.reason !== 'ServiceUnavailable' && status.reason !== 'Timeout') throw status;
        // Once every member's circuit is open the client only says so; keep the cause that opened it.
        const cause = error instanceof Error ? error.message : String(error);
        if (!isBrokenCircuitError(error) || lastCause === undefined) lastCause = cause;
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      await sleep(Math.min(200, left));
    }
    throw errors.serviceUnavailable(
      `cannot reach etcd at ${this.endpoints.join(', ')} within ${this.dialTimeoutMs} ms: ${lastCause ?? 'no answer'}`,
    );
  }

  async create(key: string, value: string): Promise<StoreEntry> {
    this.check(checkStoreKey(key) ?? checkStoreValue(value));
    const k = this.etcdKey(key);
    const response = await this.call('create', () =>
      this.client.kv.txn(
        {
          compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
          success: [{ request_put: { key: k, value: Buffer.from(value) } }],
          failure: [],
        },
        this.deadline(),
      ),
    );
    if (!response.succeeded) throw errors.alreadyExists({ resource: 'key', name: key });
    const revision = Number(response.header.revision);
    return { key, value, createRevision: revision, modRevision: revision };
  }

  async get(key: string, options?: StoreGetOptions): Promise<StoreEntry> {
    this.check(checkStoreKey(key) ?? checkStoreOptions(options) ?? this.checkReadRevision(options?.revision));
    const revision = options?.revision ?? 0;
    const response = await this.call(
      'get',
      () => this.client.kv.range({ key: this.etcdKey(key), revision }, this.deadline()),
      revision,
    );
    if (response.kvs.length === 0) throw errors.notFound({ resource: 'key', name: key });
    return this.entry(response.kvs[0]);
  }

  async list(prefix: string, options?: StoreListOptions): Promise<StoreListResult> {
    this.check(
      checkStoreKey(prefix, 'prefix') ??
        checkStoreOptions(options) ??
        this.checkReadRevision(options?.revision),
    );
    if (options?.limit !== undefined) this.check(checkStoreLimit(options.limit));
    let start = prefix;
    let revision = options?.revision ?? 0;
    if (options?.continue !== undefined) {
      const position = decodeContinueToken(options.continue, prefix);
      if (!('startKey' in position)) throw position;
      if (options.revision !== undefined && options.revision !== position.revision) {
        throw invalidStoreArgument(
          'revision',
          options.revision,
          `does not match the continue token's revision ${position.revision}`,
        );
      }
      start = position.startKey;
      revision = position.revision;
    }
    const response = await this.call(
      'list',
      () =>
        this.client.kv.range(
          {
            key: this.etcdKey(start),
            range_end: prefixEnd(this.etcdKey(prefix)),
            revision,
            limit: options?.limit ?? 0,
          },
          this.deadline(),
        ),
      revision,
    );
    const items = response.kvs.map((kv) => this.entry(kv));
    // etcd's header carries the current revision even for a read at an older one.
    const result: StoreListResult = { items, revision: revision || Number(response.header.revision) };
    if (response.more && items.length > 0) {
      result.continue = encodeContinueToken({
        revision: result.revision,
        startKey: `${items[items.length - 1].key}\0`,
      });
      result.remainingItemCount = Number(response.count) - items.length;
    }
    return result;
  }

  async update(key: string, value: string, expectedRevision: number): Promise<StoreEntry> {
    this.check(
      checkStoreKey(key) ??
        checkStoreValue(value) ??
        checkStoreRevision(expectedRevision, 'expectedRevision'),
    );
    const k = this.etcdKey(key);
    const response = await this.call('update', () =>
      this.client.kv.txn(
        {
          compare: [{ key: k, target: 'Mod', result: 'Equal', mod_revision: expectedRevision }],
          success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
          // On a failed compare, read the key in the same round trip to tell NotFound from Conflict.
          failure: [{ request_range: { key: k, keys_only: true } }],
        },
        this.deadline(),
      ),
    );
    if (!response.succeeded)
      throw this.preconditionFailure(key, expectedRevision, response.responses[0]?.response_range?.kvs);
    const previous = response.responses[0].response_put.prev_kv;
    const revision = Number(response.header.revision);
    return { key, value, createRevision: Number(previous.create_revision), modRevision: revision };
  }

  async delete(key: string, options?: StoreDeleteOptions): Promise<StoreEntry> {
    this.check(checkStoreKey(key) ?? checkStoreOptions(options));
    const expected = options?.expectedRevision;
    if (expected !== undefined) this.check(checkStoreRevision(expected, 'expectedRevision'));
    const k = this.etcdKey(key);
    let previous: IKeyValue | undefined;
    let revision: number;
    if (expected === undefined) {
      const response = await this.call('delete', () =>
        this.client.kv.deleteRange({ key: k, prev_kv: true }, this.deadline()),
      );
      previous = response.prev_kvs[0];
      revision = Number(response.header.revision);
    } else {
      const response = await this.call('delete', () =>
        this.client.kv.txn(
          {
            compare: [{ key: k, target: 'Mod', result: 'Equal', mod_revision: expected }],
            success: [{ request_delete_range: { key: k, prev_kv: true } }],
            failure: [{ request_range: { key: k, keys_only: true } }],
          },
          this.deadline(),
        ),
      );
      if (!response.succeeded)
        throw this.preconditionFailure(key, expected, response.responses[0]?.response_range?.kvs);
      previous = response.responses[0].response_delete_range.prev_kvs[0];
      revision = Number(response.header.revision);
    }
    if (previous === undefined) throw errors.notFound({ resource: 'key', name: key });
    return { ...this.entry(previous), modRevision: revision };
  }

  watch(key: string, options?: StoreWatchOptions): Observable<StoreEvent> {
    return new Observable<StoreEvent>((subscriber) => {
      const problem =
        this.unusable() ??
        checkStoreKey(key) ??
        checkStoreOptions(options) ??
        (options?.afterRevision === undefined
          ? undefined
          : checkStoreRevision(options.afterRevision, 'afterRevision', true)) ??
        (options?.prefix === undefined || typeof options.prefix === 'boolean'
          ? undefined
          : invalidStoreArgument('prefix', options.prefix, 'must be a boolean'));
      if (problem) {
        subscriber.error(problem);
        return;
      }
      const etcdKey = this.etcdKey(key);
      const watch = new EtcdWatch(this.client, {
        key: etcdKey,
        rangeEnd: options?.prefix === false ? undefined : prefixEnd(etcdKey),
        // "From now" means after every change this client has already seen, so a write made just
        // before subscribing cannot slip in while the watch is being set up, nor one made just after.
        after: options?.afterRevision ?? this.knownRevision,
        fromNow: options?.afterRevision === undefined,
        toEvent: (event) => this.toEvent(event),
        subscriber,
        endpoints: this.endpoints,
      });
      this.watches.add(watch);
      watch.start();
      return () => {
        this.watches.delete(watch);
        watch.stop();
      };
    });
  }

  async currentRevision(): Promise<number> {
    this.check(undefined);
    const response = await this.call('currentRevision', () =>
      this.client.kv.range({ key: this.rootKey, count_only: true, limit: 1 }, this.deadline()),
    );
    return Number(response.header.revision);
  }

  async compact(revision: number): Promise<void> {
    this.check(checkStoreRevision(revision, 'revision'));
    try {
      // physical: the call returns once the compaction reached the backend, so older reads fail at once.
      await this.call(
        'compact',
        () => this.client.kv.compact({ revision, physical: true }, this.deadline()),
        revision,
      );
    } catch (error) {
      // Compacting to a point already compacted past is done already.
      if ((error as StatusError).reason !== 'Expired') throw error;
    }
    this.compactedHint = Math.max(this.compactedHint, revision);
  }

  /**
   * etcd 3.4 has no call that returns the compaction point, but a read at a revision older than it
   * fails with "compacted". So: check the last point seen (two reads: it is readable, the one before
   * is not), and otherwise binary-search the oldest readable revision (about log2(revision) reads).
   */
  async compactedRevision(): Promise<number> {
    const current = await this.currentRevision();
    const readable = async (revision: number): Promise<boolean> => {
      try {
        await this.call(
          'compactedRevision',
          () =>
            this.client.kv.range(
              { key: this.rootKey, count_only: true, limit: 1, revision },
              this.deadline(),
            ),
          revision,
        );
        return true;
      } catch (error) {
        if ((error as StatusError).reason === 'Expired') return false;
        throw error;
      }
    };
    const hint = Math.min(this.compactedHint, current);
    let low = 1;
    if (hint <= 1) {
      if (await readable(1)) return this.compactedHint <= 1 ? this.compactedHint : 0;
      low = 2;
    } else {
      const [atHint, beforeHint] = await Promise.all([readable(hint), readable(hint - 1)]);
      if (atHint && !beforeHint) return hint;
      if (!atHint) low = hint + 1;
    }
    // Invariant: the answer is in [low, current]; the current revision is always readable.
    let high = current;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (await readable(middle)) high = middle;
      else low = middle + 1;
    }
    this.compactedHint = Math.max(this.compactedHint, low);
    return low;
  }

  /**
   * Streams an etcd snapshot (the maintenance API; the whole member database, every prefix) into a
   * temp file beside `path`, then renames it over `path`. `revision` is the store revision read
   * just before the snapshot began (the snapshot has at least that state) and `keys` the number of
   * this store's keys at that revision. Restore with `etcdctl snapshot restore` (see the README).
   */
  async backup(path: string): Promise<StoreBackupInfo> {
    this.check(
      typeof path === 'string' && path.length > 0
        ? undefined
        : invalidStoreArgument('path', path, 'must be a non-empty string'),
    );
    const counted = await this.call('backup', () =>
      this.client.kv.range(
        { key: this.rootKey, range_end: prefixEnd(this.rootKey), count_only: true },
        this.deadline(),
      ),
    );
    const revision = Number(counted.header.revision);
    const keys = Number(counted.count);
    const temporary = `${path}.${process.pid}.${Date.now()}.part`;
    try {
      const stream = (await this.client.maintenance.snapshot()) as unknown as ClientReadableStream<{
        blob: Buffer;
      }>;
      await new Promise<void>((resolve, reject) => {
        const file = createWriteStream(temporary);
        let failed = false;
        const fail = (error: unknown): void => {
          if (failed) return;
          failed = true;
          stream.cancel();
          file.destroy();
          reject(error);
        };
        file.on('error', fail);
        stream.on('error', fail);
        stream.on('data', (chunk: { blob: Buffer }) => {
          if (!file.write(chunk.blob)) {
            stream.pause();
            file.once('drain', () => stream.resume());
          }
        });
        stream.on('end', () => {
          if (!failed) file.end(() => resolve());
        });
      });
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw toStatusError(error, `backup to ${path}`, this.endpoints);
    }
    const { size } = await stat(path);
    return { revision, keys, bytes: size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watch of this.watches) watch.complete();
    this.watches.clear();
    this.client.close();
  }

  /** Throws the first problem: the store being closed, then the argument problem given. */
  private check(problem: StatusError | undefined): void {
    const failure = this.unusable() ?? problem;
    if (failure) throw failure;
  }

  private unusable(): StatusError | undefined {
    return this.closed ? errors.serviceUnavailable('the etcd store is closed') : undefined;
  }

  private checkReadRevision(revision: unknown): StatusError | undefined {
    return revision === undefined ? undefined : checkStoreRevision(revision, 'revision');
  }

  /** Runs one etcd call, maps its failure to a StatusError and remembers the revision it saw. */
  private async call<T extends { header?: IResponseHeader }>(
    what: string,
    operation: () => Promise<T>,
    revision?: number,
  ): Promise<T> {
    let response: T;
    try {
      response = readOperations.has(what) ? await this.retryRead(operation) : await operation();
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      if (revision && message.includes(futureRevisionMessage)) {
        throw invalidStoreArgument('revision', revision, 'is newer than the current revision');
      }
      if (revision && message.includes(compactedMessage)) {
        throw errors.expired(`${what}: revision ${revision} has been compacted`);
      }
      throw toStatusError(error, what, this.endpoints);
    }
    if (response.header) this.observe(response.header);
    return response;
  }

  /** Runs a read again, after a short pause, when a member was unavailable (e.g. during an election). */
  private async retryRead<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (attempt >= readRetries || !(error instanceof Error) || !isUnavailable(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
  }

  private observe(header: IResponseHeader): void {
    const revision = Number(header.revision);
    if (revision > this.knownRevision) this.knownRevision = revision;
  }

  private deadline(): { deadline: number } {
    return { deadline: Date.now() + this.requestTimeoutMs };
  }

  private etcdKey(key: string): Buffer {
    return Buffer.from(this.prefix + key);
  }

  private entry(kv: IKeyValue): StoreEntry {
    return {
      key: kv.key.toString('utf8', this.prefixBytes.length),
      value: kv.value.toString('utf8'),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  private preconditionFailure(key: string, expected: number, current: IKeyValue[] | undefined): StatusError {
    if (current === undefined || current.length === 0) return errors.notFound({ resource: 'key', name: key });
    return errors.conflict(
      { resource: 'key', name: key },
      `the key was modified at revision ${current[0].mod_revision}, expected ${expected}`,
    );
  }

  private toEvent(event: WatchEventMessage): StoreEvent {
    const key = event.kv.key.toString('utf8', this.prefixBytes.length);
    const revision = Number(event.kv.mod_revision);
    const previous = event.prev_kv;
    if (event.type === 'Delete') {
      const value = previous ? previous.value.toString('utf8') : '';
      const deleted: StoreEvent = { type: 'delete', key, revision, value, prevValue: value };
      if (previous) deleted.prevRevision = Number(previous.mod_revision);
      return deleted;
    }
    const value = event.kv.value.toString('utf8');
    // version 1 is the first put of the key's current life.
    if (event.kv.version === '1') return { type: 'create', key, revision, value };
    const updated: StoreEvent = { type: 'update', key, revision, value };
    if (previous) {
      updated.prevValue = previous.value.toString('utf8');
      updated.prevRevision = Number(previous.mod_revision);
    }
    return updated;
  }
}

type WatchEventMessage = IWatchResponse['events'][number];

function isInvalidToken(message: string | undefined): boolean {
  return message?.includes('invalid auth token') ?? false;
}

interface EtcdWatchSettings {
  key: Buffer;
  rangeEnd: Buffer | undefined;
  /** Deliver changes with a revision strictly greater than this. */
  after: number;
  /** The caller gave no revision: a compacted start is not the caller's error (see {@link EtcdWatch}). */
  fromNow: boolean;
  toEvent(event: WatchEventMessage): StoreEvent;
  subscriber: Subscriber<StoreEvent>;
  endpoints: string[];
}

/**
 * One store watch on its own etcd watch stream. etcd3's own Watcher resumes a broken watch from the
 * revision in the last response header, which can be newer than the last event it delivered (a
 * created response, or a catch-up batch), so it could skip events; this keeps the revision of the
 * last event delivered and re-creates the watch from the one after it, on whichever member answers,
 * with backoff, until it is stopped. Events at or below that revision are dropped, so none repeats.
 */
class EtcdWatch {
  private stream: ClientDuplexStream<unknown, IWatchResponse> | undefined;
  private delivered: number;
  private stopped = false;
  private retryMs = watchRetryFirstMs;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Start at etcd's current revision (the next create request has no start revision). */
  private startAtCurrent = false;

  constructor(
    private readonly client: Etcd3,
    private readonly settings: EtcdWatchSettings,
  ) {
    this.delivered = settings.after;
  }

  start(): void {
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.drop();
  }

  /** The store closed: end the stream for the subscriber. */
  complete(): void {
    this.stop();
    this.settings.subscriber.complete();
  }

  private async connect(): Promise<void> {
    let stream: ClientDuplexStream<unknown, IWatchResponse>;
    try {
      stream = (await this.client.watchClient.watch()) as unknown as ClientDuplexStream<
        unknown,
        IWatchResponse
      >;
    } catch {
      this.retry();
      return;
    }
    // grpc emits 'error' when a stream is cancelled or breaks; without a listener that would throw.
    stream.on('error', () => undefined);
    if (this.stopped) {
      stream.cancel();
      return;
    }
    this.stream = stream;
    stream.on('data', (response: IWatchResponse) => this.receive(response));
    stream.on('error', (error: Error) => this.broken(stream, error));
    stream.on('end', () => this.broken(stream));
    try {
      stream.write({
        create_request: {
          key: this.settings.key,
          range_end: this.settings.rangeEnd,
          start_revision: this.startAtCurrent ? 0 : this.delivered + 1,
          prev_kv: true,
        },
      });
    } catch (error) {
      this.broken(stream, error as Error);
    }
  }

  private receive(response: IWatchResponse): void {
    if (this.stopped) return;
    if (response.canceled) {
      const compactedTo = Number(response.compact_revision);
      if (compactedTo > 0) {
        if (this.settings.fromNow && this.delivered === this.settings.after) {
          // Nothing delivered yet and the caller asked for "from now": the store's last seen revision
          // is older than a compaction, so start at etcd's current revision instead.
          this.startAtCurrent = true;
          this.drop();
          void this.connect();
          return;
        }
        this.fail(
          errors.expired(
            `watch from revision ${this.delivered + 1}: history up to revision ${compactedTo} has been compacted`,
          ),
        );
      } else if (isInvalidToken(response.cancel_reason)) {
        this.broken(this.stream, new Error(response.cancel_reason));
      } else {
        this.fail(
          toStatusError(
            new Error(response.cancel_reason || 'watch canceled by etcd'),
            'watch',
            this.settings.endpoints,
          ),
        );
      }
      return;
    }
    if (response.created) {
      this.retryMs = watchRetryFirstMs;
      if (this.startAtCurrent) {
        this.startAtCurrent = false;
        this.delivered = Number(response.header.revision);
      }
    }
    for (const message of response.events ?? []) {
      const revision = Number(message.kv.mod_revision);
      if (revision <= this.delivered) continue;
      this.delivered = revision;
      this.settings.subscriber.next(this.settings.toEvent(message));
      if (this.stopped) return;
    }
  }

  private broken(stream: ClientDuplexStream<unknown, IWatchResponse> | undefined, error?: Error): void {
    if (this.stopped || stream !== this.stream) return;
    // An expired auth token: unary calls renew it by themselves, a watch stream has to ask.
    if (isInvalidToken(error?.message)) {
      (
        this.client as unknown as { pool?: { authenticator?: { invalidateMetadata?(): void } } }
      ).pool?.authenticator?.invalidateMetadata?.();
    }
    this.drop();
    this.retry();
  }

  private retry(): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, watchRetryMaxMs);
  }

  private fail(error: StatusError): void {
    this.stop();
    this.settings.subscriber.error(error);
  }

  private drop(): void {
    const stream = this.stream;
    this.stream = undefined;
    if (stream) {
      stream.removeAllListeners('data');
      stream.removeAllListeners('end');
      stream.on('error', () => undefined);
      stream.cancel();
    }
  }
}
