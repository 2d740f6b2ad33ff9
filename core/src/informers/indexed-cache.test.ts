// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../api/object.js';
import { IndexedCache, objectKey, splitObjectKey } from './indexed-cache.js';

const obj = (
  namespace: string | undefined,
  name: string,
  labels: Record<string, string> = {},
): KubeObject => ({
  metadata: { namespace, name, labels },
});

describe('objectKey / splitObjectKey', () => {
  it.each([
    [obj('ns', 'a'), 'ns/a', { namespace: 'ns', name: 'a' }],
    [obj(undefined, 'node-1'), 'node-1', { namespace: '', name: 'node-1' }],
  ])('keys %o as %s and splits it back', (object, key, parts) => {
    expect(objectKey(object)).toBe(key);
    expect(splitObjectKey(key)).toEqual(parts);
  });

  it('names the missing field', () => {
    expect(() => objectKey({ metadata: {} })).toThrow(/metadata\.name/);
  });
});

describe('IndexedCache', () => {
  it('keeps multi-valued indexes up to date and a throwing indexer changes nothing', () => {
    const cache = new IndexedCache<KubeObject>();
    cache.set(obj('a', 'x', { tier: 'fe' }));
    cache.set(obj('b', 'y', { tier: 'be' }));
    cache.addIndexers({ byLabelValue: (o) => Object.values(o.metadata?.labels ?? {}) });
    expect(cache.byIndex('byLabelValue', 'fe').map(objectKey)).toEqual(['a/x']);
    expect(() =>
      cache.addIndexers({
        ok: () => ['v'],
        bad: () => {
          throw new Error('boom');
        },
      }),
    ).toThrow('boom');
    expect(() => cache.byIndex('ok', 'v')).toThrow(/no index named "ok"/);
    cache.set(obj('a', 'x', { tier: 'be' }));
    expect(cache.byIndex('byLabelValue', 'fe')).toEqual([]);
    expect(cache.byIndex('byLabelValue', 'be').map(objectKey).sort()).toEqual(['a/x', 'b/y']);
    cache.delete('b/y');
    expect(cache.list('b')).toEqual([]);
    expect(cache.size).toBe(1);
  });
});
