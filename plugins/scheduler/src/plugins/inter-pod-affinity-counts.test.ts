// SPDX-License-Identifier: Apache-2.0
import { CycleState, SchedulerNodeInfo, SchedulerPodInfo, SchedulingSnapshot } from '@cpkit/core';
import { nodeFixture } from '@cpkit/core/testing';
import type { Pod, PodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { type InterPodAffinity, interPodAffinityRegistration } from './inter-pod-affinity.js';
import {
  PairCountAggregate,
  preFilterContributions,
  preFilterCountsKey,
} from './inter-pod-affinity-counts.js';
import { parsedAffinityOf } from './inter-pod-affinity-terms.js';
import {
  FakeSnapshot,
  handleFor,
  pod,
  runFilter,
  runScore,
  summarize,
} from './pod-topology-spread.test-helper.js';

const zone = 'topology.kubernetes.io/zone';
const hostname = 'kubernetes.io/hostname';

const term = (app: string, topologyKey: string, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm => ({
  labelSelector: { matchLabels: { app } },
  topologyKey,
  ...extra,
});

/** Existing pods of a few kinds: plain, with required anti-affinity, with required affinity. */
function existingPod(kind: number, nodeName: string, namespace: string): Pod {
  const app = kind % 2 === 0 ? 'web' : 'db';
  switch (kind) {
    case 0:
    case 1:
      return pod({ nodeName, namespace, labels: { app } });
    case 2:
      return pod({
        nodeName,
        namespace,
        labels: { app },
        spec: {
          affinity: {
            podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', hostname)] },
          },
        },
      });
    case 3:
      return pod({
        nodeName,
        namespace,
        labels: { app },
        spec: {
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                term('web', zone, { namespaces: ['default', 'other'] }),
              ],
            },
          },
        },
      });
    case 5:
      return pod({
        nodeName,
        namespace,
        labels: { app },
        spec: {
          affinity: {
            podAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 5, podAffinityTerm: term('web', zone) },
              ],
            },
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 3, podAffinityTerm: term('db', hostname) },
              ],
            },
          },
        },
      });
    default:
      return pod({
        nodeName,
        namespace,
        labels: { app },
        spec: {
          affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', zone)] } },
        },
      });
  }
}

const incomings: Pod[] = [
  // The benchmark's shape: anti-affinity to its own kind per host.
  pod({
    labels: { app: 'web' },
    spec: {
      affinity: {
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', hostname)] },
      },
    },
  }),
  // Affinity to db pods per zone.
  pod({
    labels: { app: 'web' },
    spec: {
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', zone)] } },
    },
  }),
  // No terms of its own: only existing pods' anti-affinity counts.
  pod({ labels: { app: 'web' } }),
  pod({ labels: { app: 'db' }, namespace: 'other' }),
  // Preferred terms of its own.
  pod({
    labels: { app: 'web' },
    spec: {
      affinity: {
        podAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 7, podAffinityTerm: term('db', zone) }],
        },
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 2, podAffinityTerm: term('web', hostname, { namespaces: ['default', 'other'] }) },
          ],
        },
      },
    },
  }),
  // Both kinds, over two namespaces.
  pod({
    labels: { app: 'db' },
    spec: {
      affinity: {
        podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', zone)] },
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            term('db', hostname, { namespaces: ['default', 'other'] }),
          ],
        },
      },
    },
  }),
  // As the plain web pod but for its labels.
  pod({ labels: { app: 'db' } }),
];

function contributionsFor(incoming: Pod) {
  const parsed = parsedAffinityOf(incoming);
  return {
    key: preFilterCountsKey(
      incoming,
      undefined,
      parsed.requiredAffinityTerms,
      parsed.requiredAntiAffinityTerms,
    ),
    compute: (
      nodeInfo: Parameters<typeof preFilterContributions>[0],
      out: Parameters<typeof preFilterContributions>[5],
    ) =>
      preFilterContributions(
        nodeInfo,
        incoming,
        undefined,
        parsed.requiredAffinityTerms,
        parsed.requiredAntiAffinityTerms,
        out,
      ),
  };
}

describe('InterPodAffinity counts kept across cycles', () => {
  it('match a fresh count as pods come and go, nodes change labels, leave and return', async () => {
    // A small deterministic generator, so a failure replays.
    let seed = 11;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      // The low bits of this generator cycle quickly: use the high ones.
      return (seed >>> 16) % n;
    };
    const labelsOf = (i: number, zoneIndex: number): Record<string, string> =>
      i % 9 === 8 ? {} : { [hostname]: `n${i}`, [zone]: `zone${zoneIndex}` };
    const infos = Array.from(
      { length: 20 },
      (_, i) => new SchedulerNodeInfo(nodeFixture({ name: `n${i}`, labels: labelsOf(i, i % 3) })),
    );
    let present = infos.slice();
    let snapshot = new SchedulingSnapshot(present);
    const handle = { ...handleFor(new FakeSnapshot([], [])), nodeInfos: () => snapshot };
    const kept = interPodAffinityRegistration.factory(undefined, handle) as InterPodAffinity;
    // The aggregates as the plugin keeps them, one per incoming pod, over every node.
    const keptAggregates = incomings.map(() => new PairCountAggregate(3));
    const placed: { pod: Pod; info: SchedulerNodeInfo }[] = [];

    for (let round = 0; round < 300; round++) {
      const action = random(10);
      if (action < 5) {
        const info = present[random(present.length)];
        const p = existingPod(random(6), info.name, random(4) === 0 ? 'other' : 'default');
        info.addPod(new SchedulerPodInfo(p));
        placed.push({ pod: p, info });
      } else if (action < 7 && placed.length > 0) {
        const [{ pod: p, info }] = placed.splice(random(placed.length), 1);
        info.removePod(p);
      } else if (action === 7 && present.length > 3) {
        const gone = random(present.length);
        present = present.filter((_, i) => i !== gone);
        snapshot = new SchedulingSnapshot(present);
      } else if (action === 8) {
        present = infos.filter((info) => present.includes(info) || random(2) === 0);
        snapshot = new SchedulingSnapshot(present);
      } else {
        const index = random(infos.length);
        const node = structuredClone(infos[index].node);
        node.metadata!.labels = labelsOf(random(2) === 0 ? index : 8, random(4));
        infos[index].setNode(node);
      }

      const which = round % incomings.length;
      const incoming = incomings[which];
      // The counts themselves.
      const { compute } = contributionsFor(incoming);
      keptAggregates[which].refresh(snapshot.list(), compute);
      const fresh = new PairCountAggregate(3);
      fresh.refresh(snapshot.list(), compute);
      expect(
        keptAggregates[which].counts.map((c) => c.toRecord()),
        `round ${round}`,
      ).toEqual(fresh.counts.map((c) => c.toRecord()));
      expect(keptAggregates[which].counts.map((c) => c.pairs)).toEqual(fresh.counts.map((c) => c.pairs));

      // What a user sees: Filter of the plugin that keeps counts equals a new plugin's.
      const freshPlugin = interPodAffinityRegistration.factory(undefined, handle) as InterPodAffinity;
      const got = await runFilter(kept, incoming, snapshot);
      const want = await runFilter(freshPlugin, incoming, snapshot);
      expect(got.preFilter.code, `round ${round}`).toBe(want.preFilter.code);
      expect(summarize(got.filter), `round ${round}`).toEqual(summarize(want.filter));
      const gotScores = await runScore(kept, incoming, snapshot);
      const wantScores = await runScore(freshPlugin, incoming, snapshot);
      expect(gotScores.preScore.code, `round ${round}`).toBe(wantScores.preScore.code);
      expect(gotScores.scores, `round ${round}`).toEqual(wantScores.scores);
    }
  });

  it('keys pods with different labels, namespaces or terms apart', () => {
    const keys = incomings.map((p) => contributionsFor(p).key);
    // Preferred terms do not matter to PreFilter: the pod with only those shares the plain pod's key.
    expect(new Set(keys).size).toBe(incomings.length - 1);
    expect(keys[4]).toBe(keys[2]);
    const same = pod({ labels: { app: 'web' } });
    expect(contributionsFor(same).key).toBe(contributionsFor(incomings[2]).key);
  });

  it("leave the kept counts alone when preemption's what-ifs add and remove pods", async () => {
    const infos = ['a', 'b'].map(
      (name) => new SchedulerNodeInfo(nodeFixture({ name, labels: { [hostname]: name } })),
    );
    const snapshot = new SchedulingSnapshot(infos);
    const handle = { ...handleFor(new FakeSnapshot([], [])), nodeInfos: () => snapshot };
    const pl = interPodAffinityRegistration.factory(undefined, handle) as InterPodAffinity;
    const incoming = incomings[0];
    const antiFail = "Unschedulable: node(s) didn't match pod anti-affinity rules";
    expect(summarize((await runFilter(pl, incoming, snapshot)).filter)).toEqual({
      a: 'Success',
      b: 'Success',
    });

    // A what-if: a web pod on b makes b fail in that state only.
    const state = new CycleState();
    await pl.preFilter(state, incoming, snapshot.list());
    const web = new SchedulerPodInfo(existingPod(2, 'b', 'default'));
    pl.addPod(state, incoming, web, infos[1]);
    expect(pl.filter(state, incoming, infos[1]).message()).toBe(antiFail.split(': ')[1]);
    const copy = state.clone();
    pl.removePod(copy, incoming, web, infos[1]);
    expect(pl.filter(copy, incoming, infos[1]).isSuccess()).toBe(true);
    expect(pl.filter(state, incoming, infos[1]).isSuccess()).toBe(false);

    // The next cycle sees the real nodes again.
    expect(summarize((await runFilter(pl, incoming, snapshot)).filter)).toEqual({
      a: 'Success',
      b: 'Success',
    });
    infos[0].addPod(new SchedulerPodInfo(existingPod(0, 'a', 'default')));
    expect(summarize((await runFilter(pl, incoming, snapshot)).filter)).toEqual({
      a: antiFail,
      b: 'Success',
    });
  });
});
