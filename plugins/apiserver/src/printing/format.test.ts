// SPDX-License-Identifier: Apache-2.0
import type { LabelSelector } from '@cpkit/core';
import { describe, expect, it } from 'vitest';
import { containerCells, formatLabels, formatSelector } from './format.js';

describe('formatLabels', () => {
  it.each<[Record<string, string> | undefined, string]>([
    [undefined, '<none>'],
    [{}, '<none>'],
    [{ b: '2', a: '1' }, 'a=1,b=2'],
    [{ 'app.kubernetes.io/name': 'web', empty: '' }, 'app.kubernetes.io/name=web,empty='],
  ])('%o → %s', (labels, expected) => {
    expect(formatLabels(labels)).toBe(expected);
  });
});

describe('formatSelector', () => {
  it.each<[LabelSelector | undefined, string]>([
    [undefined, ''],
    [{}, ''],
    [{ matchLabels: { tier: 'web', app: 'shop' } }, 'app=shop,tier=web'],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] }, 'env in (dev,prod)'],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['qa'] }] }, 'env notin (qa)'],
    [{ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }, 'gpu'],
    [{ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }, '!gpu'],
    [
      {
        matchLabels: { app: 'x' },
        matchExpressions: [
          { key: 'app', operator: 'Exists' },
          { key: 'a', operator: 'Exists' },
        ],
      },
      'a,app=x,app',
    ],
  ])('%o → %s', (selector, expected) => {
    expect(formatSelector(selector)).toBe(expected);
  });
});

describe('containerCells', () => {
  it.each([
    [undefined, ['', '']],
    [
      [{ name: 'a', image: 'img:1' }, { name: 'b' }],
      ['a,b', 'img:1,'],
    ],
  ])('%o', (containers, expected) => {
    expect(containerCells(containers)).toEqual(expected);
  });
});
