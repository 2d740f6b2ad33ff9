// SPDX-License-Identifier: Apache-2.0
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../api/object.js';
import {
  type ReconcileRequest,
  type ReconcileResult,
  type Reconciler,
  TerminalError,
} from '../contracts/controller.js';
import { isStatusError } from '../errors/status-error.js';
import { FakeApiClient } from '../informers/fake-api-client.test-helper.js';
import { SharedInformerFactory } from '../informers/shared-informer-factory.js';
import { FakeClock } from '../testing/fake-clock.js';
import { ControllerBuilder, controllerFor } from './controller-builder.js';

type Behaviour = (request: ReconcileRequest, attempt: number) => Promise<ReconcileResult> | ReconcileResult;

class RecordingReconciler implements Reconciler {
  readonly calls: string[] = [];
  readonly signals: AbortSignal[] = [];
  private readonly attempts = new Map<string, number>();
  constructor(private behaviour: Behaviour = () => ({})) {}
  async reconcile(request: ReconcileRequest, signal: AbortSignal): Promise<ReconcileResult> {
    const key = request.namespace ? `${request.namespace}/${request.name}` : request.name;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    this.calls.push(key);
    this.signals.push(signal);
    return this.behaviour(request, attempt);
  }
}

const object = (
  kind: string,
  namespace: string,
  name: string,
  extra: Partial<KubeObject> = {},
): KubeObject => ({
  apiVersion: kind === 'ReplicaSet' ? 'apps/v1' : 'v1',
  kind,
  metadata: { namespace, name },
  ...extra,
});

const ownedBy = (owner: string, controller = true) => ({
  ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: 'u', controller }],
});

function setup(): {
  client: FakeApiClient;
  clock: FakeClock;
  registry: Registry;
  informers: SharedInformerFactory;
} {
  const client = new FakeApiClient();
  const clock = new FakeClock();
  return { client, clock, registry: new Registry(), informers: new SharedInformerFactory(client, { clock }) };
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function run(controller: {
  start(s: AbortSignal): Promise<void>;
  stopped(): Promise<void>;
}): Promise<AbortController> {
  const abort = new AbortController();
  stops.push(async () => {
    abort.abort();
    await controller.stopped();
  });
  await controller.start(abort.signal);
  return abort;
}

async function counter(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
}

describe('ControllerBuilder errors', () => {
  const deps = setup();
  const ok = new RecordingReconciler();
  it.each([
    { what: 'no for()', build: () => new ControllerBuilder(deps).complete(ok), fields: ['for'] },
    {
      what: 'no reconciler',
      build: () => controllerFor('Pod', deps).complete(undefined as never),
      fields: ['reconciler'],
    },
    {
      what: 'for() twice',
      build: () => controllerFor('Pod', deps).for('Node').complete(ok),
      fields: ['for'],
    },
    {
      what: 'owns the primary kind',
      build: () => controllerFor('Pod', deps).owns('Pod').complete(ok),
      fields: ['owns[0]'],
    },
    {
      what: 'a kind twice',
      build: () =>
        controllerFor('ReplicaSet', deps)
          .owns('Pod')
          .watches('Pod', () => [])
          .complete(ok),
      fields: ['watches[0]'],
    },
    {
      what: 'zero concurrency',
      build: () => controllerFor('Pod', deps).withConcurrency(0).complete(ok),
      fields: ['concurrency'],
    },
    {
      what: 'fractional concurrency',
      build: () => controllerFor('Pod', deps).withConcurrency(1.5).complete(ok),
      fields: ['concurrency'],
    },
    {
      what: 'a bad name',
      build: () => controllerFor('Pod', deps).named('Bad Name').complete(ok),
      fields: ['name'],
    },
    {
      what: 'a missing map',
      build: () =>
        controllerFor('Pod', deps)
          .watches('Node', undefined as never)
          .complete(ok),
      fields: ['watches[0].map'],
    },
    {
      what: 'everything at once',
      build: () =>
        new ControllerBuilder(deps)
          .owns('Pod')
          .owns('Pod')
          .withConcurrency(-1)
          .complete(undefined as never),
      fields: ['owns[1]', 'concurrency', 'for', 'reconciler'],
    },
  ])('reports $what at complete()', ({ build, fields }) => {
    let thrown: unknown;
    try {
      build();
    } catch (error) {
      thrown = error;
    }
    expect(isStatusError(thrown, 'Invalid')).toBe(true);
    const causes = (thrown as { details: { causes: Array<{ field: string }> } }).details.causes;
    expect(causes.map((c) => c.field)).toEqual(fields);
  });

  it('names the controller after its kind by default and needs leader election by default', () => {
    const controller = controllerFor({ group: 'apps', version: 'v1', kind: 'ReplicaSet' }, deps).complete(ok);
    expect(controller.name).toBe('replicaset');
    expect(controller.needsLeaderElection).toBe(true);
    expect(controllerFor('Pod', deps).withLeaderElection(false).complete(ok).needsLeaderElection).toBe(false);
  });
});

describe('ReconcilingController', () => {
  it('reconciles primary objects, controlled owned objects and mapped watched objects', async () => {
    const { client, clock, registry, informers } = setup();
    await client.create(object('ReplicaSet', 'ns', 'existing'));
    const reconciler = new RecordingReconciler();
    const controller = controllerFor('ReplicaSet', { informers, clock, registry })
      .owns('Pod')
      .watches('Node', (node) => [{ namespace: 'ns', name: `for-${node.metadata!.name}` }])
      .complete(reconciler);
    await run(controller);
    await clock.advance(0);
    expect(reconciler.calls).toEqual(['ns/existing']);
    reconciler.calls.length = 0;

    await client.create(object('ReplicaSet', 'ns', 'rs1'));
    await clock.advance(0);
    await client.create(
      object('Pod', 'ns', 'p1', { metadata: { namespace: 'ns', name: 'p1', ...ownedBy('rs1') } }),
    );
    await clock.advance(0);
    await client.create(
      object('Pod', 'ns', 'p2', { metadata: { namespace: 'ns', name: 'p2', ...ownedBy('rs2', false) } }),
    );
    await client.create(object('Pod', 'ns', 'orphan'));
    const byJob = {
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'rs1', uid: 'j', controller: true }],
    };
    await client.create(object('Pod', 'ns', 'p3', { metadata: { namespace: 'ns', name: 'p3', ...byJob } }));
    await client.create(object('Node', '', 'n1', { metadata: { name: 'n1' } }));
    await clock.advance(0);
    expect(reconciler.calls).toEqual(['ns/rs1', 'ns/rs1', 'ns/for-n1']);
  });

  it('maps namespaced dependents to a cluster-scoped controlling owner by name alone', async () => {
    const { client, clock, registry, informers } = setup();
    await client.create(object('Node', '', 'n1', { metadata: { name: 'n1' } }));
    const reconciler = new RecordingReconciler();
    await run(controllerFor('Node', { informers, clock, registry }).owns('Pod').complete(reconciler));
    await clock.advance(0);
    const ownedByNode = {
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'n', controller: true }],
    };
    await client.create(
      object('Pod', 'ns', 'p', { metadata: { namespace: 'ns', name: 'p', ...ownedByNode } }),
    );
    await clock.advance(0);
    expect(reconciler.calls).toEqual(['n1', 'n1']);
  });

  it('de-duplicates bursts of events for one key', async () => {
    const { client, clock, registry, informers } = setup();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const reconciler = new RecordingReconciler(async (request) => {
      if (request.name === 'slow') await gate;
      return {};
    });
    const controller = controllerFor('ReplicaSet', { informers, clock, registry }).complete(reconciler);
    await run(controller);
    const slow = await client.create(object('ReplicaSet', 'ns', 'slow'));
    await clock.advance(0);
    for (let i = 0; i < 5; i++)
      await client.update({
        ...slow,
        metadata: { ...slow.metadata, resourceVersion: undefined, labels: { i: `${i}` } },
      });
    await clock.advance(0);
    release();
    await clock.advance(0);
    // Once while the burst happened, once more for everything that changed meanwhile.
    expect(reconciler.calls).toEqual(['ns/slow', 'ns/slow']);
  });

  it('retries a throwing reconcile with exponential backoff, then resets it on success', async () => {
    const { client, clock, registry, informers } = setup();
    const times: number[] = [];
    const reconciler = new RecordingReconciler((_request, attempt) => {
      times.push(clock.now());
      if (attempt <= 3) throw new Error('not yet');
      return {};
    });
    const controller = controllerFor('ReplicaSet', { informers, clock, registry })
      .named('rs')
      .complete(reconciler);
    await run(controller);
    await client.create(object('ReplicaSet', 'ns', 'a'));
    await clock.advance(100);
    expect(times.map((t) => t - times[0])).toEqual([0, 5, 15, 35]);
    expect(
      await counter(registry, 'controller_runtime_reconcile_total', { controller: 'rs', result: 'error' }),
    ).toBe(3);
    expect(
      await counter(registry, 'controller_runtime_reconcile_total', { controller: 'rs', result: 'success' }),
    ).toBe(1);
    expect(await counter(registry, 'controller_runtime_reconcile_errors_total', { controller: 'rs' })).toBe(
      3,
    );
    expect(await counter(registry, 'workqueue_retries_total', { name: 'rs' })).toBe(3);
  });

  it('requeueAfter calls again after that delay without counting an error', async () => {
    const { client, clock, registry, informers } = setup();
    const times: number[] = [];
    const reconciler = new RecordingReconciler((_r, attempt) => {
      times.push(clock.now());
      return attempt < 3 ? { requeueAfter: 1000 } : {};
    });
    await run(controllerFor('ReplicaSet', { informers, clock, registry }).named('rs').complete(reconciler));
    await client.create(object('ReplicaSet', 'ns', 'a'));
    await clock.advance(5000);
    expect(times.map((t) => t - times[0])).toEqual([0, 1000, 2000]);
    expect(
      await counter(registry, 'controller_runtime_reconcile_total', {
        controller: 'rs',
        result: 'requeue_after',
      }),
    ).toBe(2);
    expect(await counter(registry, 'controller_runtime_reconcile_errors_total', { controller: 'rs' })).toBe(
      0,
    );
  });

  it('requeueAfter 0 requeues rate-limited', async () => {
    const { client, clock, registry, informers } = setup();
    const reconciler = new RecordingReconciler((_r, attempt) => (attempt < 3 ? { requeueAfter: 0 } : {}));
    await run(controllerFor('ReplicaSet', { informers, clock, registry }).named('rs').complete(reconciler));
    await client.create(object('ReplicaSet', 'ns', 'a'));
    await clock.advance(4);
    expect(reconciler.calls).toHaveLength(1);
    await clock.advance(100);
    expect(reconciler.calls).toHaveLength(3);
    expect(
      await counter(registry, 'controller_runtime_reconcile_total', { controller: 'rs', result: 'requeue' }),
    ).toBe(2);
  });

  it('does not retry a TerminalError, counts it, and reconciles again when the object changes', async () => {
    const { client, clock, registry, informers } = setup();
    const reconciler = new RecordingReconciler((_r, attempt) => {
      if (attempt === 1) throw new TerminalError('spec is impossible');
      return {};
    });
    await run(controllerFor('ReplicaSet', { informers, clock, registry }).named('rs').complete(reconciler));
    const a = await client.create(object('ReplicaSet', 'ns', 'a'));
    await clock.advance(10_000);
    expect(reconciler.calls).toEqual(['ns/a']);
    expect(
      await counter(registry, 'controller_runtime_terminal_reconcile_errors_total', { controller: 'rs' }),
    ).toBe(1);
    expect(await counter(registry, 'controller_runtime_reconcile_errors_total', { controller: 'rs' })).toBe(
      1,
    );
    await client.update({ ...a, metadata: { ...a.metadata, labels: { fixed: 'yes' } } });
    await clock.advance(0);
    expect(reconciler.calls).toEqual(['ns/a', 'ns/a']);
  });

  it.each([1, 3])('runs at most %i reconciles at once, never two for one key', async (concurrency) => {
    const { client, clock, registry, informers } = setup();
    let active = 0;
    let peak = 0;
    const inFlight = new Set<string>();
    let overlapSameKey = false;
    const reconciler = new RecordingReconciler(async (request, attempt) => {
      if (inFlight.has(request.name)) overlapSameKey = true;
      inFlight.add(request.name);
      active++;
      peak = Math.max(peak, active);
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 10));
      active--;
      inFlight.delete(request.name);
      return attempt < 2 ? { requeueAfter: 1 } : {};
    });
    const controller = controllerFor('ReplicaSet', { informers, clock, registry })
      .named('rs')
      .withConcurrency(concurrency)
      .complete(reconciler);
    await run(controller);
    for (let i = 0; i < 6; i++) await client.create(object('ReplicaSet', 'ns', `r${i}`));
    await clock.advance(1000);
    expect(reconciler.calls).toHaveLength(12);
    expect(peak).toBe(concurrency);
    expect(overlapSameKey).toBe(false);
    expect(
      await counter(registry, 'controller_runtime_max_concurrent_reconciles', { controller: 'rs' }),
    ).toBe(concurrency);
    expect(await counter(registry, 'controller_runtime_active_workers', { controller: 'rs' })).toBe(0);
  });

  it('on stop aborts the reconcile signal, waits for in-flight work and closes its watches', async () => {
    const { client, clock, registry, informers } = setup();
    let finish!: () => void;
    const reconciler = new RecordingReconciler(
      () =>
        new Promise((resolve) => {
          finish = () => resolve({});
        }),
    );
    const controller = controllerFor('ReplicaSet', { informers, clock, registry })
      .owns('Pod')
      .complete(reconciler);
    const abort = await run(controller);
    await client.create(object('ReplicaSet', 'ns', 'a'));
    await clock.advance(0);
    expect(client.activeWatches).toBe(2);
    abort.abort();
    expect(reconciler.signals[0].aborted).toBe(true);
    let stopped = false;
    const stopping = controller.stopped().then(() => {
      stopped = true;
    });
    await clock.advance(0);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    expect(client.activeWatches).toBe(0);
    await client.create(object('ReplicaSet', 'ns', 'after-stop'));
    await clock.advance(100);
    expect(reconciler.calls).toEqual(['ns/a']);
  });
});
