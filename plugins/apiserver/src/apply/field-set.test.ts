// SPDX-License-Identifier: Apache-2.0
import { StatusError } from '@cpkit/core';
import { describe, expect, it } from 'vitest';
import { FieldSet, keyElement, pathString, valueElement } from './field-set.js';
import { typeOfKind } from './type-tree.js';
import { compareObjects, fieldSetOf, mergeObjects } from './walk.js';

const pod = typeOfKind({ group: '', version: 'v1', kind: 'Pod' });
const deployment = typeOfKind({ group: 'apps', version: 'v1', kind: 'Deployment' });

describe('FieldSet and FieldsV1', () => {
  it('round-trips FieldsV1, with "." only where a member has members below it', () => {
    const fields = {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} },
        },
      },
    };
    const set = FieldSet.fromFieldsV1(fields);
    expect(set.has(['f:metadata', 'f:labels'])).toBe(true);
    expect(set.has(['f:metadata'])).toBe(false);
    expect(set.has(['f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image'])).toBe(true);
    expect(set.toFieldsV1()).toEqual(fields);
    expect(set.paths()).toHaveLength(5);
  });

  it('rejects malformed FieldsV1', () => {
    for (const bad of [{ 'x:y': {} }, { 'k:[1]': {} }, { 'i:a': {} }, { 'f:a': 3 }, { 'v:{': {} }, []]) {
      expect(() => FieldSet.fromFieldsV1(bad)).toThrow(StatusError);
    }
  });

  it('union, difference and intersection work on members, not prefixes', () => {
    const a = new FieldSet();
    a.insert(['f:a', 'f:b']);
    a.insert(['f:a']);
    const b = new FieldSet();
    b.insert(['f:a', 'f:b']);
    b.insert(['f:c']);
    expect(a.difference(b).paths()).toEqual([['f:a']]);
    expect(a.intersection(b).paths()).toEqual([['f:a', 'f:b']]);
    expect(a.union(b).paths()).toEqual([['f:a'], ['f:a', 'f:b'], ['f:c']]);
    expect(a.hasAtOrBelow(['f:a'])).toBe(true);
    expect(b.difference(b).isEmpty()).toBe(true);
  });

  it('prints paths as upstream does in conflicts', () => {
    expect(
      pathString([
        'f:spec',
        'f:containers',
        keyElement({ name: 'web' }),
        'f:ports',
        keyElement({ protocol: 'TCP', containerPort: 80 }),
      ]),
    ).toBe('.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"]');
    expect(pathString(['f:metadata', 'f:finalizers', valueElement('a/b')])).toBe(
      '.metadata.finalizers[="a/b"]',
    );
    expect(pathString(['f:args', 'i:2'])).toBe('.args[2]');
  });
});

describe('field sets of objects', () => {
  it('owns leaves, list items and map entries, not struct fields (ToFieldSet)', () => {
    const set = fieldSetOf(
      {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }], args: ['a', 'b'] }],
          nodeSelector: { disk: 'ssd' },
        },
      },
      pod,
    );
    expect(set.toFieldsV1()).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"web"}': {
            '.': {},
            'f:args': {},
            'f:image': {},
            'f:name': {},
            'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
          },
        },
        'f:nodeSelector': { 'f:disk': {} },
      },
    });
  });

  it('treats atomic structs (LabelSelector) as one field and sets by value', () => {
    const set = fieldSetOf(
      { metadata: { finalizers: ['x'] }, spec: { selector: { matchLabels: { app: 'a' } }, replicas: 2 } },
      deployment,
    );
    expect(set.toFieldsV1()).toEqual({
      'f:metadata': { 'f:finalizers': { 'v:"x"': {} } },
      'f:spec': { 'f:replicas': {}, 'f:selector': {} },
    });
  });

  it('rejects items of associative lists without their key and duplicate keys (400)', () => {
    expect(() => fieldSetOf({ spec: { containers: [{ image: 'x' }] } }, pod)).toThrow(
      /omits key field "name"/,
    );
    expect(() => fieldSetOf({ spec: { containers: [{ name: 'a' }, { name: 'a' }] } }, pod)).toThrow(
      /duplicate entries/,
    );
  });

  it('compares: added, modified and removed paths, list items by key', () => {
    const before = {
      spec: {
        containers: [
          { name: 'a', image: 'x' },
          { name: 'b', image: 'y' },
        ],
      },
    };
    const after = {
      spec: {
        containers: [
          { name: 'b', image: 'z' },
          { name: 'c', image: 'y' },
        ],
      },
    };
    const { added, modified, removed } = compareObjects(before, after, pod);
    const item = (name: string) => ['f:spec', 'f:containers', keyElement({ name })];
    expect(added.has(item('c'))).toBe(true);
    expect(added.has([...item('c'), 'f:image'])).toBe(true);
    expect(modified.paths()).toEqual([[...item('b'), 'f:image']]);
    expect(removed.has(item('a'))).toBe(true);
    expect(removed.has([...item('a'), 'f:name'])).toBe(true);
    // The struct `spec` is not added on create (upstream compares with typed zero values).
    expect(compareObjects(undefined, after, pod).added.has(['f:spec'])).toBe(false);
  });

  it('merges associative lists per key, keeping live-only items in place', () => {
    const live = {
      spec: {
        containers: [
          { name: 'a', image: 'x', tty: true },
          { name: 'side', image: 's' },
        ],
      },
    };
    const config = {
      spec: {
        containers: [
          { name: 'a', image: 'y' },
          { name: 'b', image: 'z' },
        ],
      },
    };
    expect(mergeObjects(live, config, pod)).toEqual({
      spec: {
        containers: [
          { name: 'a', image: 'y', tty: true },
          { name: 'side', image: 's' },
          { name: 'b', image: 'z' },
        ],
      },
    });
    // Atomic lists are replaced whole, sets merged by value.
    const merged = mergeObjects(
      { metadata: { finalizers: ['a'] }, spec: { tolerations: [{ key: 'k' }] } },
      { metadata: { finalizers: ['b'] }, spec: { tolerations: [{ key: 'j' }] } },
      pod,
    );
    expect(merged).toEqual({ metadata: { finalizers: ['a', 'b'] }, spec: { tolerations: [{ key: 'j' }] } });
  });
});
