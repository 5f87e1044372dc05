/**
 * The simulator's virtual clock: a binary min-heap of events ordered by time, then by
 * insertion order, so that simultaneous events run in a deterministic order.
 */

/** One scheduled event. */
export interface ScheduledEvent<T> {
  /** Virtual time (ms) at which it runs. */
  atMs: number;
  /** Insertion number; breaks ties between events at the same time. */
  order: number;
  /** What happens. */
  payload: T;
}

/** A priority queue of events on virtual time. */
export class EventQueue<T> {
  private readonly heap: ScheduledEvent<T>[] = [];
  private inserted = 0;

  /** Number of pending events. */
  get size(): number {
    return this.heap.length;
  }

  /** Schedules `payload` at `atMs`. */
  push(atMs: number, payload: T): void {
    const heap = this.heap;
    const event: ScheduledEvent<T> = { atMs, order: this.inserted, payload };
    this.inserted += 1;
    // Sift up by moving parents down into the hole, then place the event once.
    let index = heap.length;
    heap.push(event);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(event, heap[parent]!)) break;
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = event;
  }

  /** Removes and returns the earliest event, or undefined when empty. */
  pop(): ScheduledEvent<T> | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0]!;
    const last = heap.pop()!;
    const length = heap.length;
    if (length === 0) return top;
    // Sift down by moving the smaller child up into the hole, then place `last` once.
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
    return top;
  }
}

function before<T>(x: ScheduledEvent<T>, y: ScheduledEvent<T>): boolean {
  return x.atMs < y.atMs || (x.atMs === y.atMs && x.order < y.order);
}
