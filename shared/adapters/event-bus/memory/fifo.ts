/**
 * A first-in first-out queue with O(1) push and shift. `Array.prototype.shift` moves every element: a backlog of
 * 100,000 messages cost the bus's pump more than all the handlers' decoding together. Taken items are dropped
 * from the backing array in one slice once they are half of it, so memory stays bounded by the live items.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
