// SPDX-License-Identifier: Apache-2.0
// The json-merge-patch package ships no type declarations; these cover the part the registry uses.
declare module 'json-merge-patch' {
  /** Applies an RFC 7386 merge patch to `target` (which it may modify) and returns the result. */
  export function apply(target: unknown, patch: unknown): unknown;
  /** The merge patch that turns `before` into `after`, or undefined when they are equal. */
  export function generate(before: unknown, after: unknown): unknown;
  /** Merges two merge patches into one. */
  export function merge(patch1: unknown, patch2: unknown): unknown;
  const jsonMergePatch: {
    apply: typeof apply;
    generate: typeof generate;
    merge: typeof merge;
  };
  export default jsonMergePatch;
}
