/**
 * Agent credentials: each agent has its own token, issued by an admin, stored only
 * as a SHA-256 verifier, revocable. A connection proves its token at the Socket.IO
 * handshake and is bound to one (cluster, agent); every report it sends must then
 * carry a signature made with that agent's key, a signing time inside the window,
 * and a nonce never seen before. Refusals are counted and written to the audit log
 * as evidence, aggregated so that a flood cannot flood the database too.
 *
 * Why SHA-256 and not scrypt: tokens are 32 random bytes, so a fast hash cannot be
 * brute-forced, and it lets the handshake look the credential up by its hash.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type AgentReport, reportSignatureWindowMs } from '../../core/protocol';
import type { PrismaClient } from '../../generated/prisma/client';
import type { CredentialView } from '../../core/http-views';
import { reportSignature } from '../../core/report-signature';
import { AppError } from '../app-error';
import { clientOf, inTransaction } from '../db/transaction-scope';
import { RefusalTally } from '../refusal-tally';
import type { Logger } from '../logger';
import { ReportNonces } from './report-nonces';

/** Prefix of issued tokens, so a leaked one is recognisable in logs and scanners. */
export const agentTokenPrefix = 'fla_';
/** How long a verified credential is trusted without asking the database again (ms); bounds revocation lag across instances. */
export const credentialCacheTtlMs = 30_000;
/** During a database outage, a credential verified this recently still opens a connection (ms). */
export const credentialOutageGraceMs = 15 * 60_000;
/** Most credentials remembered in the cache. */
export const credentialCacheMax = 10_000;

/** The report signature over node:crypto. */
const signature = reportSignature({ createHash, createHmac });

/** Who a connection speaks for. */
export interface AgentIdentity {
  clusterId: string;
  agentId: string;
  /** Credential id, or `shared` for the demo cluster's shared token. */
  credentialId: string;
  /** Key that signs this agent's reports. */
  signingKey: Uint8Array;
}

/** Why something from an agent was refused; also a metric label. */
export type RefusalReason =
  | 'bad-token'
  | 'revoked'
  | 'wrong-identity'
  | 'unsigned'
  | 'bad-signature'
  | 'expired'
  | 'replay'
  | 'replay-cache-full'
  /** A second connection for an agent whose connection is alive (refused by the realtime layer). */
  | 'duplicate-connection';

interface CachedCredential {
  id: string;
  clusterId: string;
  agentId: string;
  verifiedAtMs: number;
}

/** Options of the service. */
export interface AgentCredentialsOptions {
  /** The legacy shared token; accepted only for the clusters listed in `sharedTokenClusters`. */
  sharedToken: string | null;
  /** Clusters (the demo cluster) whose agents may still use the shared token. */
  sharedTokenClusters: string[];
  /** The only agent ids the shared token may speak for (the demo's node-1..node-N): anyone holding it must not invent agents. */
  sharedTokenAgents: string[];
  nowMs: () => number;
  logger: Logger;
  /** Called for every refusal (metrics). */
  onRefused?: (reason: RefusalReason, clusterId: string, agentId: string) => void;
}

export class AgentCredentials {
  private readonly cache = new Map<string, CachedCredential>();
  private readonly nonces = new ReportNonces();
  private readonly revokedListeners: ((credentialId: string) => void)[] = [];
  /** Refusal evidence, aggregated before it reaches the audit log; shared with the Socket.IO guards. */
  readonly refusals: RefusalTally;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: AgentCredentialsOptions,
  ) {
    this.refusals = new RefusalTally(prisma, options.logger, options.nowMs);
  }

  /** Issues a new credential and its audit entry in one transaction; the token is returned once and never stored. */
  async issue(input: { clusterId: string; agentId: string; createdBy: string; origin?: string }): Promise<{ credential: CredentialView; token: string }> {
    const token = `${agentTokenPrefix}${randomBytes(32).toString('base64url')}`;
    const row = await recorded(() => inTransaction(this.prisma, async () => {
      const db = clientOf(this.prisma);
      const created = await db.agentCredential.create({
        data: { clusterId: input.clusterId, agentId: input.agentId, secretHash: signature.tokenVerifier(token), createdBy: input.createdBy },
      });
      await db.auditEntry.create({
        data: { actor: input.createdBy, action: 'agent-credential.issue', target: created.id, origin: input.origin ?? null, data: { clusterId: input.clusterId, agentId: input.agentId } },
      });
      return created;
    }));
    return { credential: toView(row), token };
  }

  /** Revokes a credential with its audit entry in one transaction, then disconnects its live connections; false when unknown or already revoked. */
  async revoke(id: string, actor: string, origin?: string): Promise<boolean> {
    const count = await recorded(() => inTransaction(this.prisma, async () => {
      const db = clientOf(this.prisma);
      const result = await db.agentCredential.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date(this.options.nowMs()) } });
      if (result.count > 0) await db.auditEntry.create({ data: { actor, action: 'agent-credential.revoke', target: id, origin: origin ?? null } });
      return result.count;
    }));
    for (const [verifier, cached] of this.cache) if (cached.id === id) this.cache.delete(verifier);
    if (count === 0) return false;
    for (const listener of this.revokedListeners) listener(id);
    return true;
  }

  /** Revokes every live credential of one agent (used before re-issuing demo credentials). */
  async revokeAgent(clusterId: string, agentId: string, actor: string): Promise<number> {
    const live = await this.prisma.agentCredential.findMany({ where: { clusterId, agentId, revokedAt: null }, select: { id: true } });
    let revoked = 0;
    for (const { id } of live) if (await this.revoke(id, actor)) revoked += 1;
    return revoked;
  }

  /** Credentials, newest first. */
  async list(clusterId: string | undefined, limit: number): Promise<CredentialView[]> {
    const rows = await this.prisma.agentCredential.findMany({ where: clusterId ? { clusterId } : {}, orderBy: { createdAt: 'desc' }, take: limit });
    return rows.map(toView);
  }

  /** Calls `listener` with the id of every credential revoked in this process. */
  onRevoked(listener: (credentialId: string) => void): void {
    this.revokedListeners.push(listener);
  }

  /**
   * Checks a handshake. Throws `unauthorized` for an unknown or revoked token,
   * `forbidden` when the token belongs to another agent, `unavailable` when the
   * database cannot be asked and the credential was not verified recently.
   */
  async authenticate(claim: { token: string; clusterId: string; agentId: string }): Promise<AgentIdentity> {
    const verifier = signature.tokenVerifier(claim.token);
    if (this.isSharedToken(claim.token)) {
      if (!this.options.sharedTokenClusters.includes(claim.clusterId)) {
        throw this.refuse('wrong-identity', claim, 'forbidden', `the shared token is accepted only for ${this.options.sharedTokenClusters.join(', ') || 'no cluster'}; issue this agent its own credential`);
      }
      if (!this.options.sharedTokenAgents.includes(claim.agentId)) {
        throw this.refuse('wrong-identity', claim, 'forbidden', `the shared token speaks only for the demo's agents (${describeAgents(this.options.sharedTokenAgents)}), not ${claim.agentId}`);
      }
      return { clusterId: claim.clusterId, agentId: claim.agentId, credentialId: 'shared', signingKey: signature.signingKey(verifier) };
    }
    const credential = await this.findCredential(verifier);
    if (!credential) throw this.refuse('bad-token', claim, 'unauthorized', 'unknown or revoked agent token');
    if (credential.clusterId !== claim.clusterId || credential.agentId !== claim.agentId) {
      throw this.refuse('wrong-identity', claim, 'forbidden', `this token belongs to another agent, not ${claim.clusterId}/${claim.agentId}`);
    }
    return { clusterId: credential.clusterId, agentId: credential.agentId, credentialId: credential.id, signingKey: signature.signingKey(verifier) };
  }

  /** True when `token` is a live (issued, not revoked) credential of exactly this agent; records no refusal. */
  async isLive(token: string, clusterId: string, agentId: string): Promise<boolean> {
    const credential = await this.findCredential(signature.tokenVerifier(token));
    return credential !== null && credential.clusterId === clusterId && credential.agentId === agentId;
  }

  private isSharedToken(token: string): boolean {
    const shared = this.options.sharedToken;
    if (!shared) return false;
    const given = Buffer.from(token);
    const expected = Buffer.from(shared);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async findCredential(verifier: string): Promise<CachedCredential | null> {
    const nowMs = this.options.nowMs();
    const cached = this.cache.get(verifier);
    if (cached && nowMs - cached.verifiedAtMs < credentialCacheTtlMs) return cached;
    let row;
    try {
      row = await this.prisma.agentCredential.findUnique({ where: { secretHash: verifier } });
    } catch {
      if (cached && nowMs - cached.verifiedAtMs < credentialOutageGraceMs) return cached;
      throw new AppError('unavailable', 'credentials cannot be checked now: database unavailable, retry later');
    }
    if (!row || row.revokedAt) {
      this.cache.delete(verifier);
      return null;
    }
    if (this.cache.size >= credentialCacheMax) this.cache.delete(this.cache.keys().next().value!);
    const fresh = { id: row.id, clusterId: row.clusterId, agentId: row.agentId, verifiedAtMs: nowMs };
    this.cache.set(verifier, fresh);
    return fresh;
  }

  /**
   * Checks one report from an authenticated connection: it names the connection's
   * agent, is signed with its key, was signed inside the window, and its nonce is
   * new. Throws `forbidden` or `unauthorized` (recorded as evidence) otherwise.
   */
  verifyReport(report: AgentReport, identity: AgentIdentity): void {
    const claim = { clusterId: identity.clusterId, agentId: identity.agentId };
    if (report.agentId !== identity.agentId || report.clusterId !== identity.clusterId) {
      throw this.refuse('wrong-identity', claim, 'forbidden', `this connection speaks for ${identity.clusterId}/${identity.agentId} only`);
    }
    const auth = report.auth;
    if (!auth) throw this.refuse('unsigned', claim, 'unauthorized', 'auth: required (signedAtMs, nonce, signature)');
    if (!signature.isValid(report, auth, identity.signingKey)) {
      throw this.refuse('bad-signature', claim, 'unauthorized', 'auth.signature: does not match the report and this agent\'s key');
    }
    const nowMs = this.options.nowMs();
    if (Math.abs(nowMs - auth.signedAtMs) > reportSignatureWindowMs) {
      throw this.refuse('expired', claim, 'unauthorized', `auth.signedAtMs: outside the ±${reportSignatureWindowMs / 1000} s window (check the agent's clock)`);
    }
    const admission = this.nonces.admit(`${identity.clusterId}/${identity.agentId}`, auth.nonce, auth.signedAtMs, nowMs);
    if (admission === 'replay') throw this.refuse('replay', claim, 'unauthorized', 'auth.nonce: already used; this transmission is a replay');
    if (admission === 'full') throw this.refuse('replay-cache-full', claim, 'rate_limited', 'too many reports in the replay window; retry later');
  }

  /** Remembers the nonce of a report another instance verified, so a replay of it to this instance is refused too. */
  rememberNonce(report: AgentReport): void {
    if (report.auth) this.nonces.admit(`${report.clusterId}/${report.agentId}`, report.auth.nonce, report.auth.signedAtMs, this.options.nowMs());
  }

  /** Remembers the nonces of recently stored reports (see `ReportNonces.loadRecent`); call before agents connect. */
  loadRecentNonces(): Promise<number> {
    return this.nonces.loadRecent(this.prisma, this.options.nowMs());
  }

  /** Records a refusal decided elsewhere (a duplicate connection) as evidence, like the ones decided here; returns the error to answer. */
  recordRefusal(reason: RefusalReason, claim: { clusterId: string; agentId: string }, code: 'unauthorized' | 'forbidden' | 'rate_limited' | 'conflict', message: string): AppError {
    return this.refuse(reason, claim, code, message);
  }

  private refuse(reason: RefusalReason, claim: { clusterId: string; agentId: string }, code: 'unauthorized' | 'forbidden' | 'rate_limited' | 'conflict', message: string): AppError {
    this.options.onRefused?.(reason, claim.clusterId, claim.agentId);
    const who = `${claim.clusterId}/${claim.agentId}`;
    this.refusals.note({ actor: `agent:${who}`, action: 'agent.refused', target: who, origin: null, reason });
    return new AppError(code, message);
  }

  /** Writes aggregated refusals to the audit log now (the tally also does so every few seconds). */
  flushRefusals(): Promise<void> {
    return this.refusals.flush();
  }

  /** Stops the flush timer and writes what is pending. */
  async close(): Promise<void> {
    await this.refusals.close();
  }
}

/** Runs a change that is written with its audit entry; a database failure means neither was written, and says so. */
async function recorded<T>(change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('unavailable', 'the change and its audit entry could not be written, so neither was; retry later');
  }
}

/** `node-1 … node-5` for a long list, the ids themselves for a short one. */
function describeAgents(agentIds: string[]): string {
  if (agentIds.length === 0) return 'none';
  return agentIds.length <= 3 ? agentIds.join(', ') : `${agentIds[0]} … ${agentIds.at(-1)}`;
}

function toView(row: { id: string; clusterId: string; agentId: string; createdBy: string; createdAt: Date; revokedAt: Date | null }): CredentialView {
  return {
    id: row.id,
    clusterId: row.clusterId,
    agentId: row.agentId,
    createdBy: row.createdBy,
    createdAtMs: row.createdAt.getTime(),
    revokedAtMs: row.revokedAt ? row.revokedAt.getTime() : null,
  };
}
