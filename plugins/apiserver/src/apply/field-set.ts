// SPDX-License-Identifier: Apache-2.0
/**
 * Sets of field paths, as server-side apply tracks them per manager, and their `FieldsV1` wire form.
 *
 * A path is a list of serialized path elements, exactly as they appear as keys in `FieldsV1`:
 * `f:<name>` (a field or map key), `k:<json object>` (an item of an associative list, by its key
 * fields), `v:<json>` (an item of a set), `i:<n>` (a list position). The set is a trie over those
 * strings; a node is a *member* when the path ending there is in the set (`.` in `FieldsV1`), and
 * otherwise only a prefix of deeper members.
 *
 * @module
 */
import { errors } from '@cpkit/core';

/**
 * A set of field paths (see the module documentation). Immutable operations return new sets; the
 * `insert` family mutates.
 * @category API server
 */
export class FieldSet {
  /** True when the path ending at this node is itself in the set. */
  member = false;
  /** Deeper path elements, keyed by their serialized form. */
  children: Map<string, FieldSet> | undefined;

  /** True when the set holds no path. */
  isEmpty(): boolean {
    if (this.member) return false;
    if (!this.children) return true;
    for (const child of this.children.values()) if (!child.isEmpty()) return false;
    return true;
  }

  /** The node for a path, creating it (mutates). */
  node(path: readonly string[]): FieldSet {
    let node: FieldSet = this;
    for (const element of path) {
      node.children ??= new Map();
      let next = node.children.get(element);
      if (!next) {
        next = new FieldSet();
        node.children.set(element, next);
      }
      node = next;
    }
    return node;
  }

  /** Adds a path (mutates). */
  insert(path: readonly string[]): void {
    this.node(path).member = true;
  }

  /** The node at a path, if the set has anything at or below it. */
  at(path: readonly string[]): FieldSet | undefined {
    let node: FieldSet | undefined = this;
    for (const element of path) {
      node = node.children?.get(element);
      if (!node) return undefined;
    }
    return node;
  }

  /** True when the path is a member. */
  has(path: readonly string[]): boolean {
    return this.at(path)?.member === true;
  }

  /** True when the path or any path below it is a member. */
  hasAtOrBelow(path: readonly string[]): boolean {
    const node = this.at(path);
    return node !== undefined && !node.isEmpty();
  }

  /** Calls `visit` with every member path, in serialized-element order. */
  forEach(visit: (path: string[]) => void, prefix: string[] = []): void {
    if (this.member) visit([...prefix]);
    if (!this.children) return;
    for (const key of [...this.children.keys()].sort()) {
      prefix.push(key);
      this.children.get(key)?.forEach(visit, prefix);
      prefix.pop();
    }
  }

  /** Every member path. */
  paths(): string[][] {
    const out: string[][] = [];
    this.forEach((path) => {
      out.push(path);
    });
    return out;
  }

  /** A deep copy. */
  clone(): FieldSet {
    const copy = new FieldSet();
    copy.member = this.member;
    if (this.children) {
      copy.children = new Map();
      for (const [key, child] of this.children) copy.children.set(key, child.clone());
    }
    return copy;
  }

  /** Members of this set or of `other`. */
  union(other: FieldSet): FieldSet {
    const out = this.clone();
    out.addAll(other);
    return out;
  }

  /** Adds every member of `other` (mutates). */
  addAll(other: FieldSet): void {
    if (other.member) this.member = true;
    if (!other.children) return;
    for (const [key, child] of other.children) {
      this.children ??= new Map();
      let mine = this.children.get(key);
      if (!mine) {
        mine = new FieldSet();
        this.children.set(key, mine);
      }
      mine.addAll(child);
    }
  }

  /** Members of this set that are not members of `other`. */
  difference(other: FieldSet | undefined): FieldSet {
    const out = new FieldSet();
    out.member = this.member && !other?.member;
    if (this.children) {
      for (const [key, child] of this.children) {
        const rest = child.difference(other?.children?.get(key));
        if (!rest.isEmpty()) {
          out.children ??= new Map();
          out.children.set(key, rest);
        }
      }
    }
    return out;
  }

  /** Members of both sets. */
  intersection(other: FieldSet | undefined): FieldSet {
    const out = new FieldSet();
    if (!other) return out;
    out.member = this.member && other.member;
    if (this.children && other.children) {
      for (const [key, child] of this.children) {
        const theirs = other.children.get(key);
        if (!theirs) continue;
        const both = child.intersection(theirs);
        if (!both.isEmpty()) {
          out.children ??= new Map();
          out.children.set(key, both);
        }
      }
    }
    return out;
  }

  /** True when both sets have the same members. */
  equals(other: FieldSet): boolean {
    return this.difference(other).isEmpty() && other.difference(this).isEmpty();
  }

  /** The `FieldsV1` form: `{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}`. */
  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.children) {
      for (const key of [...this.children.keys()].sort()) {
        const child = this.children.get(key);
        if (child && !child.isEmpty()) out[key] = child.toFieldsV1();
      }
    }
    // A member with members below it says so with `.`; a bare leaf is just `{}`.
    if (this.member && Object.keys(out).length > 0) return { '.': {}, ...out };
    return out;
  }

  /**
   * Parses `FieldsV1`. Throws a `BadRequest` StatusError for anything that is not a well-formed set
   * (an unknown element prefix, a `k:` that is not a JSON object, a value that is not an object).
   */
  static fromFieldsV1(fields: unknown, where = 'fieldsV1'): FieldSet {
    const set = new FieldSet();
    readFields(set, fields, where);
    return set;
  }
}

function readFields(node: FieldSet, fields: unknown, where: string): void {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw errors.badRequest(`${where}: a FieldsV1 node must be a JSON object`);
  }
  for (const [key, value] of Object.entries(fields)) {
    if (key === '.') {
      node.member = true;
      continue;
    }
    checkElement(key, where);
    const child = node.node([key]);
    readFields(child, value, `${where}.${key}`);
    // `{"f:x":{}}` is the leaf x itself.
    if (Object.keys(value as object).length === 0) child.member = true;
  }
}

function checkElement(key: string, where: string): void {
  const kind = key.slice(0, 2);
  const body = key.slice(2);
  const bad = (): never => {
    throw errors.badRequest(`${where}: invalid path element ${JSON.stringify(key)}`);
  };
  switch (kind) {
    case 'f:':
      return;
    case 'i:':
      if (!/^\d+$/.test(body)) bad();
      return;
    case 'k:':
    case 'v:': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        bad();
      }
      if (kind === 'k:' && (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))) bad();
      return;
    }
    default:
      bad();
  }
}

/** `f:<name>`. @category API server */
export function fieldElement(name: string): string {
  return `f:${name}`;
}

/** `v:<json>`: an item of a set (a list of scalars merged as a set). @category API server */
export function valueElement(value: unknown): string {
  return `v:${JSON.stringify(value)}`;
}

/** `k:<json>`: an item of an associative list, by its key fields (sorted by name, as upstream). @category API server */
export function keyElement(keys: Readonly<Record<string, unknown>>): string {
  const sorted: Record<string, unknown> = {};
  for (const name of Object.keys(keys).sort()) sorted[name] = keys[name];
  return `k:${JSON.stringify(sorted)}`;
}

/** `i:<n>`. @category API server */
export function indexElement(index: number): string {
  return `i:${index}`;
}

function scalarText(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * A path as upstream prints it in conflicts and causes: `.spec.containers[name="web"].image`,
 * `.metadata.finalizers[="x"]`, `.spec.ports[port=80,protocol="TCP"]`, `.args[0]`.
 * @category API server
 */
export function pathString(path: readonly string[]): string {
  let out = '';
  for (const element of path) {
    const body = element.slice(2);
    switch (element.slice(0, 2)) {
      case 'f:':
        out += `.${body}`;
        break;
      case 'k:': {
        const keys = JSON.parse(body) as Record<string, unknown>;
        out += `[${Object.entries(keys)
          .map(([name, value]) => `${name}=${scalarText(value)}`)
          .join(',')}]`;
        break;
      }
      case 'v:':
        out += `[=${scalarText(JSON.parse(body))}]`;
        break;
      default:
        out += `[${body}]`;
    }
  }
  return out;
}
