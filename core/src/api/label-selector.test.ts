// SPDX-License-Identifier: Apache-2.0
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatusError } from '../errors/status-error.js';
import { expectThrownStatusError } from '../testing/status-rejection.js';
import {
  everythingLabelSelector,
  type LabelRequirement,
  labelRequirement,
  labelSelectorFromObject,
  labelSelectorFromSet,
  labelSelectorToString,
  nothingLabelSelector,
  parseLabelSelector,
} from './label-selector.js';

const badRequest = (fn: () => unknown): StatusError =>
  expectThrownStatusError(fn, { reason: 'BadRequest', code: 400 });

describe('parseLabelSelector: canonical form', () => {
  it.each([
    ['', ''],
    ['   ', ''],
    ['x=a', 'x=a'],
    ['x==a', 'x==a'],
    ['x!=a', 'x!=a'],
    ['x', 'x'],
    ['!x', '!x'],
    ['! x', '!x'],
    ['x in (a)', 'x in (a)'],
    ['x notin (a)', 'x notin (a)'],
    ['x in (c,b,a,b)', 'x in (a,b,c)'],
    ['  x = a ,  y in ( b , c )  ', 'x=a,y in (b,c)'],
    ['b=1,a=2', 'a=2,b=1'],
    ['z,!y,x=1', 'x=1,!y,z'],
    ['x in (a,)', 'x in (,a)'],
    ['x in (,a)', 'x in (,a)'],
    ['x=', 'x='],
    ['x=,y=b', 'x=,y=b'],
    ['in=notin', 'in=notin'],
    ['notin in (in)', 'notin in (in)'],
    ['x>1', 'x>1'],
    ['x<5', 'x<5'],
    ['x in (,)', 'x in (,)'],
    ['x in (a,,b)', 'x in (,a,b)'],
    ['example.com/app=web', 'example.com/app=web'],
    ['app.kubernetes.io/name in (my_app,My.App)', 'app.kubernetes.io/name in (My.App,my_app)'],
    ['x=a,x!=b', 'x=a,x!=b'],
    ['x\t=\ta\n', 'x=a'],
  ])('%j → %j', (input, canonical) => {
    const selector = parseLabelSelector(input);
    expect(selector.toString()).toBe(canonical);
    expect(String(selector)).toBe(canonical);
    expect(selector.empty).toBe(canonical === '');
    // The canonical form is a fixed point.
    expect(parseLabelSelector(canonical).toString()).toBe(canonical);
  });

  it('exposes sorted, frozen requirements', () => {
    const selector = parseLabelSelector('z in (2,1),a');
    expect(selector.requirements).toEqual<LabelRequirement[]>([
      { key: 'a', operator: 'Exists', values: [] },
      { key: 'z', operator: 'In', values: ['1', '2'] },
    ]);
    expect(Object.isFrozen(selector.requirements)).toBe(true);
  });
});

describe('parseLabelSelector: matching', () => {
  const labels = { app: 'web', tier: 'frontend', env: 'prod', replicas: '3', empty: '' };
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['missing=x', false],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['env in (prod,staging)', true],
    ['env in (staging)', false],
    ['missing in (a)', false],
    ['env notin (prod)', false],
    ['env notin (dev)', true],
    ['missing notin (a)', true],
    ['app=web,tier=frontend', true],
    ['app=web,tier=backend', false],
    ['empty=', true],
    ['empty', true],
    ['missing=', false],
    ['empty in (,x)', true],
    ['replicas>2', true],
    ['replicas>3', false],
    ['replicas<4', true],
    ['replicas<3', false],
    ['app>1', false], // not an integer label value
    ['missing>1', false],
  ])('%j on %j → %s', (selector, expected) => {
    expect(parseLabelSelector(selector).matches(labels)).toBe(expected);
  });

  it('treats undefined labels as no labels', () => {
    expect(parseLabelSelector('').matches(undefined)).toBe(true);
    expect(parseLabelSelector('!a').matches(undefined)).toBe(true);
    expect(parseLabelSelector('a').matches(undefined)).toBe(false);
    expect(parseLabelSelector('a!=b').matches(undefined)).toBe(true);
  });

  it('does not see inherited properties as labels', () => {
    expect(parseLabelSelector('toString').matches({})).toBe(false);
    expect(parseLabelSelector('!constructor').matches({})).toBe(true);
  });
});

describe('parseLabelSelector: bad input', () => {
  it.each([
    ['x=a=b', "found '=', expected: ',' or 'end of string'"],
    ['x in a', "unable to parse requirement: found 'a', expected: '('"],
    ['x in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['x in (a b)', "unable to parse requirement: found 'b', expected: ',' or ')'"],
    ['x in (a,=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['x in ()', "for 'in', 'notin' operators, values set can't be empty"],
    ['x notin ()', "for 'in', 'notin' operators, values set can't be empty"],
    [',', "found ',', expected: !, identifier, or 'end of string'"],
    ['a,', "found '', expected: identifier after ','"],
    ['a,,b', "found ',', expected: identifier after ','"],
    ['!a=b', "found '=', expected: ',' or 'end of string' after '!a'"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['!!a', "unable to parse requirement: found '!', expected: identifier"],
    ['a b', "found 'b', expected: '=', '!=', '==', 'in', 'notin', '>' or '<' after 'a'"],
    ['a (b)', "found '(', expected"],
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    ['(', "found '(', expected: !, identifier, or 'end of string'"],
    ['a==(b)', "unable to parse requirement: found '(', expected: identifier"],
    ['a/b/c=x', 'invalid label key "a/b/c"'],
    ['-a=x', 'invalid label key "-a"'],
    ['Example.com/a=x', 'invalid label key "Example.com/a"'],
    ['a=-x', 'invalid label value: "-x": at key: "a"'],
    [`a=${'v'.repeat(64)}`, 'must be no more than 63 characters'],
    ['a in (ok,-bad)', 'invalid label value: "-bad": at key: "a"'],
    ['a>x', "for 'Gt', 'Lt' operators, the value must be an integer"],
    ['a<', "for 'Gt', 'Lt' operators, the value must be an integer"],
    // Gt/Lt values are label values too, so negative bounds are rejected, as upstream does.
    ['x<-5', 'invalid label value: "-5"'],
    ['a>99999999999999999999', "for 'Gt', 'Lt' operators, the value must be an integer"],
  ])('%j → BadRequest mentioning %j', (input, fragment) => {
    const error = badRequest(() => parseLabelSelector(input));
    expect(error.message).toContain(fragment);
    expect(error.message).toContain(`"${input}"`);
  });

  it('rejects a non-string with BadRequest, not a TypeError', () => {
    badRequest(() => parseLabelSelector(42 as unknown as string));
  });
});

describe('labelSelectorFromObject', () => {
  it.each([
    [{}, ''],
    [{ matchLabels: {} }, ''],
    [{ matchLabels: { b: '2', a: '1' } }, 'a=1,b=2'],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] }, 'env in (dev,prod)'],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['x'] }] }, 'env notin (x)'],
    [{ matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, 'canary'],
    [{ matchExpressions: [{ key: 'canary', operator: 'DoesNotExist', values: [] }] }, '!canary'],
    [
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] },
      'app=web,app notin (db)',
    ],
  ])('%j → %j', (selector, canonical) => {
    const matcher = labelSelectorFromObject(selector);
    expect(matcher.toString()).toBe(canonical);
    expect(labelSelectorToString(selector)).toBe(canonical);
    expect(matcher.empty).toBe(canonical === '');
  });

  it('matches like the equivalent string selector', () => {
    const matcher = labelSelectorFromObject({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'staging'] },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    });
    expect(matcher.matches({ app: 'web', env: 'prod' })).toBe(true);
    expect(matcher.matches({ app: 'web', env: 'prod', canary: 'true' })).toBe(false);
    expect(matcher.matches({ app: 'web', env: 'dev' })).toBe(false);
    expect(matcher.matches({ env: 'prod' })).toBe(false);
  });

  it('an absent selector matches nothing; an empty one matches everything', () => {
    expect(labelSelectorFromObject(undefined).matches({ a: 'b' })).toBe(false);
    expect(labelSelectorFromObject(null).matches({})).toBe(false);
    expect(labelSelectorFromObject(undefined).empty).toBe(false);
    expect(labelSelectorFromObject({}).matches({})).toBe(true);
    expect(nothingLabelSelector().matches({})).toBe(false);
    expect(everythingLabelSelector().matches(undefined)).toBe(true);
  });

  it.each([
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, "values set can't be empty"],
    [{ matchExpressions: [{ key: 'a', operator: 'In' }] }, "values set can't be empty"],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn' }] }, "values set can't be empty"],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, 'values set must be empty'],
    [
      { matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }] },
      'values set must be empty',
    ],
    [
      { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] },
      '"Equals" is not a valid label selector operator',
    ],
    [
      { matchExpressions: [{ key: 'a', operator: 'in', values: ['x'] }] },
      '"in" is not a valid label selector operator',
    ],
    [{ matchExpressions: [{ key: 'a b', operator: 'Exists' }] }, 'invalid label key "a b"'],
    [{ matchLabels: { a: 'bad value' } }, 'invalid label value: "bad value": at key: "a"'],
    [{ matchLabels: { a: 5 as unknown as string } }, 'must be a string'],
  ])('%j → BadRequest %j', (selector, fragment) => {
    const error = badRequest(() => labelSelectorFromObject(selector));
    expect(error.message).toContain('invalid label selector');
    expect(error.message).toContain(fragment);
  });
});

describe('labelSelectorFromSet / labelRequirement', () => {
  it('builds equality requirements from a map', () => {
    const selector = labelSelectorFromSet({ tier: 'web', app: 'shop' });
    expect(selector.toString()).toBe('app=shop,tier=web');
    expect(selector.matches({ app: 'shop', tier: 'web', extra: 'x' })).toBe(true);
    expect(selector.matches({ app: 'shop' })).toBe(false);
    expect(labelSelectorFromSet({}).empty).toBe(true);
  });

  it('validates a single requirement', () => {
    expect(labelRequirement('a', 'In', ['y', 'x', 'y'])).toEqual({
      key: 'a',
      operator: 'In',
      values: ['x', 'y'],
    });
    expect(badRequest(() => labelRequirement('a', 'Equals', ['x', 'y'])).message).toContain(
      'one single value',
    );
    expect(badRequest(() => labelRequirement('a', 'GreaterThan', [])).message).toContain('exactly one value');
  });
});

// ---- property: toString/parse round trip --------------------------------------------------------

const nameChar = fc.constantFrom(...'abcxyzABZ019'.split(''));
const innerChar = fc.constantFrom(...'abz09-_.'.split(''));
const labelName = fc
  .tuple(nameChar, fc.array(innerChar, { maxLength: 6 }), nameChar)
  .map(([a, mid, b]) => a + mid.join('') + b);
const labelKey = fc.oneof(
  labelName,
  labelName.map((n) => `example.com/${n}`),
);
const labelValue = fc.oneof(fc.constant(''), labelName);

const requirementString = fc.oneof(
  fc.tuple(labelKey, fc.constantFrom('=', '==', '!='), labelValue).map(([k, op, v]) => `${k}${op}${v}`),
  fc
    .tuple(labelKey, fc.constantFrom('in', 'notin'), fc.array(labelValue, { minLength: 1, maxLength: 4 }))
    // `()` would mean no values at all, so a lone empty value is written `(,)`.
    .map(([k, op, vs]) => `${k} ${op} (${vs.join(',') || ','})`),
  labelKey,
  labelKey.map((k) => `!${k}`),
  fc
    .tuple(labelKey, fc.constantFrom('>', '<'), fc.integer({ min: 0, max: 50 }))
    .map(([k, op, n]) => `${k}${op}${n}`),
);
const selectorString = fc.array(requirementString, { maxLength: 5 }).map((parts) => parts.join(','));
const labelSet = fc.dictionary(
  labelKey,
  fc.oneof(labelValue, fc.integer({ min: -60, max: 60 }).map(String)),
  { maxKeys: 6 },
);

describe('label selector properties', () => {
  it('toString is canonical: parsing it gives the same selector, matching the same sets', () => {
    fc.assert(
      fc.property(selectorString, fc.array(labelSet, { maxLength: 5 }), (text, sets) => {
        const selector = parseLabelSelector(text);
        const again = parseLabelSelector(selector.toString());
        expect(again.toString()).toBe(selector.toString());
        expect(again.requirements).toEqual(selector.requirements);
        for (const set of sets) expect(again.matches(set)).toBe(selector.matches(set));
      }),
      { numRuns: 500 },
    );
  });

  it('an object selector and its string form select the same label sets', () => {
    const objectSelector = fc.record({
      matchLabels: fc.dictionary(labelKey, labelValue, { maxKeys: 3 }),
      matchExpressions: fc.array(
        fc.oneof(
          fc.record({
            key: labelKey,
            operator: fc.constantFrom('In', 'NotIn'),
            values: fc.array(labelValue, { minLength: 1, maxLength: 3 }),
          }),
          fc.record({ key: labelKey, operator: fc.constantFrom('Exists', 'DoesNotExist') }),
        ),
        { maxLength: 3 },
      ),
    });
    fc.assert(
      fc.property(objectSelector, fc.array(labelSet, { maxLength: 5 }), (object, sets) => {
        const fromObject = labelSelectorFromObject(object);
        const fromString = parseLabelSelector(labelSelectorToString(object));
        for (const set of sets) expect(fromString.matches(set)).toBe(fromObject.matches(set));
      }),
      { numRuns: 300 },
    );
  });
});
