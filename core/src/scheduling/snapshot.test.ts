// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { isStatusError } from '../errors/status-error.js';
import { nodeFixture, podFixture } from '../testing/fixtures.js';
import { SchedulingSnapshot } from './snapshot.js';

describe('SchedulingSnapshot', () => {
  it('places bound pods on their nodes and ignores the rest', () => {
    const anti = podFixture({ name: 'anti', nodeName: 'n2' });
    anti.spec!.affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone', labelSelector: {} }],
      },
    };
    const preferring = podFixture({ name: 'pref', nodeName: 'n1' });
    preferring.spec!.affinity = {
      podAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 1, podAffinityTerm: { topologyKey: 'zone' } },
        ],
      },
    };
    const snapshot = SchedulingSnapshot.fromObjects(
      [nodeFixture({ name: 'n1' }), nodeFixture({ name: 'n2' }), nodeFixture({ name: 'n3' })],
      [
        podFixture({ name: 'a', nodeName: 'n1', requests: { cpu: '1' } }),
        preferring,
        anti,
        podFixture({ name: 'pending' }),
        podFixture({ name: 'elsewhere', nodeName: 'gone' }),
        podFixture({ name: 'done', nodeName: 'n3', phase: 'Succeeded' }),
      ],
    );
    expect(snapshot.list().map((n) => n.name)).toEqual(['n1', 'n2', 'n3']);
    expect(snapshot.size).toBe(3);
    expect(snapshot.get('n1')?.pods).toHaveLength(2);
    expect(snapshot.get('n1')?.requested.milliCPU).toBe(1000);
    expect(snapshot.get('n3')?.pods).toHaveLength(0);
    expect(snapshot.get('nope')).toBeUndefined();
    expect(snapshot.havePodsWithAffinityList().map((n) => n.name)).toEqual(['n1', 'n2']);
    expect(snapshot.havePodsWithRequiredAntiAffinityList().map((n) => n.name)).toEqual(['n2']);
  });

  it('keeps the affinity lists current when its NodeInfos change', () => {
    const snapshot = SchedulingSnapshot.fromObjects([
      nodeFixture({ name: 'n1' }),
      nodeFixture({ name: 'n2' }),
    ]);
    expect(snapshot.havePodsWithAffinityList()).toEqual([]);
    const anti = podFixture({ name: 'anti' });
    anti.spec!.affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone', labelSelector: {} }],
      },
    };
    snapshot.get('n2')!.addPod(anti);
    expect(snapshot.havePodsWithAffinityList().map((n) => n.name)).toEqual(['n2']);
    expect(snapshot.havePodsWithRequiredAntiAffinityList().map((n) => n.name)).toEqual(['n2']);
    snapshot.get('n2')!.removePod(anti);
    expect(snapshot.havePodsWithAffinityList()).toEqual([]);
    expect(snapshot.havePodsWithRequiredAntiAffinityList()).toEqual([]);
  });

  it('rejects duplicate node names naming the index', () => {
    let caught: unknown;
    try {
      SchedulingSnapshot.fromObjects([nodeFixture({ name: 'n1' }), nodeFixture({ name: 'n1' })]);
    } catch (error) {
      caught = error;
    }
    expect(isStatusError(caught, 'BadRequest')).toBe(true);
    expect((caught as Error).message).toBe('nodes[1].metadata.name: duplicate node name "n1"');
  });
});
