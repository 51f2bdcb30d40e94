/** A FIFO the gateway core fills and the driver drains with pollEvent() (no object per shift, reset when empty). */
export class EventQueue<T> {
  private readonly items: T[] = [];
  private head = 0;

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, or undefined when drained. */
  poll(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const e = this.items[this.head++];
    if (this.head === this.items.length) this.items.length = this.head = 0;
    return e;
  }
}
