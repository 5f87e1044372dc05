/**
 * The experiment's client: a real client of the nodes' store APIs (GET/PUT
 * /kv/:key, agent/store/store-http.ts), so availability and lost writes are
 * measured as a user of the store sees them. Each tick writes a fresh key to the
 * next node (round robin) and reads, from another node, the latest key
 * acknowledged elsewhere; every outcome is logged. After recovery it reads every
 * acknowledged key from every node, for the consistency check.
 */
import type { ClientOperation, FinalRead } from '../../core/experiments/observation';
import type { NodeId } from '../../core/protocol';
import type { ClusterSnapshot } from '../../core/realtime-contract';

/** Longest wait for one store request (ms). */
export const clientRequestTimeoutMs = 1_500;
/** Most operations one run logs; the client stops writing past it. */
export const clientOperationsMax = 20_000;
/** Most acknowledged keys read back after recovery. */
export const finalReadKeysMax = 2_000;

type StoreAnswer = { status: number; body: { ok?: boolean; data?: { value?: string; hlc?: string }; code?: string; message?: string } | null };

async function request(url: string, init: RequestInit = {}): Promise<StoreAnswer | 'timeout'> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(clientRequestTimeoutMs) });
    return { status: response.status, body: (await response.json().catch(() => null)) as StoreAnswer['body'] };
  } catch {
    return 'timeout';
  }
}

export class ExperimentClient {
  readonly operations: ClientOperation[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sequence = 0;
  private inFlight = false;

  constructor(
    private readonly runId: string,
    private readonly storeUrls: ReadonlyMap<NodeId, string>,
    private readonly opsPerSecond: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Whether there is any store to talk to. */
  get usable(): boolean {
    return this.storeUrls.size > 0 && this.opsPerSecond > 0;
  }

  start(): void {
    if (!this.usable || this.timer) return;
    this.timer = setInterval(() => void this.tick(), Math.max(20, Math.round(1000 / this.opsPerSecond)));
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Served and refused operations so far. */
  tally(): { served: number; refused: number } {
    const served = this.operations.filter((op) => op.ok).length;
    return { served, refused: this.operations.length - served };
  }

  private async tick(): Promise<void> {
    if (this.inFlight || this.operations.length >= clientOperationsMax) return;
    this.inFlight = true;
    try {
      const nodes = [...this.storeUrls.keys()].sort();
      this.sequence += 1;
      const writer = nodes[this.sequence % nodes.length]!;
      await this.write(writer, `exp-${this.runId.slice(0, 8)}-${this.sequence}`, `${writer}#${this.sequence}`);
      const reader = nodes[(this.sequence + Math.ceil(nodes.length / 2)) % nodes.length]!;
      const target = [...this.operations].reverse().find((op) => op.kind === 'write' && op.ok && op.nodeId !== reader);
      if (target) await this.read(reader, target.key);
    } finally {
      this.inFlight = false;
    }
  }

  private async write(nodeId: NodeId, key: string, value: string): Promise<void> {
    const atMs = this.nowMs();
    const answer = await request(`${this.storeUrls.get(nodeId)}/kv/${encodeURIComponent(key)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value }),
    });
    if (answer === 'timeout') {
      this.operations.push({ atMs, nodeId, kind: 'write', key, value, ok: false, hlc: null, refusal: 'timeout' });
      return;
    }
    const ok = answer.status === 200 && answer.body?.ok === true;
    this.operations.push({ atMs, nodeId, kind: 'write', key, value, ok, hlc: ok ? (answer.body?.data?.hlc ?? null) : null, ...(ok ? {} : { refusal: answer.body?.message ?? `HTTP ${answer.status}` }) });
  }

  private async read(nodeId: NodeId, key: string): Promise<void> {
    const atMs = this.nowMs();
    const answer = await this.get(nodeId, key);
    this.operations.push({ atMs, nodeId, kind: 'read', key, ok: answer.ok, value: answer.value, hlc: answer.hlc, ...(answer.ok ? {} : { refusal: answer.refusal }) });
  }

  private async get(nodeId: NodeId, key: string): Promise<{ ok: boolean; value: string | null; hlc: string | null; refusal: string }> {
    const answer = await request(`${this.storeUrls.get(nodeId)}/kv/${encodeURIComponent(key)}`);
    if (answer === 'timeout') return { ok: false, value: null, hlc: null, refusal: 'timeout' };
    if (answer.status === 404) return { ok: true, value: null, hlc: null, refusal: '' };
    if (answer.status !== 200) return { ok: false, value: null, hlc: null, refusal: answer.body?.message ?? `HTTP ${answer.status}` };
    return { ok: true, value: answer.body?.data?.value ?? null, hlc: answer.body?.data?.hlc ?? null, refusal: '' };
  }

  /** Every acknowledged key as each node holds it now (nodes in parallel, keys in turn). */
  async readBack(): Promise<FinalRead[]> {
    const keys = [...new Set(this.operations.filter((op) => op.kind === 'write' && op.ok).map((op) => op.key))].slice(0, finalReadKeysMax);
    const perNode = await Promise.all(
      [...this.storeUrls.keys()].map(async (nodeId) => {
        const reads: FinalRead[] = [];
        for (const key of keys) {
          const answer = await this.get(nodeId, key);
          if (answer.ok) reads.push({ nodeId, key, value: answer.value, hlc: answer.hlc });
        }
        return reads;
      }),
    );
    return perNode.flat();
  }
}

/**
 * The store API of every node whose reference store serves one, from the endpoint
 * its reports name (`host:port`; a wildcard host is replaced by the node's own
 * address), so the client works on any cluster, not only the demo.
 */
export function storeUrlsOf(snapshot: ClusterSnapshot): Map<NodeId, string> {
  const urls = new Map<NodeId, string>();
  for (const node of snapshot.nodes) {
    const store = node.dataPlane?.store;
    if (store?.kind !== 'reference' || !/^[^\s/]+:\d+$/.test(store.endpoint)) continue;
    const separator = store.endpoint.lastIndexOf(':');
    let host = store.endpoint.slice(0, separator);
    if (host === '0.0.0.0' || host === '[::]' || host === '::') host = node.address ? node.address.slice(0, node.address.lastIndexOf(':')) : '127.0.0.1';
    urls.set(node.id, `http://${host}:${store.endpoint.slice(separator + 1)}`);
  }
  return urls;
}
