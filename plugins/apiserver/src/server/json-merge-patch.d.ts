// SPDX-License-Identifier: Apache-2.0
// The json-merge-patch package ships no type declarations; this covers the part the server uses.
declare module 'json-merge-patch' {
  /** Applies an RFC 7386 merge patch to `target` (which may be modified) and returns the result. */
  export function apply(target: unknown, patch: unknown): unknown;
  const jsonMergePatch: { apply: typeof apply };
  export default jsonMergePatch;
}
