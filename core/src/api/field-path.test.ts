// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { FieldPath } from './field-path.js';

describe('FieldPath', () => {
  it.each([
    [FieldPath.root('metadata'), 'metadata'],
    [FieldPath.root('metadata').child('labels').key('app'), 'metadata.labels[app]'],
    [FieldPath.root('spec', 'containers').index(0).child('image'), 'spec.containers[0].image'],
    [
      FieldPath.root('spec').child('template', 'spec').child('volumes').index(12),
      'spec.template.spec.volumes[12]',
    ],
    [FieldPath.root('data').key('a.b/c'), 'data[a.b/c]'],
    [FieldPath.root('items').index(1).index(2), 'items[1][2]'],
    [FieldPath.root('metadata').key('x').child('y'), 'metadata[x].y'],
    [FieldPath.from('metadata.name'), 'metadata.name'],
  ])('prints %s as %s', (path, expected) => {
    expect(path.toString()).toBe(expected);
    expect(String(path)).toBe(expected);
  });

  it('is immutable: children of one parent do not see each other', () => {
    const spec = FieldPath.root('spec');
    const a = spec.child('a');
    const b = spec.child('b');
    expect([spec.toString(), a.toString(), b.toString()]).toEqual(['spec', 'spec.a', 'spec.b']);
  });

  it('passes a FieldPath through from() unchanged', () => {
    const path = FieldPath.root('x');
    expect(FieldPath.from(path)).toBe(path);
  });
});
