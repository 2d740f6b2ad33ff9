// SPDX-License-Identifier: Apache-2.0
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import {
  type CycleState,
  type FilterPlugin,
  MaxNodeScore,
  type NodeInfo,
  type NodeScore,
  type PostFilterPlugin,
  type PreFilterPlugin,
  type SchedulerPlugin,
  SchedulingStatus,
  type ScorePlugin,
  StateKey,
} from '../contracts/scheduler-plugin.js';
import { PluginRegistry } from '../scheduling/plugin-registry.js';
import { nodeFixture, podFixture } from './fixtures.js';
import {
  describeSchedulingPluginTable,
  runFilterPlugin,
  runProfile,
  runScorePlugin,
  summarizeStatuses,
} from './scheduling-harness.js';

// Toy plugins, the kind a plugin author writes.

/** Filter: the node must carry the label the pod asks for in annotation `wants-label`. */
class NodeLabelFit implements FilterPlugin {
  readonly name = 'NodeLabelFit';
  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): SchedulingStatus {
    const wanted = pod.metadata?.annotations?.['wants-label'];
    if (!wanted || nodeInfo.node.metadata?.labels?.[wanted] !== undefined) return SchedulingStatus.success();
    return SchedulingStatus.unschedulable(`node(s) missing label ${wanted}`);
  }
}

/** Filter with args: at most `maxPods` pods per node. */
interface MaxPodsArgs {
  maxPods: number;
}
const maxPodsPerNode: SchedulerPlugin<MaxPodsArgs> = {
  name: 'MaxPodsPerNode',
  factory(args) {
    const maxPods = args?.maxPods ?? 2;
    return {
      name: 'MaxPodsPerNode',
      filter: (_s: CycleState, _p: Pod, nodeInfo: NodeInfo) =>
        nodeInfo.pods.length < maxPods
          ? SchedulingStatus.success()
          : SchedulingStatus.unschedulableAndUnresolvable('Too many pods'),
    } as FilterPlugin;
  },
};

/** Score: free CPU share, normalized so the freest node gets 100. */
class FreeCpu implements ScorePlugin {
  readonly name = 'FreeCpu';
  score(_state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number {
    return nodeInfo.allocatable.milliCPU - nodeInfo.requested.milliCPU;
  }
  scoreExtensions(): { normalizeScore(s: CycleState, p: Pod, scores: NodeScore[]): SchedulingStatus } {
    return {
      normalizeScore(_s, _p, scores) {
        const max = Math.max(...scores.map((x) => x.score));
        for (const s of scores) s.score = max === 0 ? 0 : Math.floor((s.score * MaxNodeScore) / max);
        return SchedulingStatus.success();
      },
    };
  }
}

/** PreFilter narrowing the node set to nodes named in annotation `only`; its Filter is trivial. */
const onlyKey = new StateKey<boolean>('OnlyNodes');
class OnlyNodes implements PreFilterPlugin, FilterPlugin {
  readonly name = 'OnlyNodes';
  preFilter(state: CycleState, pod: Pod) {
    const only = pod.metadata?.annotations?.only;
    if (!only) return { status: SchedulingStatus.skip() };
    state.write(onlyKey, true);
    return { status: SchedulingStatus.success(), result: { nodeNames: new Set(only.split(',')) } };
  }
  preFilterExtensions(): undefined {
    return undefined;
  }
  filter(): SchedulingStatus {
    return SchedulingStatus.success();
  }
}

class Thrower implements FilterPlugin {
  readonly name = 'Thrower';
  filter(): SchedulingStatus {
    throw new Error('boom');
  }
}

function podWith(
  annotations: Record<string, string>,
  extra: Parameters<typeof podFixture>[0] = { name: 'p' },
): Pod {
  const pod = podFixture(extra);
  pod.metadata!.annotations = annotations;
  return pod;
}

const nodes = [
  nodeFixture({ name: 'n1', labels: { ssd: 'true' } }),
  nodeFixture({ name: 'n2' }),
  nodeFixture({ name: 'n3', labels: { ssd: 'true' }, capacity: { cpu: '8', memory: '32Gi', pods: '110' } }),
];

describe('runFilterPlugin', () => {
  it.each([
    ['no label wanted', {}, { n1: 'Success', n2: 'Success', n3: 'Success' }],
    ['ssd wanted', { 'wants-label': 'ssd' }, { n1: 'Success', n2: 'Unschedulable', n3: 'Success' }],
  ])('%s', async (_name, annotations, want) => {
    const statuses = await runFilterPlugin(new NodeLabelFit(), { nodes, pod: podWith(annotations) });
    expect(Object.fromEntries(Object.entries(statuses).map(([n, s]) => [n, s.code]))).toEqual(want);
  });

  it('summarizes statuses for exact comparison', async () => {
    const statuses = await runFilterPlugin(new NodeLabelFit(), {
      nodes,
      pod: podWith({ 'wants-label': 'ssd' }),
    });
    expect(summarizeStatuses(statuses)).toEqual({
      n1: { code: 'Success', reasons: [] },
      n2: { code: 'Unschedulable', reasons: ['node(s) missing label ssd'] },
      n3: { code: 'Success', reasons: [] },
    });
  });

  it('names the plugin and keeps the reason', async () => {
    const statuses = await runFilterPlugin(new NodeLabelFit(), {
      nodes,
      pod: podWith({ 'wants-label': 'gpu' }),
    });
    expect(statuses.n2.plugin).toBe('NodeLabelFit');
    expect(statuses.n2.message()).toBe('node(s) missing label gpu');
  });

  it('passes args to a registration and counts existing pods', async () => {
    const pods = [podFixture({ name: 'a', nodeName: 'n1' }), podFixture({ name: 'b', nodeName: 'n1' })];
    const statuses = await runFilterPlugin(maxPodsPerNode, {
      nodes,
      pods,
      pod: podFixture({ name: 'p' }),
      args: { maxPods: 2 },
    });
    expect(statuses.n1.code).toBe('UnschedulableAndUnresolvable');
    expect(statuses.n2.code).toBe('Success');
    const relaxed = await runFilterPlugin(maxPodsPerNode, {
      nodes,
      pods,
      pod: podFixture({ name: 'p' }),
      args: { maxPods: 3 },
    });
    expect(relaxed.n1.code).toBe('Success');
  });

  it('reports nodes excluded by PreFilterResult', async () => {
    const statuses = await runFilterPlugin(new OnlyNodes(), { nodes, pod: podWith({ only: 'n2' }) });
    expect(statuses.n2.code).toBe('Success');
    expect(statuses.n1.code).toBe('UnschedulableAndUnresolvable');
    expect(statuses.n1.message()).toBe("node(s) didn't satisfy plugin(s) [OnlyNodes]");
  });

  it('turns a throw into an Error status naming the plugin', async () => {
    const statuses = await runFilterPlugin(new Thrower(), { nodes, pod: podFixture({ name: 'p' }) });
    expect(statuses.n1.code).toBe('Error');
    expect(statuses.n1.plugin).toBe('Thrower');
    expect(statuses.n1.message()).toContain('boom');
  });
});

describe('runScorePlugin', () => {
  it('returns normalized scores', async () => {
    const pods = [podFixture({ name: 'a', nodeName: 'n1', requests: { cpu: '2' } })];
    const scores = await runScorePlugin(new FreeCpu(), { nodes, pods, pod: podFixture({ name: 'p' }) });
    // free: n1 2000, n2 4000, n3 8000
    expect(scores).toEqual({ n1: 25, n2: 50, n3: 100 });
  });

  it('scores only feasibleNodes when given', async () => {
    const scores = await runScorePlugin(new FreeCpu(), {
      nodes,
      pod: podFixture({ name: 'p' }),
      feasibleNodes: ['n1', 'n2'],
    });
    expect(scores).toEqual({ n1: 100, n2: 100 });
  });
});

describeSchedulingPluginTable('NodeLabelFit via the table helper', new NodeLabelFit(), [
  {
    name: 'ssd wanted',
    nodes,
    pod: podWith({ 'wants-label': 'ssd' }),
    want: { n1: 'Success', n2: { code: 'Unschedulable', reason: 'missing label ssd' } },
  },
]);
describeSchedulingPluginTable('FreeCpu via the table helper', new FreeCpu(), [
  { name: 'empty nodes', nodes, pod: podFixture({ name: 'p' }), want: { n1: 50, n2: 50, n3: 100 } },
]);

describe('runProfile', () => {
  const registry = new PluginRegistry([
    { name: 'NodeLabelFit', factory: () => new NodeLabelFit() },
    maxPodsPerNode,
    { name: 'FreeCpu', factory: () => new FreeCpu() },
    {
      name: 'NominateFirst',
      factory: () =>
        ({
          name: 'NominateFirst',
          postFilter: () => ({ status: SchedulingStatus.success(), result: { nominatedNodeName: 'n1' } }),
        }) as PostFilterPlugin,
    },
  ]);
  const profile = {
    plugins: {
      filter: { enabled: [{ name: 'NodeLabelFit' }, { name: 'MaxPodsPerNode' }] },
      score: { enabled: [{ name: 'FreeCpu', weight: 2 }] },
      postFilter: { enabled: [{ name: 'NominateFirst' }] },
    },
    pluginConfig: [{ name: 'MaxPodsPerNode', args: { maxPods: 1 } }],
  };

  it('filters, scores with weights and selects the best node', async () => {
    const result = await runProfile({ registry, profile, nodes, pod: podWith({ 'wants-label': 'ssd' }) });
    expect(result.feasible.sort()).toEqual(['n1', 'n3']);
    expect(result.statuses.n2.code).toBe('Unschedulable');
    expect(result.scores).toEqual({ n1: 100, n3: 200 });
    expect(result.selected).toBe('n3');
    expect(result.message).toBeUndefined();
  });

  it('builds the FailedScheduling message when nothing fits', async () => {
    const pods = [podFixture({ name: 'a', nodeName: 'n1' }), podFixture({ name: 'b', nodeName: 'n3' })];
    const result = await runProfile({
      registry,
      profile,
      nodes,
      pods,
      pod: podWith({ 'wants-label': 'ssd' }),
      runPostFilter: true,
    });
    expect(result.status.code).toBe('Unschedulable');
    expect(result.selected).toBeUndefined();
    expect(result.message).toBe('0/3 nodes are available: 1 node(s) missing label ssd, 2 Too many pods.');
    expect(result.nominatedNodeName).toBe('n1');
  });
});
