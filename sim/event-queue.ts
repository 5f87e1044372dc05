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
    heap.push({ atMs, order: this.inserted, payload });
    this.inserted += 1;
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  /** Removes and returns the earliest event, or undefined when empty. */
  pop(): ScheduledEvent<T> | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === index) break;
        [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
        index = smallest;
      }
    }
    return top;
  }
}

function before<T>(x: ScheduledEvent<T>, y: ScheduledEvent<T>): boolean {
  return x.atMs < y.atMs || (x.atMs === y.atMs && x.order < y.order);
}
