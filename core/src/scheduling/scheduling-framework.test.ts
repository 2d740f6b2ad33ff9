// SPDX-License-Identifier: Apache-2.0
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../contracts/api-client.js';
import {
  type CycleState,
  type NodeInfo,
  type NodeScore,
  type SchedulerPlugin,
  SchedulingStatus,
} from '../contracts/scheduler-plugin.js';
import { isStatusError, type StatusError } from '../errors/status-error.js';
import { createLogger } from '../observability/logger.js';
import { FakeClock } from '../testing/fake-clock.js';
import { nodeFixture, podFixture } from '../testing/fixtures.js';
import { fitErrorMessage, newSchedulingDiagnosis } from './diagnosis.js';
import { SchedulerPodInfo } from './node-info.js';
import { PluginRegistry } from './plugin-registry.js';
import {
  numFeasibleNodesToFind,
  type PluginExecutionObservation,
  SchedulingFramework,
  type SchedulingFrameworkOptions,
} from './scheduling-framework.js';
import type { SchedulingProfile } from './scheduling-profile.js';
import { SchedulingSnapshot } from './snapshot.js';

const logger = createLogger({ level: 'silent' });
const apiClient = {} as ApiClient;

type Hooks = Record<string, (...args: never[]) => unknown>;

/** A toy plugin from hook functions, recording its calls into `log`. */
function toy(name: string, hooks: Hooks, log?: string[]): SchedulerPlugin {
  return {
    name,
    factory: () => {
      const instance: Record<string, unknown> = { name };
      for (const [hook, fn] of Object.entries(hooks)) {
        instance[hook] = (...args: never[]) => {
          log?.push(`${name}.${hook}`);
          return fn(...args);
        };
      }
      return instance as { name: string };
    },
  };
}

const ok = (): SchedulingStatus => SchedulingStatus.success();
const noExtensions = (): undefined => undefined;

async function framework(
  registrations: SchedulerPlugin[],
  profile: SchedulingProfile,
  extra: Partial<SchedulingFrameworkOptions> = {},
): Promise<SchedulingFramework> {
  return SchedulingFramework.create({
    registry: new PluginRegistry(registrations),
    profile,
    apiClient,
    logger,
    requireQueueSortAndBind: false,
    ...extra,
  });
}

async function createError(promise: Promise<unknown>): Promise<StatusError> {
  try {
    await promise;
  } catch (error) {
    if (isStatusError(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

function nodes(count: number): SchedulingSnapshot {
  return SchedulingSnapshot.fromObjects(
    Array.from({ length: count }, (_, i) => nodeFixture({ name: `n${i}` })),
  );
}

const pod = podFixture({ name: 'p' });
const nodeIndex = (info: NodeInfo): number => Number(info.name.slice(1));

describe('numFeasibleNodesToFind', () => {
  it.each([
    [50, undefined, 50],
    [99, undefined, 99],
    [100, undefined, 100],
    [1000, undefined, 420], // 50 - 8 = 42%
    [5000, undefined, 500], // 50 - 40 = 10%
    [6000, undefined, 300], // 50 - 48 = 2% → 5%
    [10000, undefined, 500],
    [1000, 30, 300],
    [1000, 5, 100], // never below 100
    [1000, 100, 1000],
    [1000, 0, 420],
  ])('%i nodes at %s%% → %i', (all, percentage, want) => {
    expect(numFeasibleNodesToFind(all, percentage)).toBe(want);
  });
});

describe('SchedulingFramework configuration', () => {
  it('expands multiPoint per interface, in upstream order', async () => {
    const fw = await framework(
      [
        toy('F1', { filter: ok }),
        toy('FS', { filter: ok, score: () => 1, scoreExtensions: noExtensions }),
        toy('F2', { filter: ok }),
        toy('S', { score: () => 1, scoreExtensions: noExtensions }),
      ],
      {
        plugins: {
          multiPoint: { enabled: [{ name: 'F1' }, { name: 'FS', weight: 3 }, { name: 'S' }] },
          filter: { enabled: [{ name: 'F2' }, { name: 'FS' }] },
          score: { disabled: [{ name: 'S' }] },
        },
      },
    );
    // FS is configured at filter and in multiPoint: first; then multiPoint's F1; then the rest (F2).
    expect(fw.pluginsAt('filter').map((p) => p.name)).toEqual(['FS', 'F1', 'F2']);
    expect(fw.pluginsAt('score')).toEqual([{ name: 'FS', weight: 3 }]);
  });

  it.each([
    [
      'plugin lacking the interface',
      { plugins: { score: { enabled: [{ name: 'F1' }] } } },
      'profiles[0].plugins.score.enabled[0]: plugin "F1" does not implement the Score extension point',
    ],
    [
      'no QueueSort or Bind (when required)',
      { plugins: { filter: { enabled: [{ name: 'F1' }] } } },
      'profiles[0].plugins.queueSort: exactly one QueueSort plugin must be enabled, got 0; profiles[0].plugins.bind: at least one Bind plugin must be enabled',
    ],
    [
      'factory rejecting its args',
      {
        plugins: { filter: { enabled: [{ name: 'Picky' }] } },
        pluginConfig: [{ name: 'Picky', args: { x: 1 } }],
      },
      'profiles[0].pluginConfig[0].args: plugin "Picky": args.x: must be a string',
    ],
  ])('rejects %s', async (_name, profile, message) => {
    const picky: SchedulerPlugin = {
      name: 'Picky',
      factory: () => {
        throw new Error('args.x: must be a string');
      },
    };
    const error = await createError(
      framework([toy('F1', { filter: ok }), picky], profile as SchedulingProfile, {
        requireQueueSortAndBind: message.includes('QueueSort'),
      }),
    );
    expect(error.reason).toBe('Invalid');
    expect(error.message).toBe(message);
  });

  it('merges with the default profile and passes args and the handle to factories', async () => {
    let seen: unknown;
    const registration: SchedulerPlugin = {
      name: 'WithArgs',
      factory: (args, handle) => {
        seen = { args, parallelism: handle.parallelism };
        return { name: 'WithArgs', filter: ok } as never;
      },
    };
    const fw = await framework(
      [registration, toy('Sort', { less: () => true }), toy('Binder', { bind: ok })],
      { schedulerName: 'custom', pluginConfig: [{ name: 'WithArgs', args: { a: 1 } }] },
      {
        requireQueueSortAndBind: true,
        parallelism: 4,
        defaultProfile: {
          plugins: { multiPoint: { enabled: [{ name: 'Sort' }, { name: 'Binder' }, { name: 'WithArgs' }] } },
        },
      },
    );
    expect(fw.schedulerName).toBe('custom');
    expect(seen).toEqual({ args: { a: 1 }, parallelism: 4 });
    expect(fw.pluginsAt('queueSort')).toEqual([{ name: 'Sort' }]);
    expect(fw.pluginsAt('bind')).toEqual([{ name: 'Binder' }]);
  });
});

describe('SchedulingFramework filtering', () => {
  it('stops at the first failing filter and names it', async () => {
    const log: string[] = [];
    const fw = await framework(
      [
        toy('A', { filter: ok }, log),
        toy('B', { filter: () => SchedulingStatus.unschedulable('Insufficient cpu') }, log),
        toy('C', { filter: ok }, log),
      ],
      { plugins: { filter: { enabled: [{ name: 'A' }, { name: 'B' }, { name: 'C' }] } } },
    );
    const status = fw.runFilter(fw.newCycleState(), pod, nodes(1).list()[0]);
    expect(status.code).toBe('Unschedulable');
    expect(status.plugin).toBe('B');
    expect(log).toEqual(['A.filter', 'B.filter']);
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('boom');
      },
      'running Filter plugin "Bad": boom',
    ],
    [
      'returns nothing',
      () => undefined,
      'running Filter plugin "Bad": returned undefined instead of a SchedulingStatus',
    ],
    ['returns Wait', () => SchedulingStatus.wait(), 'running Filter plugin "Bad": unexpected status Wait'],
  ])('a filter that %s gives an Error naming it, and the search stops', async (_name, filter, message) => {
    const fw = await framework([toy('Bad', { filter })], {
      plugins: { filter: { enabled: [{ name: 'Bad' }] } },
    });
    const result = await fw.findFeasibleNodes(fw.newCycleState(), pod, nodes(3));
    expect(result.error?.code).toBe('Error');
    expect(result.error?.plugin).toBe('Bad');
    expect(result.error?.message()).toBe(message);
    expect(result.feasible).toEqual([]);
  });

  it('rotates the start index across cycles and stops at the adaptive count', async () => {
    const fw = await framework([toy('A', { filter: ok })], {
      plugins: { filter: { enabled: [{ name: 'A' }] } },
    });
    const snapshot = nodes(200); // 49% of 200 = 98 → at least 100
    const first = await fw.findFeasibleNodes(fw.newCycleState(), pod, snapshot);
    const second = await fw.findFeasibleNodes(fw.newCycleState(), pod, snapshot);
    const third = await fw.findFeasibleNodes(fw.newCycleState(), pod, snapshot);
    expect(first.feasible.map(nodeIndex)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(second.feasible.map(nodeIndex)).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
    expect(third.feasible.map(nodeIndex)[0]).toBe(0);
    expect(first.diagnosis.evaluatedNodes).toBe(100);
  });

  it('evaluates every node when too few fit, and resumes after the last processed', async () => {
    const fw = await framework(
      [
        toy('Odd', {
          filter: (_s: CycleState, _p: Pod, n: NodeInfo) =>
            nodeIndex(n) % 2 === 1 ? ok() : SchedulingStatus.unschedulable('even'),
        }),
      ],
      { plugins: { filter: { enabled: [{ name: 'Odd' }] } }, percentageOfNodesToScore: 100 },
    );
    const result = await fw.findFeasibleNodes(fw.newCycleState(), pod, nodes(120));
    expect(result.feasible).toHaveLength(60);
    expect(result.diagnosis.nodeToStatus.size).toBe(60);
    expect(result.diagnosis.unschedulablePlugins).toEqual(new Set(['Odd']));
  });

  it('applies profile percentageOfNodesToScore', async () => {
    const fw = await framework([toy('A', { filter: ok })], {
      plugins: { filter: { enabled: [{ name: 'A' }] } },
      percentageOfNodesToScore: 60,
    });
    const result = await fw.findFeasibleNodes(fw.newCycleState(), pod, nodes(1000));
    expect(result.feasible).toHaveLength(600);
  });

  it("PreFilter Skip skips that plugin's Filter for the cycle only", async () => {
    const log: string[] = [];
    let skip = true;
    const fw = await framework(
      [
        toy(
          'P',
          {
            preFilter: () => ({ status: skip ? SchedulingStatus.skip() : ok() }),
            preFilterExtensions: noExtensions,
            filter: ok,
          },
          log,
        ),
        toy('Q', { filter: ok }, log),
      ],
      { plugins: { multiPoint: { enabled: [{ name: 'P' }, { name: 'Q' }] } } },
    );
    await fw.findFeasibleNodes(fw.newCycleState(), pod, nodes(1));
    expect(log).toEqual(['P.preFilter', 'Q.filter']);
    log.length = 0;
    skip = false;
    await fw.findFeasibleNodes(fw.newCycleState(), pod, nodes(1));
    expect(log).toEqual(['P.preFilter', 'P.filter', 'Q.filter']);
  });

  it('intersects PreFilterResults and reports excluded nodes', async () => {
    const only = (names: string[]) => () => ({ status: ok(), result: { nodeNames: new Set(names) } });
    const fw = await framework(
      [
        toy('X', { preFilter: only(['n0', 'n1', 'n2']), preFilterExtensions: noExtensions }),
        toy('Y', { preFilter: only(['n1', 'n2', 'n3']), preFilterExtensions: noExtensions }),
        toy('F', {
          filter: (_s: CycleState, _p: Pod, n: NodeInfo) =>
            n.name === 'n1' ? SchedulingStatus.unschedulable('Insufficient cpu') : ok(),
        }),
      ],
      {
        plugins: {
          preFilter: { enabled: [{ name: 'Y' }, { name: 'X' }] },
          filter: { enabled: [{ name: 'F' }] },
        },
      },
    );
    const snapshot = nodes(5);
    const result = await fw.findFeasibleNodes(fw.newCycleState(), pod, snapshot);
    expect(result.feasible.map((n) => n.name)).toEqual(['n2']);
    expect(result.diagnosis.nodeToStatus.get('n4')?.message()).toBe("node(s) didn't satisfy plugin(s) [X Y]");
    const fail = await fw.schedulePod(
      fw.newCycleState(),
      podFixture({ name: 'q' }),
      SchedulingSnapshot.fromObjects(
        snapshot
          .list()
          .filter((n) => n.name !== 'n2')
          .map((n) => n.node),
      ),
    );
    expect(fail.status.message()).toBe(
      "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) didn't satisfy plugin(s) [X Y].",
    );
  });

  it.each([
    [['n0'], ['n1'], "node(s) didn't satisfy plugin(s) [X Y] simultaneously"],
    [[], ['n1'], "node(s) didn't satisfy plugin X"],
  ])('an empty intersection is unresolvable: %j ∩ %j', async (x, y, message) => {
    const fw = await framework(
      [
        toy('X', {
          preFilter: () => ({ status: ok(), result: { nodeNames: new Set(x) } }),
          preFilterExtensions: noExtensions,
        }),
        toy('Y', {
          preFilter: () => ({ status: ok(), result: { nodeNames: new Set(y) } }),
          preFilterExtensions: noExtensions,
        }),
      ],
      { plugins: { preFilter: { enabled: [{ name: 'X' }, { name: 'Y' }] } } },
    );
    const result = await fw.schedulePod(fw.newCycleState(), pod, nodes(2));
    expect(result.status.code).toBe('Unschedulable');
    expect(result.status.message()).toBe(`0/2 nodes are available: ${message}.`);
    expect(result.diagnosis.nodeToStatus.get('n0')?.code).toBe('UnschedulableAndUnresolvable');
  });

  it("a PreFilter rejection becomes every node's status and the message", async () => {
    const fw = await framework(
      [
        toy('Gate', {
          preFilter: () => ({
            status: SchedulingStatus.unschedulableAndUnresolvable('pod has unbound PVCs'),
          }),
          preFilterExtensions: noExtensions,
        }),
      ],
      { plugins: { preFilter: { enabled: [{ name: 'Gate' }] } } },
    );
    const result = await fw.schedulePod(fw.newCycleState(), pod, nodes(3));
    expect(result.status.message()).toBe('0/3 nodes are available: pod has unbound PVCs.');
    expect(result.diagnosis.nodeToStatus.toMap(['n0', 'n1']).get('n1')?.plugin).toBe('Gate');
    expect(result.diagnosis.unschedulablePlugins).toEqual(new Set(['Gate']));
  });

  it('exposes the snapshot and the filters through the handle', async () => {
    let handleSeen: import('../contracts/scheduler-plugin.js').SchedulingFrameworkHandle | undefined;
    const reg: SchedulerPlugin = {
      name: 'H',
      factory: (_a, handle) => {
        handleSeen = handle;
        return {
          name: 'H',
          filter: (_s: CycleState, _p: Pod, n: NodeInfo) =>
            n.name === 'n0' ? ok() : SchedulingStatus.unschedulable('no'),
        } as never;
      },
    };
    const fw = await framework([reg], { plugins: { filter: { enabled: [{ name: 'H' }] } } });
    const snapshot = nodes(2);
    await fw.findFeasibleNodes(fw.newCycleState(), pod, snapshot);
    expect(handleSeen?.nodeInfos()).toBe(snapshot);
    expect(handleSeen?.runFilterPlugins(fw.newCycleState(), pod, snapshot.get('n1')!).code).toBe(
      'Unschedulable',
    );
  });
});

describe('SchedulingFramework with nominated pods', () => {
  it.each([
    ['higher-priority nominated pod blocks the node', 10, 5, 'Unschedulable', 1],
    ['equal priority blocks too', 5, 5, 'Unschedulable', 1],
    ['lower-priority nominated pod is ignored', 1, 5, 'Success', 0],
  ])('%s', async (_name, nominatedPriority, podPriority, code, addPodCalls) => {
    const calls: string[] = [];
    const fw = await framework(
      [
        toy('Empty', {
          preFilter: () => ({ status: ok() }),
          preFilterExtensions: () => ({
            addPod: (_s: CycleState, _p: Pod, added: { pod: Pod }) => {
              calls.push(added.pod.metadata?.name ?? '');
              return ok();
            },
            removePod: ok,
          }),
          filter: (_s: CycleState, _p: Pod, n: NodeInfo) =>
            n.pods.length === 0 ? ok() : SchedulingStatus.unschedulable('Too many pods'),
        }),
      ],
      { plugins: { multiPoint: { enabled: [{ name: 'Empty' }] } } },
    );
    const nominated = new SchedulerPodInfo(podFixture({ name: 'nominated', priority: nominatedPriority }));
    fw.setNominatedPods((node) => (node === 'n0' ? [nominated] : []));
    const snapshot = nodes(2);
    const result = await fw.findFeasibleNodes(
      fw.newCycleState(),
      podFixture({ name: 'p', priority: podPriority }),
      snapshot,
    );
    expect(result.diagnosis.nodeToStatus.get('n0')?.code ?? 'Success').toBe(code);
    expect(result.feasible.map((n) => n.name)).toContain('n1');
    expect(calls).toHaveLength(addPodCalls);
    // The snapshot's node is untouched.
    expect(snapshot.get('n0')?.pods).toHaveLength(0);
  });
});

describe('SchedulingFramework PreFilter extensions', () => {
  it('runs AddPod/RemovePod of non-skipped plugins and names a failing one', async () => {
    const calls: string[] = [];
    const extensions = (name: string, fail: boolean) => () => ({
      addPod: () => {
        calls.push(`${name}.addPod`);
        return ok();
      },
      removePod: () => {
        calls.push(`${name}.removePod`);
        return fail ? SchedulingStatus.unschedulable('cannot') : ok();
      },
    });
    const fw = await framework(
      [
        toy('Skipped', {
          preFilter: () => ({ status: SchedulingStatus.skip() }),
          preFilterExtensions: extensions('Skipped', false),
        }),
        toy('Plain', { preFilter: () => ({ status: ok() }), preFilterExtensions: noExtensions }),
        toy('Ext', { preFilter: () => ({ status: ok() }), preFilterExtensions: extensions('Ext', true) }),
      ],
      { plugins: { preFilter: { enabled: [{ name: 'Skipped' }, { name: 'Plain' }, { name: 'Ext' }] } } },
    );
    const state = fw.newCycleState();
    const snapshot = nodes(1);
    await fw.runPreFilter(state, pod, snapshot.list());
    const other = new SchedulerPodInfo(podFixture({ name: 'other' }));
    expect(fw.runPreFilterExtensionAddPod(state, pod, other, snapshot.list()[0]).isSuccess()).toBe(true);
    const removed = fw.runPreFilterExtensionRemovePod(state, pod, other, snapshot.list()[0]);
    expect(removed.code).toBe('Error');
    expect(removed.plugin).toBe('Ext');
    expect(calls).toEqual(['Ext.addPod', 'Ext.removePod']);
  });
});

describe('SchedulingFramework scoring', () => {
  const scoreBy = (fn: (n: NodeInfo) => number) => (_s: CycleState, _p: Pod, n: NodeInfo) => fn(n);
  const doubling = {
    normalizeScore: (_s: CycleState, _p: Pod, scores: NodeScore[]) => {
      for (const s of scores) s.score *= 2;
      return ok();
    },
  };

  it('normalizes, weights and sums, then picks the highest', async () => {
    const fw = await framework(
      [
        toy('A', { score: scoreBy((n) => nodeIndex(n) * 10), scoreExtensions: () => doubling }),
        toy('B', { score: scoreBy((n) => 50 - nodeIndex(n) * 10), scoreExtensions: noExtensions }),
      ],
      {
        plugins: {
          score: {
            enabled: [
              { name: 'A', weight: 1 },
              { name: 'B', weight: 3 },
            ],
          },
        },
      },
    );
    const list = nodes(3).list();
    const { status, scores } = fw.runScore(fw.newCycleState(), pod, list);
    expect(status.isSuccess()).toBe(true);
    expect([...scores!.byPlugin.get('A')!]).toEqual([0, 20, 40]);
    expect([...scores!.byPlugin.get('B')!]).toEqual([150, 120, 90]);
    expect([...scores!.totals]).toEqual([150, 140, 130]);
    expect(fw.selectHost(scores!)).toBe('n0');
  });

  it.each([
    [
      'out of range after normalizing',
      { score: () => 101, scoreExtensions: noExtensions },
      'plugin "S" returns an invalid score 101 for node "n0", it should be in the range of [0, 100] after normalizing',
    ],
    [
      'throws',
      {
        score: () => {
          throw new Error('bad');
        },
        scoreExtensions: noExtensions,
      },
      'running Score plugin "S": bad',
    ],
    [
      'returns a failure',
      { score: () => SchedulingStatus.unschedulable('nope'), scoreExtensions: noExtensions },
      'running Score plugin "S": nope',
    ],
    [
      'normalize throws',
      {
        score: () => 1,
        scoreExtensions: () => ({
          normalizeScore: () => {
            throw new Error('norm');
          },
        }),
      },
      'running ScoreExtension plugin "S": norm',
    ],
  ])('a score plugin that %s gives an Error naming it', async (_name, hooks, message) => {
    const fw = await framework([toy('S', hooks as Hooks)], {
      plugins: { score: { enabled: [{ name: 'S' }] } },
    });
    const { status } = fw.runScore(fw.newCycleState(), pod, nodes(2).list());
    expect(status.code).toBe('Error');
    expect(status.plugin).toBe('S');
    expect(status.message()).toBe(message);
  });

  it("PreScore Skip skips that plugin's Score", async () => {
    const log: string[] = [];
    const fw = await framework(
      [
        toy(
          'S',
          { preScore: () => SchedulingStatus.skip(), score: () => 100, scoreExtensions: noExtensions },
          log,
        ),
        toy('T', { score: () => 7, scoreExtensions: noExtensions }, log),
      ],
      { plugins: { multiPoint: { enabled: [{ name: 'S' }, { name: 'T' }] } } },
    );
    const result = await fw.schedulePod(fw.newCycleState(), pod, nodes(2));
    expect(result.status.isSuccess()).toBe(true);
    expect([...result.scores!.totals]).toEqual([7, 7]);
    expect(log.filter((l) => l === 'S.score')).toEqual([]);
  });

  it('breaks ties uniformly with reservoir sampling', async () => {
    const draws = [0.9, 0.1, 0.9];
    const fw = await framework(
      [toy('Flat', { score: () => 5, scoreExtensions: noExtensions })],
      { plugins: { score: { enabled: [{ name: 'Flat' }] } } },
      {
        random: () => draws.shift() ?? 0.99,
      },
    );
    const { scores } = fw.runScore(fw.newCycleState(), pod, nodes(4).list());
    // n1: 0.9*2 ≥ 1 keep n0; n2: 0.1*3 < 1 take n2; n3: 0.9*4 ≥ 1 keep n2
    expect(fw.selectHost(scores!)).toBe('n2');
  });

  it('picks every tied node sometimes', async () => {
    const fw = await framework([toy('Flat', { score: () => 5, scoreExtensions: noExtensions })], {
      plugins: { score: { enabled: [{ name: 'Flat' }] } },
    });
    const list = nodes(3).list();
    const { scores } = fw.runScore(fw.newCycleState(), pod, list);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(fw.selectHost(scores!)!);
    expect(seen).toEqual(new Set(['n0', 'n1', 'n2']));
  });

  it('with one feasible node selects it without scoring', async () => {
    const log: string[] = [];
    const fw = await framework(
      [
        toy('OnlyN1', {
          filter: (_s: CycleState, _p: Pod, n: NodeInfo) =>
            n.name === 'n1' ? ok() : SchedulingStatus.unschedulable('x'),
        }),
        toy('S', { score: () => 1, scoreExtensions: noExtensions }, log),
      ],
      { plugins: { multiPoint: { enabled: [{ name: 'OnlyN1' }, { name: 'S' }] } } },
    );
    const result = await fw.schedulePod(fw.newCycleState(), pod, nodes(3));
    expect(result.selectedNode).toBe('n1');
    expect(log).toEqual([]);
  });
});

describe('SchedulingFramework PostFilter', () => {
  it.each([
    [
      'first success wins',
      [
        () => ({ status: SchedulingStatus.unschedulable('no victims') }),
        () => ({ status: ok(), result: { nominatedNodeName: 'n1' } }),
      ],
      { code: 'Success', plugin: 'P1', nominated: 'n1' },
    ],
    [
      'unresolvable stops',
      [
        () => ({ status: SchedulingStatus.unschedulableAndUnresolvable('never') }),
        () => ({ status: ok(), result: { nominatedNodeName: 'n1' } }),
      ],
      { code: 'UnschedulableAndUnresolvable', plugin: 'P0', nominated: undefined },
    ],
    [
      'reasons collected',
      [
        () => ({ status: SchedulingStatus.unschedulable('a') }),
        () => ({ status: SchedulingStatus.unschedulable('b') }),
      ],
      { code: 'Unschedulable', plugin: 'P1', nominated: undefined, message: 'a, b' },
    ],
  ])('%s', async (_name, hooks, want) => {
    const fw = await framework(
      hooks.map((postFilter, i) => toy(`P${i}`, { postFilter })),
      { plugins: { postFilter: { enabled: [{ name: 'P0' }, { name: 'P1' }] } } },
    );
    const outcome = await fw.runPostFilter(fw.newCycleState(), pod, new Map());
    expect(outcome.status.code).toBe(want.code);
    expect(outcome.status.plugin).toBe(want.plugin);
    expect(outcome.result?.nominatedNodeName).toBe(want.nominated);
    if ('message' in want) expect(outcome.status.message()).toBe(want.message);
  });
});

describe('SchedulingFramework binding cycle', () => {
  it('runs Reserve in order and Unreserve in reverse, surviving a failing unreserve', async () => {
    const log: string[] = [];
    const fw = await framework(
      [
        toy('R1', { reserve: ok, unreserve: () => undefined }, log),
        toy(
          'R2',
          {
            reserve: () => SchedulingStatus.unschedulable('taken'),
            unreserve: () => {
              throw new Error('x');
            },
          },
          log,
        ),
        toy('R3', { reserve: ok, unreserve: () => undefined }, log),
      ],
      { plugins: { reserve: { enabled: [{ name: 'R1' }, { name: 'R2' }, { name: 'R3' }] } } },
    );
    const state = fw.newCycleState();
    const status = await fw.runReserve(state, pod, 'n0');
    expect(status.code).toBe('Unschedulable');
    expect(status.plugin).toBe('R2');
    await fw.runUnreserve(state, pod, 'n0');
    expect(log).toEqual(['R1.reserve', 'R2.reserve', 'R3.unreserve', 'R2.unreserve', 'R1.unreserve']);
  });

  it.each([
    [
      'first non-Skip binder wins',
      [() => SchedulingStatus.skip(), ok, ok],
      'Success',
      'B1',
      ['B0.bind', 'B1.bind'],
    ],
    [
      'all skip',
      [() => SchedulingStatus.skip(), () => SchedulingStatus.skip(), () => SchedulingStatus.skip()],
      'Skip',
      undefined,
      ['B0.bind', 'B1.bind', 'B2.bind'],
    ],
    [
      'a failing binder fails the pod',
      [() => Promise.reject(new Error('conflict')), ok, ok],
      'Error',
      'B0',
      ['B0.bind'],
    ],
  ])('Bind: %s', async (_name, binds, code, plugin, calls) => {
    const log: string[] = [];
    const fw = await framework(
      binds.map((bind, i) => toy(`B${i}`, { bind }, log)),
      { plugins: { bind: { enabled: [{ name: 'B0' }, { name: 'B1' }, { name: 'B2' }] } } },
    );
    const status = await fw.runBind(fw.newCycleState(), pod, 'n0');
    expect(status.code).toBe(code);
    expect(status.plugin).toBe(plugin);
    expect(log).toEqual(calls);
  });

  it('PreBind and PostBind: failure names the plugin, PostBind errors are swallowed', async () => {
    const fw = await framework(
      [
        toy('PB', { preBind: () => SchedulingStatus.unschedulable('volume not ready') }),
        toy('Post', {
          postBind: () => {
            throw new Error('ignored');
          },
        }),
      ],
      { plugins: { preBind: { enabled: [{ name: 'PB' }] }, postBind: { enabled: [{ name: 'Post' }] } } },
    );
    const status = await fw.runPreBind(fw.newCycleState(), pod, 'n0');
    expect(status.toString()).toBe('Unschedulable: plugin PB: volume not ready');
    await expect(fw.runPostBind(fw.newCycleState(), pod, 'n0')).resolves.toBeUndefined();
  });

  it('PreEnqueue: the first non-success names its plugin', async () => {
    const fw = await framework(
      [
        toy('G1', { preEnqueue: ok }),
        toy('G2', { preEnqueue: () => SchedulingStatus.pending('waiting for scheduling gates') }),
      ],
      { plugins: { preEnqueue: { enabled: [{ name: 'G1' }, { name: 'G2' }] } } },
    );
    const status = fw.runPreEnqueue(pod);
    expect(status.code).toBe('Pending');
    expect(status.plugin).toBe('G2');
  });

  it('QueueSort orders by the plugin, falling back to arrival order when it throws', async () => {
    const fw = await framework(
      [toy('Sort', { less: (a: { attempts: number }, b: { attempts: number }) => a.attempts > b.attempts })],
      {
        plugins: { queueSort: { enabled: [{ name: 'Sort' }] } },
      },
    );
    const a = { pod, timestamp: 2, attempts: 5, initialAttemptTimestamp: 0 };
    const b = { pod, timestamp: 1, attempts: 1, initialAttemptTimestamp: 0 };
    expect(fw.queueSortLess(a, b)).toBe(true);
    const broken = await framework(
      [
        toy('Sort', {
          less: () => {
            throw new Error('x');
          },
        }),
      ],
      { plugins: { queueSort: { enabled: [{ name: 'Sort' }] } } },
    );
    expect(broken.queueSortLess(a, b)).toBe(false);
  });
});

describe('SchedulingFramework Permit', () => {
  async function permitFramework(timeouts: number[], clock: FakeClock) {
    return framework(
      timeouts.map((timeoutMs, i) =>
        toy(`W${i}`, { permit: () => ({ status: SchedulingStatus.wait(), timeoutMs }) }),
      ),
      { plugins: { permit: { enabled: timeouts.map((_, i) => ({ name: `W${i}` })) } } },
      { clock },
    );
  }
  const base = podFixture({ name: 'w' });
  const waiter: Pod = { ...base, metadata: { ...base.metadata, uid: 'uid-w' } };

  it('waits until every waiting plugin allows', async () => {
    const clock = new FakeClock();
    const fw = await permitFramework([10_000, 20_000], clock);
    expect((await fw.runPermit(fw.newCycleState(), waiter, 'n0')).code).toBe('Wait');
    const waiting = fw.handle.getWaitingPod('uid-w')!;
    expect(waiting.pendingPlugins().sort()).toEqual(['W0', 'W1']);
    const outcome = fw.waitOnPermit(waiter);
    waiting.allow('W0');
    waiting.allow('W1');
    expect((await outcome).code).toBe('Success');
    expect(fw.handle.getWaitingPod('uid-w')).toBeUndefined();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('is rejected from outside through the handle', async () => {
    const fw = await permitFramework([10_000], new FakeClock());
    await fw.runPermit(fw.newCycleState(), waiter, 'n0');
    const outcome = fw.waitOnPermit(waiter);
    expect(fw.handle.rejectWaitingPod('uid-w', 'Gang', 'gang incomplete')).toBe(true);
    expect((await outcome).toString()).toBe('Unschedulable: plugin Gang: gang incomplete');
    expect(fw.handle.rejectWaitingPod('uid-w', 'Gang', 'again')).toBe(false);
  });

  it('times out at the shortest timeout', async () => {
    const clock = new FakeClock();
    const fw = await permitFramework([30_000, 10_000], clock);
    await fw.runPermit(fw.newCycleState(), waiter, 'n0');
    const outcome = fw.waitOnPermit(waiter);
    await clock.advance(10_000);
    expect((await outcome).toString()).toBe(
      'Unschedulable: plugin W1: rejected due to timeout after waiting 10s at plugin W1',
    );
  });

  it('a rejection wins over waits; Wait without a timeout is an error', async () => {
    const fw = await framework(
      [
        toy('W', { permit: () => ({ status: SchedulingStatus.wait(), timeoutMs: 1000 }) }),
        toy('No', { permit: () => ({ status: SchedulingStatus.unschedulable('denied') }) }),
      ],
      { plugins: { permit: { enabled: [{ name: 'W' }, { name: 'No' }] } } },
      { clock: new FakeClock() },
    );
    expect((await fw.runPermit(fw.newCycleState(), waiter, 'n0')).toString()).toBe(
      'Unschedulable: plugin No: denied',
    );
    expect(fw.waitingPods()).toEqual([]);
    const bad = await framework([toy('W', { permit: () => ({ status: SchedulingStatus.wait() }) })], {
      plugins: { permit: { enabled: [{ name: 'W' }] } },
    });
    expect((await bad.runPermit(bad.newCycleState(), waiter, 'n0')).message()).toBe(
      'running Permit plugin "W": returned Wait without a timeoutMs',
    );
  });

  it('a pod that is not waiting passes waitOnPermit', async () => {
    const fw = await permitFramework([], new FakeClock());
    expect((await fw.waitOnPermit(waiter)).code).toBe('Success');
  });
});

describe('plugin execution observer', () => {
  it('receives timings of sampled cycles only', async () => {
    const seen: PluginExecutionObservation[] = [];
    const make = (percent: number) =>
      framework(
        [toy('F', { filter: ok }), toy('S', { score: () => 1, scoreExtensions: noExtensions })],
        { schedulerName: 'prof', plugins: { multiPoint: { enabled: [{ name: 'F' }, { name: 'S' }] } } },
        {
          observer: (o) => seen.push(o),
          metricsSamplePercent: percent,
        },
      );
    const always = await make(100);
    await always.schedulePod(always.newCycleState(), pod, nodes(2));
    expect(seen.map((o) => `${o.extensionPoint}/${o.plugin}/${o.status}`)).toEqual([
      'Filter/F/Success',
      'Filter/F/Success',
      'Score/S/Success',
      'Score/S/Success',
    ]);
    expect(seen[0].profile).toBe('prof');
    expect(seen.every((o) => o.durationSeconds >= 0)).toBe(true);
    seen.length = 0;
    const never = await make(0);
    await never.schedulePod(never.newCycleState(), pod, nodes(2));
    expect(seen).toEqual([]);
  });
});

describe('fitErrorMessage', () => {
  it.each([
    [
      'counts reasons per node, sorted as strings',
      [
        ['n1', ['Insufficient cpu']],
        ['n2', ['Insufficient cpu', 'Insufficient memory']],
        ['n3', ['node(s) had untolerated taint {dedicated: gpu}']],
      ],
      5,
      '0/5 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu.',
    ],
    [
      'string order puts 10 before 2',
      [...Array.from({ length: 10 }, (_, i) => [`a${i}`, ['Z']]), ['b0', ['A']], ['b1', ['A']]],
      12,
      '0/12 nodes are available: 10 Z, 2 A.',
    ],
  ] as [string, [string, string[]][], number, string][])('%s', (_name, statuses, all, message) => {
    const diagnosis = newSchedulingDiagnosis();
    for (const [node, reasons] of statuses)
      diagnosis.nodeToStatus.set(node, SchedulingStatus.unschedulable(...reasons));
    expect(fitErrorMessage(all, diagnosis)).toBe(message);
  });

  it('appends the PostFilter message', () => {
    const diagnosis = newSchedulingDiagnosis();
    diagnosis.nodeToStatus.set('n1', SchedulingStatus.unschedulable('Insufficient cpu'));
    diagnosis.postFilterMessage =
      'preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod';
    expect(fitErrorMessage(1, diagnosis)).toBe(
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    );
  });
});
