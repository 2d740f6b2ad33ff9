// SPDX-License-Identifier: Apache-2.0
// Properties every scoring strategy must keep: the framework rejects scores outside [0, 100].
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultNormalizeScore } from './default-normalize-score.js';
import {
  balancedAllocationScorer,
  leastAllocatedScorer,
  mostAllocatedScorer,
  type ResourceScoringFunction,
  requestedToCapacityRatioScorer,
} from './resource-allocation.js';

const amounts = fc.array(
  fc.record({
    requested: fc.integer({ min: 0, max: 2 ** 40 }),
    allocatable: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 40 })),
    weight: fc.integer({ min: 1, max: 100 }),
  }),
  { minLength: 1, maxLength: 5 },
);

const strategies: [string, ResourceScoringFunction][] = [
  ['LeastAllocated', leastAllocatedScorer],
  ['MostAllocated', mostAllocatedScorer],
  ['BalancedAllocation', balancedAllocationScorer],
  [
    'RequestedToCapacityRatio',
    requestedToCapacityRatioScorer([
      { utilization: 0, score: 10 },
      { utilization: 40, score: 3 },
      { utilization: 100, score: 7 },
    ]),
  ],
];

describe('resource scoring strategies', () => {
  it.each(strategies)('%s gives an integer in [0, 100] for any amounts', (_name, scorer) => {
    fc.assert(
      fc.property(amounts, (resources) => {
        const score = scorer(
          Float64Array.from(resources.map((r) => r.requested)),
          Float64Array.from(resources.map((r) => r.allocatable)),
          resources.map((r) => r.weight),
        );
        return Number.isInteger(score) && score >= 0 && score <= 100;
      }),
    );
  });

  it('LeastAllocated and MostAllocated mirror each other on one resource', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (capacity, requested) => {
          fc.pre(requested <= capacity);
          const least = leastAllocatedScorer(Float64Array.of(requested), Float64Array.of(capacity), [1]);
          const most = mostAllocatedScorer(Float64Array.of(requested), Float64Array.of(capacity), [1]);
          // Each truncates on its own, so together they lose at most 1.
          expect(least + most).toBeGreaterThanOrEqual(99);
          expect(least + most).toBeLessThanOrEqual(100);
        },
      ),
    );
  });
});

describe('defaultNormalizeScore', () => {
  it('scales the best node to 100 and keeps the order, or reverses it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        (raw, reverse) => {
          const scores = raw.map((score, i) => ({ name: `n${i}`, score }));
          defaultNormalizeScore(scores, reverse);
          const max = Math.max(...raw);
          for (let i = 0; i < raw.length; i++) {
            const score = scores[i].score;
            expect(score >= 0 && score <= 100 && Number.isInteger(score)).toBe(true);
            if (max === 0) expect(score).toBe(reverse ? 100 : 0);
            else if (raw[i] === max) expect(score).toBe(reverse ? 0 : 100);
            for (let j = 0; j < raw.length; j++) {
              if (raw[i] < raw[j])
                expect(reverse ? score >= scores[j].score : score <= scores[j].score).toBe(true);
            }
          }
        },
      ),
    );
  });
});
