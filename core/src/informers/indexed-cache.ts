// SPDX-License-Identifier: Apache-2.0
import type { KubeObject } from '../api/object.js';
import { StatusError } from '../errors/status-error.js';

/**
 * Computes the index values of an object, e.g. `byNode: (pod) => [pod.spec.nodeName]`. An object may
 * have any number of values (none leaves it out of the index).
 * @category Informers
 */
export type IndexFunc<T> = (object: T) => readonly string[];

/** Name of the index every cache keeps: objects by `metadata.namespace` (`''` for cluster-scoped). @category Informers */
export const namespaceIndex = 'namespace';

/**
 * The cache key of an object, as upstream: `namespace/name`, or `name` for cluster-scoped objects.
 * @category Informers
 */
export function objectKey(object: KubeObject): string {
  const name = object.metadata?.name;
  if (!name) throw new StatusError('BadRequest', 'metadata.name: required to compute a cache key');
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

/** Splits a cache key into namespace (`''` when cluster-scoped) and name. @category Informers */
export function splitObjectKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: '', name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * Read access to an informer's cache. Objects handed out are the cache's own: treat them as
 * read-only (copy with `structuredClone` before changing one).
 * @category Informers
 */
export interface CacheReader<T extends KubeObject> {
  /** The object with this key (`namespace/name` or `name`), if cached. */
  get(key: string): T | undefined;
  /** Every cached object, or those of one namespace. */
  list(namespace?: string): T[];
  /** Every cache key. */
  keys(): string[];
  /** Objects whose index `indexName` contains `value`. Unknown index names are a `BadRequest`. */
  byIndex(indexName: string, value: string): T[];
}

/**
 * A keyed object cache with secondary indexes kept up to date on every change.
 * @category Informers
 */
export class IndexedCache<T extends KubeObject> implements CacheReader<T> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private readonly indexedValues = new Map<string, Map<string, string[]>>();

  constructor() {
    this.addIndexers({ [namespaceIndex]: (o) => [o.metadata?.namespace ?? ''] });
  }

  /**
   * Adds indexes; existing objects are indexed at once. A name already in use is a `BadRequest` and
   * adds none of the given indexers.
   */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    const taken = Object.keys(indexers).filter((name) => this.indexers.has(name));
    if (taken.length > 0) {
      throw new StatusError('BadRequest', `indexers: ${taken.map((n) => `"${n}"`).join(', ')} already exist`);
    }
    for (const [name, fn] of Object.entries(indexers)) {
      if (typeof fn !== 'function')
        throw new StatusError('BadRequest', `indexers.${name}: must be a function`);
    }
    // Compute every value first so a throwing index function adds nothing.
    const computed = Object.entries(indexers).map(
      ([name, fn]) =>
        [name, fn, [...this.items].map(([key, o]) => [key, [...new Set(fn(o))]] as const)] as const,
    );
    for (const [name, fn, entries] of computed) {
      this.indexers.set(name, fn);
      this.indices.set(name, new Map());
      for (const [key, values] of entries) {
        this.indexedValues.get(key)?.set(name, [...values]);
        this.link(name, values, key);
      }
    }
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(namespace?: string): T[] {
    return namespace === undefined ? [...this.items.values()] : this.byIndex(namespaceIndex, namespace);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  byIndex(indexName: string, value: string): T[] {
    const index = this.indices.get(indexName);
    if (!index) throw new StatusError('BadRequest', `indexName: no index named "${indexName}"`);
    const keys = index.get(value);
    return keys ? [...keys].map((k) => this.items.get(k)!) : [];
  }

  /**
   * Stores `object` under its key; returns the object it replaced. When an index function throws,
   * the error propagates and the cache is left as it was.
   */
  set(object: T): T | undefined {
    const key = objectKey(object);
    const values = new Map<string, string[]>();
    for (const [name, fn] of this.indexers) values.set(name, [...new Set(fn(object))]);
    const old = this.items.get(key);
    if (old) this.unindex(key);
    this.items.set(key, object);
    this.indexedValues.set(key, values);
    for (const [name, vals] of values) this.link(name, vals, key);
    return old;
  }

  /** Removes the object with `key`; returns it. */
  delete(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key);
    this.items.delete(key);
    this.indexedValues.delete(key);
    return old;
  }

  private link(name: string, values: readonly string[], key: string): void {
    const index = this.indices.get(name)!;
    for (const value of values) {
      let keys = index.get(value);
      if (!keys) {
        keys = new Set();
        index.set(value, keys);
      }
      keys.add(key);
    }
  }

  // Uses the values computed when the object was stored, so index functions run once per change.
  private unindex(key: string): void {
    for (const [name, values] of this.indexedValues.get(key) ?? []) {
      const index = this.indices.get(name)!;
      for (const value of values) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}
