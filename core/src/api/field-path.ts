// SPDX-License-Identifier: Apache-2.0

/**
 * An immutable path to a field inside an object, printed the way Kubernetes prints field paths in
 * validation errors: `spec.containers[0].image`, `metadata.labels[app]`.
 *
 * ```ts
 * FieldPath.root('metadata').child('labels').key('app').toString(); // 'metadata.labels[app]'
 * FieldPath.root('spec', 'containers').index(0).child('image').toString(); // 'spec.containers[0].image'
 * ```
 *
 * Each step returns a new path, so one parent can be shared by many children without copying.
 * @category API machinery
 */
export class FieldPath {
  private constructor(
    private readonly parent: FieldPath | undefined,
    /** The field name, or the already-formatted subscript (`[0]`, `[app]`). */
    private readonly segment: string,
    private readonly subscript: boolean,
  ) {}

  /** A path starting at the field `name`, optionally followed by more child names. */
  static root(name: string, ...more: string[]): FieldPath {
    let path = new FieldPath(undefined, name, false);
    for (const next of more) path = path.child(next);
    return path;
  }

  /** Accepts either a path or its string form; a string becomes a single-segment root. */
  static from(path: FieldPath | string): FieldPath {
    return typeof path === 'string' ? FieldPath.root(path) : path;
  }

  /** The path to the child field `name` (printed `parent.name`), optionally followed by more. */
  child(name: string, ...more: string[]): FieldPath {
    let path = new FieldPath(this, name, false);
    for (const next of more) path = path.child(next);
    return path;
  }

  /** The path to list element `i` (printed `parent[i]`). */
  index(i: number): FieldPath {
    return new FieldPath(this, `[${i}]`, true);
  }

  /** The path to map entry `key` (printed `parent[key]`, unquoted as upstream prints it). */
  key(key: string): FieldPath {
    return new FieldPath(this, `[${key}]`, true);
  }

  /** `spec.containers[0].image`. */
  toString(): string {
    const parts: FieldPath[] = [];
    for (let path: FieldPath | undefined = this; path; path = path.parent) parts.push(path);
    let out = '';
    for (let i = parts.length - 1; i >= 0; i--) {
      const part = parts[i];
      if (out !== '' && !part.subscript) out += '.';
      out += part.segment;
    }
    return out;
  }
}
