/**
 * The nonces of recently signed reports, for replay detection: a report whose
 * nonce was seen inside the signature window is a replay. Bounded: past
 * `replayNoncesMax` remembered nonces, new reports are refused until old ones
 * expire, rather than forgetting nonces that still matter.
 */
import { reportSignatureWindowMs } from '../../core/protocol';
import type { PrismaClient } from '../../generated/prisma/client';

/** Most nonces remembered for replay detection; beyond it reports are refused until old ones expire. */
export const replayNoncesMax = 500_000;

/** What became of one nonce: remembered now, seen before, or refused because the memory is full. */
export type NonceAdmission = 'new' | 'replay' | 'full';

export class ReportNonces {
  /** `cluster/agent/nonce` → when it may be forgotten (ms); inserted roughly in time order. */
  private readonly expiresAtMsByNonce = new Map<string, number>();

  /** Admits the nonce of a report from `cluster/agent` signed at `signedAtMs`, seen at `nowMs`. */
  admit(agentKey: string, nonce: string, signedAtMs: number, nowMs: number): NonceAdmission {
    this.forgetExpired(nowMs);
    const key = `${agentKey}/${nonce}`;
    if (this.expiresAtMsByNonce.has(key)) return 'replay';
    if (this.expiresAtMsByNonce.size >= replayNoncesMax) return 'full';
    this.expiresAtMsByNonce.set(key, signedAtMs + reportSignatureWindowMs);
    return 'new';
  }

  /**
   * Remembers the nonces of reports stored within the last two signature windows
   * (a report signed up to one window ahead of the server's clock stays valid for
   * one more), so that a report captured before a restart is still a replay after
   * it. The ingest ledger holds each stored report's nonce; call before agents connect.
   */
  async loadRecent(prisma: PrismaClient, nowMs: number): Promise<number> {
    const rows = await prisma.agentReport.findMany({
      where: { receivedAt: { gt: new Date(nowMs - 2 * reportSignatureWindowMs) }, nonce: { not: null } },
      select: { clusterId: true, agentId: true, nonce: true, receivedAt: true },
      orderBy: { receivedAt: 'asc' },
      take: replayNoncesMax,
    });
    for (const row of rows) this.expiresAtMsByNonce.set(`${row.clusterId}/${row.agentId}/${row.nonce}`, row.receivedAt.getTime() + 2 * reportSignatureWindowMs);
    return rows.length;
  }

  /** Expired nonces sit at the front (insertion is roughly in time order). */
  private forgetExpired(nowMs: number): void {
    for (const [nonce, expiresAtMs] of this.expiresAtMsByNonce) {
      if (expiresAtMs >= nowMs) break;
      this.expiresAtMsByNonce.delete(nonce);
    }
  }
}
