// SPDX-License-Identifier: Apache-2.0
import { StatusError } from '@cpkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { patchSchemaFor } from './patch-schema.js';
import { strategicMergePatch } from './strategic-merge-patch.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** RFC 7386 as the oracle: without lists or directives, a strategic merge patch is a JSON merge patch. */
function jsonMergePatch(target: Json | undefined, patch: Json): Json {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, Json> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = jsonMergePatch(result[key], value);
  }
  return result;
}

const key = fc.constantFrom('a', 'b', 'c', 'spec', 'metadata', 'labels', 'name');
const scalar = fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.boolean());
const { tree } = fc.letrec<{ tree: Record<string, Json> }>((tie) => ({
  tree: fc.dictionary(key, fc.oneof({ depthSize: 'small' }, scalar, fc.constant(null), tie('tree')), {
    maxKeys: 4,
  }),
}));

const anyJson = fc.jsonValue({ maxDepth: 4 });
const schema = patchSchemaFor('apps', 'Deployment');

describe('strategicMergePatch properties', () => {
  it('equals a JSON merge patch on objects without lists or directives', () => {
    fc.assert(
      fc.property(tree, tree, (original, patch) => {
        const before = structuredClone(original);
        const expected = jsonMergePatch(original, patch);
        expect(strategicMergePatch(original, patch, schema)).toEqual(expected);
        expect(original).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });

  it('fails on arbitrary JSON only with a BadRequest StatusError, never mutating its inputs', () => {
    const withDirectives = fc.oneof(
      anyJson,
      fc.record({
        spec: fc.record({
          template: fc.record({ spec: fc.record({ containers: anyJson, volumes: anyJson }) }),
          strategy: fc.record({ $retainKeys: anyJson, $patch: anyJson }, { requiredKeys: [] }),
          '$setElementOrder/containers': anyJson,
        }),
        metadata: fc.record({ finalizers: anyJson, '$deleteFromPrimitiveList/finalizers': anyJson }),
      }),
    );
    fc.assert(
      fc.property(anyJson, withDirectives, (original, patch) => {
        const before = structuredClone([original, patch]);
        try {
          strategicMergePatch(original, patch, schema);
        } catch (error) {
          expect(error).toBeInstanceOf(StatusError);
          expect((error as StatusError).reason).toBe('BadRequest');
        }
        expect([original, patch]).toEqual(before);
      }),
      { numRuns: 500 },
    );
  });
});
