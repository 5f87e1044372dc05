/**
 * Counts bad datagrams between two reports, the way the wire contract wants them
 * (see EvidenceSchema): a contradiction per node it accuses, every other kind per
 * origin (source address, the link of the peer whose address that is, the node the
 * datagrams named). Anyone can send datagrams from many addresses, so untrusted
 * origins have their own bound and cannot crowd out a contradiction; past the bound
 * they are summed under the source `*`. No I/O, no clock: the time comes in.
 */
import { type Evidence, type EvidenceKind, type NodeId, type UntrustedEvidenceKind, isAccusingEvidenceKind, reportEvidenceMax } from './protocol';

/** Most contradiction entries per report (one per accused node). */
export const accusingEntriesMax = 128;
/** Most untrusted entries with their own origin per report; later origins are summed under `untrustedOverflowSource`. */
export const untrustedEntriesMax = 64;
/** The source untrusted datagrams past `untrustedEntriesMax` origins are summed under. */
export const untrustedOverflowSource = '*';
/** Largest count one entry carries (the wire schema's maximum). */
const countMax = 1e9;

const untrustedKindCount = 4;
// Every entry the ledger can hold fits in one report.
if (accusingEntriesMax + untrustedEntriesMax + untrustedKindCount > reportEvidenceMax) throw new RangeError('evidence bounds exceed reportEvidenceMax');

/** One bad datagram (or several, with `count`) as the receiver saw it. */
export interface EvidenceSighting {
  kind: EvidenceKind;
  /** The configured node the datagram named as its sender, if it named one. Accused only for a contradiction. */
  namedId?: NodeId;
  /** "host:port" it came from. */
  source?: string;
  /** The configured peer whose endpoint `source` is. */
  linkPeerId?: NodeId;
}

/** Bad-datagram counts since the last drain. */
export class EvidenceLedger {
  private readonly accusing = new Map<string, Evidence>();
  private readonly untrusted = new Map<string, Evidence>();
  /** Per kind: datagrams from origins past `untrustedEntriesMax`. */
  private readonly overflow = new Map<string, Evidence>();

  /** Counts `count` datagrams of `sighting` at `atMs`. A contradiction that names no node is not counted (it cannot be one). */
  record(sighting: EvidenceSighting, atMs: number, count = 1): void {
    if (isAccusingEvidenceKind(sighting.kind)) {
      if (sighting.namedId === undefined) return;
      const item: Evidence = { peerId: sighting.namedId, kind: sighting.kind, count, lastAtMs: atMs };
      return add(this.accusing, `${sighting.kind}|${sighting.namedId}`, item, accusingEntriesMax);
    }
    const kind: UntrustedEvidenceKind = sighting.kind;
    const item: Evidence = {
      kind,
      count,
      lastAtMs: atMs,
      ...(sighting.namedId !== undefined && { peerId: sighting.namedId }),
      ...(sighting.source !== undefined && { source: sighting.source }),
      ...(sighting.linkPeerId !== undefined && { linkPeerId: sighting.linkPeerId }),
    };
    const key = `${kind}|${sighting.source ?? ''}|${sighting.linkPeerId ?? ''}|${sighting.namedId ?? ''}`;
    if (this.untrusted.has(key) || this.untrusted.size < untrustedEntriesMax) return add(this.untrusted, key, item, untrustedEntriesMax);
    add(this.overflow, kind, { kind, count, lastAtMs: atMs, source: untrustedOverflowSource }, untrustedKindCount);
  }

  /** Counts an item already in wire form (merging another ledger's drain). */
  recordEvidence(item: Evidence): void {
    this.record({ kind: item.kind, namedId: item.peerId, source: item.source, linkPeerId: item.linkPeerId }, item.lastAtMs, item.count);
  }

  /** Everything counted since the last drain, contradictions first, then forgotten. */
  drain(): Evidence[] {
    const items = [...this.accusing.values(), ...this.untrusted.values(), ...this.overflow.values()];
    this.accusing.clear();
    this.untrusted.clear();
    this.overflow.clear();
    return items;
  }
}

function add(entries: Map<string, Evidence>, key: string, item: Evidence, entriesMax: number): void {
  const current = entries.get(key);
  if (current) {
    entries.set(key, { ...current, count: Math.min(countMax, current.count + item.count), lastAtMs: Math.max(current.lastAtMs, item.lastAtMs) });
    return;
  }
  if (entries.size < entriesMax) entries.set(key, { ...item, count: Math.min(countMax, item.count) });
}

/** Merges evidence lists (membership's and replication's) under one ledger's bounds. */
export function mergeEvidence(...lists: readonly (readonly Evidence[])[]): Evidence[] {
  const ledger = new EvidenceLedger();
  for (const item of lists.flat()) ledger.recordEvidence(item);
  return ledger.drain();
}
