// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { StatusError } from '../errors/status-error.js';
import { expectThrownStatusError } from '../testing/status-rejection.js';
import {
  checkFieldSelectorFields,
  escapeFieldSelectorValue,
  everythingFieldSelector,
  fieldSelectorFromSet,
  objectMetaFieldNames,
  objectMetaFieldSet,
  parseFieldSelector,
} from './field-selector.js';

const badRequest = (fn: () => unknown): StatusError =>
  expectThrownStatusError(fn, { reason: 'BadRequest', code: 400 });

describe('parseFieldSelector: parsing and canonical form', () => {
  it.each([
    ['', '', []],
    [',,', '', []],
    ['metadata.name=web', 'metadata.name=web', [['metadata.name', 'Equals', 'web']]],
    ['metadata.name==web', 'metadata.name=web', [['metadata.name', 'Equals', 'web']]],
    ['status.phase!=Running', 'status.phase!=Running', [['status.phase', 'NotEquals', 'Running']]],
    [
      'status.phase!=Running,spec.nodeName=n1',
      'spec.nodeName=n1,status.phase!=Running',
      [
        ['spec.nodeName', 'Equals', 'n1'],
        ['status.phase', 'NotEquals', 'Running'],
      ],
    ],
    ['spec.nodeName=', 'spec.nodeName=', [['spec.nodeName', 'Equals', '']]],
    ['a=b\\,c', 'a=b\\,c', [['a', 'Equals', 'b,c']]],
    ['a=b\\=c', 'a=b\\=c', [['a', 'Equals', 'b=c']]],
    ['a=b\\\\c', 'a=b\\\\c', [['a', 'Equals', 'b\\c']]],
    ['a!=\\,', 'a!=\\,', [['a', 'NotEquals', ',']]],
    ['x==', 'x=', [['x', 'Equals', '']]],
    [
      'a=b,,c=d',
      'a=b,c=d',
      [
        ['a', 'Equals', 'b'],
        ['c', 'Equals', 'd'],
      ],
    ],
    [
      'involvedObject.kind=Pod,involvedObject.name=web',
      'involvedObject.kind=Pod,involvedObject.name=web',
      [
        ['involvedObject.kind', 'Equals', 'Pod'],
        ['involvedObject.name', 'Equals', 'web'],
      ],
    ],
    // Whitespace is part of the field or value, as upstream treats it.
    [' a = b', ' a = b', [[' a ', 'Equals', ' b']]],
  ])('%j → %j', (input, canonical, requirements) => {
    const selector = parseFieldSelector(input);
    expect(selector.toString()).toBe(canonical);
    expect(selector.empty).toBe(requirements.length === 0);
    expect(selector.requirements.map((r) => [r.field, r.operator, r.value])).toEqual(requirements);
    expect(parseFieldSelector(canonical).toString()).toBe(canonical);
  });
});

describe('parseFieldSelector: bad input', () => {
  it.each([
    ['metadata.name', "can't understand 'metadata.name'"],
    ['a=b,c', "can't understand 'c'"],
    ['a=b=c', "unescaped character in value: '='"],
    ['a==b=c', "unescaped character in value: '='"],
    // The first operator wins, so the rest of the term is a value with a bare '='.
    ['a!=b=c', "unescaped character in value: '='"],
    ['a=b\\', 'invalid escape sequence: \\'],
    ['a=b\\n', 'invalid escape sequence: \\n'],
    ['a=\\x,c=d', 'invalid escape sequence: \\x'],
  ])('%j → BadRequest mentioning %j', (input, fragment) => {
    const error = badRequest(() => parseFieldSelector(input));
    expect(error.message).toContain(fragment);
    expect(error.message).toContain(`"${input}"`);
  });

  it('rejects a non-string with BadRequest', () => {
    badRequest(() => parseFieldSelector(undefined as unknown as string));
  });
});

describe('FieldSelectorMatcher', () => {
  const fields = {
    'metadata.name': 'web',
    'metadata.namespace': 'default',
    'spec.nodeName': '',
    'status.phase': 'Running',
  };
  it.each([
    ['', true],
    ['metadata.name=web', true],
    ['metadata.name==web', true],
    ['metadata.name=db', false],
    ['metadata.name!=db', true],
    ['metadata.name!=web', false],
    ['metadata.name=web,metadata.namespace=default', true],
    ['metadata.name=web,metadata.namespace=other', false],
    ['spec.nodeName=', true],
    ['spec.nodeName!=', false],
    ['status.phase!=Running', false],
    ['status.phase!=Pending', true],
    ['missing.field=', true], // missing reads as ''
    ['missing.field=x', false],
    ['missing.field!=x', true],
    ['toString=', true], // no prototype leakage
  ])('%j → %s', (selector, expected) => {
    expect(parseFieldSelector(selector).matches(fields)).toBe(expected);
  });

  it('requiresExactMatch returns the pinned value of = requirements only', () => {
    const selector = parseFieldSelector('metadata.name=web,status.phase!=Running,spec.nodeName==n1');
    expect(selector.requiresExactMatch('metadata.name')).toBe('web');
    expect(selector.requiresExactMatch('spec.nodeName')).toBe('n1');
    expect(selector.requiresExactMatch('status.phase')).toBeUndefined();
    expect(selector.requiresExactMatch('metadata.namespace')).toBeUndefined();
    expect(parseFieldSelector('spec.nodeName=').requiresExactMatch('spec.nodeName')).toBe('');
  });

  it('fieldSelectorFromSet and everythingFieldSelector', () => {
    const selector = fieldSelectorFromSet({ 'spec.nodeName': 'n1', 'metadata.name': 'a,b' });
    expect(selector.toString()).toBe('metadata.name=a\\,b,spec.nodeName=n1');
    expect(selector.matches({ 'metadata.name': 'a,b', 'spec.nodeName': 'n1' })).toBe(true);
    expect(everythingFieldSelector().matches({})).toBe(true);
    expect(everythingFieldSelector().empty).toBe(true);
  });
});

describe('checkFieldSelectorFields', () => {
  const allowed = ['metadata.name', 'metadata.namespace', 'spec.nodeName'];
  it('accepts supported fields', () => {
    expect(() =>
      checkFieldSelectorFields(parseFieldSelector('spec.nodeName=n,metadata.name!=x'), allowed, 'pods'),
    ).not.toThrow();
    expect(() => checkFieldSelectorFields(parseFieldSelector(''), [], 'pods')).not.toThrow();
  });
  it('rejects an unsupported field with the upstream message', () => {
    const error = badRequest(() =>
      checkFieldSelectorFields(parseFieldSelector('metadata.name=a,spec.foo=b'), allowed, 'pods'),
    );
    expect(error.message).toBe('field label not supported: spec.foo');
    expect(error.details?.kind).toBe('pods');
    expect(error.details?.causes?.[0]).toMatchObject({
      reason: 'FieldValueNotSupported',
      field: 'fieldSelector',
    });
    expect(error.details?.causes?.[0].message).toContain('"spec.nodeName"');
  });
});

describe('objectMetaFieldSet', () => {
  it('gives name and namespace of a namespaced object, and is usable with typed kinds', () => {
    const pod: Pod = {
      metadata: { name: 'web', namespace: 'default' },
      spec: { containers: [], nodeName: 'n1' },
    };
    const fields = { ...objectMetaFieldSet(pod), 'spec.nodeName': pod.spec?.nodeName ?? '' };
    expect(fields).toEqual({
      'metadata.name': 'web',
      'metadata.namespace': 'default',
      'spec.nodeName': 'n1',
    });
    expect(parseFieldSelector('metadata.namespace=default,spec.nodeName=n1').matches(fields)).toBe(true);
  });
  it('reads missing metadata as empty and leaves namespace out for cluster-scoped kinds', () => {
    expect(objectMetaFieldSet({})).toEqual({ 'metadata.name': '', 'metadata.namespace': '' });
    expect(objectMetaFieldSet({ metadata: { name: 'n1' } }, false)).toEqual({ 'metadata.name': 'n1' });
    expect(objectMetaFieldNames(false)).toEqual(['metadata.name']);
    expect(objectMetaFieldNames()).toEqual(['metadata.name', 'metadata.namespace']);
  });
});

describe('field selector properties', () => {
  const field = fc.constantFrom('metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase');
  const value = fc.string({ unit: fc.constantFrom('a', 'b', ',', '=', '\\', '!', ' ', '-'), maxLength: 6 });
  const requirement = fc.record({ field, op: fc.constantFrom('=', '==', '!='), value });
  it('escape/parse round-trips any value and toString is canonical', () => {
    fc.assert(
      fc.property(fc.array(requirement, { maxLength: 4 }), fc.dictionary(field, value), (reqs, fields) => {
        const text = reqs.map((r) => `${r.field}${r.op}${escapeFieldSelectorValue(r.value)}`).join(',');
        const selector = parseFieldSelector(text);
        expect(selector.requirements.map((r) => r.value).sort()).toEqual(reqs.map((r) => r.value).sort());
        const again = parseFieldSelector(selector.toString());
        expect(again.toString()).toBe(selector.toString());
        expect(again.matches(fields)).toBe(selector.matches(fields));
        const expected = reqs.every((r) => ((fields[r.field] ?? '') === r.value) === (r.op !== '!='));
        expect(selector.matches(fields)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
