/** A small typed event emitter: what flows back from a service to those wired to it at composition. */
export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, ((payload: never) => void)[]>();

  /** Calls `listener` for every `event` from now on. */
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener as (payload: never) => void]);
  }

  /** Calls every listener of `event`, in the order they were added. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (payload: Events[K]) => void)(payload);
  }
}
