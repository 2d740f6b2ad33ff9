// SPDX-License-Identifier: Apache-2.0

/**
 * A binary min-heap whose items have a string key, so an item can be found, updated or removed in
 * O(log n) (the scheduling queue updates and deletes pods by uid).
 * @internal
 */
export class KeyedHeap<T> {
  private readonly items: T[] = [];
  private readonly positions = new Map<string, number>();

  /**
   * @param keyOf the item's key (unique within the heap).
   * @param less true when `a` must come out before `b`.
   */
  constructor(
    private readonly keyOf: (item: T) => string,
    private readonly less: (a: T, b: T) => boolean,
  ) {}

  get size(): number {
    return this.items.length;
  }

  has(key: string): boolean {
    return this.positions.has(key);
  }

  get(key: string): T | undefined {
    const index = this.positions.get(key);
    return index === undefined ? undefined : this.items[index];
  }

  /** The first item, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds the item, or replaces (and re-sorts) the one with the same key. */
  addOrUpdate(item: T): void {
    const key = this.keyOf(item);
    const index = this.positions.get(key);
    if (index !== undefined) {
      this.items[index] = item;
      this.fix(index);
      return;
    }
    this.items.push(item);
    this.positions.set(key, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  /** Removes and returns the first item. */
  pop(): T | undefined {
    if (this.items.length === 0) return undefined;
    const first = this.items[0];
    this.removeAt(0);
    return first;
  }

  /** Removes the item with this key; returns it, or undefined when absent. */
  delete(key: string): T | undefined {
    const index = this.positions.get(key);
    if (index === undefined) return undefined;
    const item = this.items[index];
    this.removeAt(index);
    return item;
  }

  /** The items in heap (not sorted) order. */
  values(): readonly T[] {
    return this.items;
  }

  private removeAt(index: number): void {
    const last = this.items.length - 1;
    this.positions.delete(this.keyOf(this.items[index]));
    if (index !== last) {
      this.items[index] = this.items[last];
      this.positions.set(this.keyOf(this.items[index]), index);
    }
    this.items.pop();
    if (index < this.items.length) this.fix(index);
  }

  private fix(index: number): void {
    if (!this.up(index)) this.down(index);
  }

  private up(start: number): boolean {
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.less(this.items[index], this.items[parent])) break;
      this.swap(index, parent);
      index = parent;
    }
    return index !== start;
  }

  private down(start: number): void {
    let index = start;
    const n = this.items.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.less(this.items[right], this.items[left]) ? right : left;
      if (!this.less(this.items[child], this.items[index])) return;
      this.swap(index, child);
      index = child;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.items[i];
    const b = this.items[j];
    this.items[i] = b;
    this.items[j] = a;
    this.positions.set(this.keyOf(b), i);
    this.positions.set(this.keyOf(a), j);
  }
}
