/**
 * The simulator's virtual clock: a binary min-heap of events ordered by time, then by
 * insertion order, so that simultaneous events run in a deterministic order. The heap
 * is three parallel arrays (times, insertion numbers, payloads) rather than an array of
 * event objects: a large simulation schedules a few hundred thousand events a virtual
 * second, and a wrapper object per event was garbage for the collector.
 */

/** A priority queue of events on virtual time. */
export class EventQueue<T> {
  private readonly times: number[] = [];
  private readonly orders: number[] = [];
  private readonly payloads: T[] = [];
  private inserted = 0;

  /** Number of pending events. */
  get size(): number {
    return this.times.length;
  }

  /** Virtual time (ms) of the earliest event, or +Infinity when empty. */
  peekAtMs(): number {
    return this.times.length === 0 ? Number.POSITIVE_INFINITY : this.times[0]!;
  }

  /** Schedules `payload` at `atMs`. */
  push(atMs: number, payload: T): void {
    const { times, orders, payloads } = this;
    const order = this.inserted;
    this.inserted += 1;
    // Sift up by moving parents down into the hole, then place the event once.
    let index = times.length;
    times.push(atMs);
    orders.push(order);
    payloads.push(payload);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentAtMs = times[parent]!;
      // Parents were inserted earlier, so on equal times the new event is never before its parent.
      if (!(atMs < parentAtMs)) break;
      times[index] = parentAtMs;
      orders[index] = orders[parent]!;
      payloads[index] = payloads[parent]!;
      index = parent;
    }
    times[index] = atMs;
    orders[index] = order;
    payloads[index] = payload;
  }

  /** Removes and returns the earliest event's payload (its time is `peekAtMs()` before the call), or undefined when empty. */
  pop(): T | undefined {
    const { times, orders, payloads } = this;
    if (times.length === 0) return undefined;
    const top = payloads[0]!;
    const lastAtMs = times.pop()!;
    const lastOrder = orders.pop()!;
    const last = payloads.pop()!;
    const length = times.length;
    if (length === 0) return top;
    // Sift down by moving the smaller child up into the hole, then place `last` once.
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length) {
        const rightAtMs = times[right]!;
        const leftAtMs = times[left]!;
        if (rightAtMs < leftAtMs || (rightAtMs === leftAtMs && orders[right]! < orders[left]!)) child = right;
      }
      const childAtMs = times[child]!;
      if (!(childAtMs < lastAtMs || (childAtMs === lastAtMs && orders[child]! < lastOrder))) break;
      times[index] = childAtMs;
      orders[index] = orders[child]!;
      payloads[index] = payloads[child]!;
      index = child;
    }
    times[index] = lastAtMs;
    orders[index] = lastOrder;
    payloads[index] = last;
    return top;
  }
}
