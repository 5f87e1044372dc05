/**
 * Users, browser sessions and bearer API tokens. Sessions: the cookie carries a
 * random id, the database keeps only its SHA-256 and a CSRF token the browser
 * must echo on state-changing requests. API tokens: shown once at creation, stored
 * as SHA-256 (they are 32 random bytes, so a slow hash adds nothing). Passwords:
 * scrypt. Every outcome that matters is written to the audit log by the caller.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ApiTokenView, CreatedApiToken, UserView } from '../../core/http-views';
import type { PrismaClient } from '../../generated/prisma/client';
import { AppError } from '../app-error';
import { afterCommit, clientOf } from '../db/transaction-scope';
import { dummyPasswordHash, generatePassword, hashPassword, verifyPassword } from './passwords';
import { type Role, isRole } from '../../core/permissions';
import { type SessionPolicy, judgeSession, sessionPolicyDefault } from './session-policy';
import { SignInThrottle } from './sign-in-throttle';
/** How often a token's lastUsedAt is written at most (ms); avoids a write per request. */
const tokenTouchIntervalMs = 60_000;
/** Prefix of bearer tokens, so a leaked one is recognisable in logs and scanners. */
export const apiTokenPrefix = 'flt_';
/** Name of the first admin account. */
export const firstAdminName = 'admin';

/** Who is making a request. */
export interface Principal {
  /** `session` for a signed-in browser, `token` for a bearer API token. */
  kind: 'session' | 'token';
  /** User name, or the token's name. */
  name: string;
  role: Role;
  /** The user's id (sessions) or the token's id (tokens). */
  id: string;
  /** SHA-256 of the session id (sessions only): names the session's Socket.IO room. */
  sessionIdHash?: string;
  /** The session's CSRF token (sessions only). */
  csrfToken?: string;
  /** When the session or token stops being valid (ms since epoch), if ever. */
  expiresAtMs: number | null;
}

/**
 * A change that takes access away from (or changes it for) principals already
 * signed in, so that live connections (dashboard sockets) can follow at once
 * instead of keeping what their handshake granted.
 */
export type AccessChange =
  /** A user was disabled, re-enabled or given another role (their sessions were ended). */
  | { type: 'user-changed'; userId: string }
  /** An API token was revoked. */
  | { type: 'token-revoked'; tokenId: string }
  /** A session ended (sign-out). */
  | { type: 'session-ended'; sessionIdHash: string };

/** Most principals re-checked with one query by `refreshPrincipals`. */
export const principalRefreshBatchMax = 500;

/** Key of a principal in `refreshPrincipals`' answer: its session (by hash) or its token. */
export function principalKey(principal: Principal): string {
  return principal.kind === 'session' ? `session:${principal.sessionIdHash ?? ''}` : `token:${principal.id}`;
}

/** SHA-256 in hex, for session ids and token secrets. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function roleOf(value: string): Role {
  if (!isRole(value)) throw new AppError('internal', 'stored role is not a known role');
  return value;
}

/** A stored user as admins see it (never the password hash). */
function toUserView(row: { id: string; name: string; role: string; createdAt: Date; disabledAt: Date | null }): UserView {
  return { id: row.id, name: row.name, role: roleOf(row.role), createdAtMs: row.createdAt.getTime(), disabledAtMs: row.disabledAt?.getTime() ?? null };
}

export class AuthService {
  private readonly tokenTouchedAtMs = new Map<string, number>();
  private readonly accessListeners: ((change: AccessChange) => void)[] = [];
  private readonly throttle: SignInThrottle;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly nowMs: () => number = Date.now,
    /** Session lifetime, idle timeout and how often activity is written. */
    readonly sessionPolicy: SessionPolicy = sessionPolicyDefault,
  ) {
    this.throttle = new SignInThrottle(prisma, nowMs);
  }

  /** The ambient transaction of an audited action, else the pool: the action's writes commit with its audit entry. */
  private get db() {
    return clientOf(this.prisma);
  }

  /**
   * Creates the first admin when no admin exists. Returns the password only when
   * it was generated here, so the caller prints it once; never stored in clear.
   */
  async ensureFirstAdmin(configuredPassword: string | undefined): Promise<{ created: boolean; generatedPassword: string | null }> {
    const admins = await this.db.user.count({ where: { role: 'admin' } });
    if (admins > 0) return { created: false, generatedPassword: null };
    const password = configuredPassword ?? generatePassword();
    await this.db.user.upsert({
      where: { name: firstAdminName },
      create: { name: firstAdminName, role: 'admin', passwordHash: await hashPassword(password) },
      update: { role: 'admin', passwordHash: await hashPassword(password), disabledAt: null },
    });
    return { created: true, generatedPassword: configuredPassword ? null : password };
  }

  /**
   * Checks a password and opens a session; throws `unauthorized` (same message for
   * any reason), or `rate_limited` while this name from this source (or this source
   * for any name) must wait after failures.
   */
  async signIn(name: string, password: string, origin: string | null, source: string) {
    return this.throttle.attempt(name, source, async () => {
      const user = await this.db.user.findUnique({ where: { name } });
      const matches = await verifyPassword(password, user?.passwordHash ?? dummyPasswordHash);
      if (!user || !matches || user.disabledAt) throw new AppError('unauthorized', 'wrong name or password');
      const sessionId = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(32).toString('base64url');
      const expiresAt = new Date(this.nowMs() + this.sessionPolicy.lifetimeMs);
      await this.db.session.create({ data: { idHash: sha256(sessionId), userId: user.id, csrfToken, expiresAt, origin } });
      return { sessionId, csrfToken, expiresAtMs: expiresAt.getTime(), user: { name: user.name, role: roleOf(user.role) } };
    });
  }

  /**
   * The principal of a session cookie value, or null when unknown, expired, idle past
   * the idle timeout or the user is disabled. A use counts as activity: written when
   * the last write is older than the touch interval.
   */
  async findSessionPrincipal(sessionId: string): Promise<Principal | null> {
    if (sessionId.length === 0 || sessionId.length > 100) return null;
    const idHash = sha256(sessionId);
    const session = await this.db.session.findUnique({ where: { idHash }, include: { user: true } });
    if (!session || session.user.disabledAt) return null;
    const nowMs = this.nowMs();
    const judgement = judgeSession({ expiresAtMs: session.expiresAt.getTime(), lastSeenAtMs: session.lastSeenAt.getTime() }, this.sessionPolicy, nowMs);
    if (judgement === 'expired' || judgement === 'idle') return null;
    if (judgement === 'touch') await this.db.session.updateMany({ where: { idHash }, data: { lastSeenAt: new Date(nowMs) } });
    return {
      kind: 'session',
      name: session.user.name,
      role: roleOf(session.user.role),
      id: session.user.id,
      sessionIdHash: idHash,
      csrfToken: session.csrfToken,
      expiresAtMs: session.expiresAt.getTime(),
    };
  }

  /** Ends a session (sign-out). */
  async signOut(sessionIdHash: string): Promise<void> {
    await this.db.session.deleteMany({ where: { idHash: sessionIdHash } });
    this.accessChanged({ type: 'session-ended', sessionIdHash });
  }

  /** Calls `listener` after every change that ends or alters the access of signed-in principals (this process's changes only). */
  onAccessChanged(listener: (change: AccessChange) => void): void {
    this.accessListeners.push(listener);
  }

  /** Tells listeners once the change has committed: a re-check made before the commit would still see the old access. */
  private accessChanged(change: AccessChange): void {
    afterCommit(() => {
      for (const listener of this.accessListeners) listener(change);
    });
  }

  /**
   * Asks the database again for each principal (at most `principalRefreshBatchMax`):
   * the answer maps `principalKey` to the principal as it is now (its role may have
   * changed) or null when its session or token is gone, expired, revoked or its
   * user disabled. Catches changes made by other server instances.
   */
  async refreshPrincipals(principals: readonly Principal[]): Promise<Map<string, Principal | null>> {
    if (principals.length > principalRefreshBatchMax) throw new AppError('invalid_input', `at most ${principalRefreshBatchMax} principals per refresh`);
    const nowMs = this.nowMs();
    const sessionHashes = principals.flatMap((principal) => (principal.kind === 'session' && principal.sessionIdHash ? [principal.sessionIdHash] : []));
    const tokenIds = principals.flatMap((principal) => (principal.kind === 'token' ? [principal.id] : []));
    const [sessions, tokens] = await Promise.all([
      sessionHashes.length > 0 ? this.prisma.session.findMany({ where: { idHash: { in: sessionHashes } }, include: { user: true } }) : [],
      tokenIds.length > 0 ? this.prisma.apiToken.findMany({ where: { id: { in: tokenIds } } }) : [],
    ]);
    const fresh = new Map<string, Principal | null>(principals.map((principal) => [principalKey(principal), null]));
    for (const session of sessions) {
      const judgement = judgeSession({ expiresAtMs: session.expiresAt.getTime(), lastSeenAtMs: session.lastSeenAt.getTime() }, this.sessionPolicy, nowMs);
      if (judgement === 'expired' || judgement === 'idle' || session.user.disabledAt) continue;
      const principal: Principal = {
        kind: 'session',
        name: session.user.name,
        role: roleOf(session.user.role),
        id: session.user.id,
        sessionIdHash: session.idHash,
        csrfToken: session.csrfToken,
        expiresAtMs: session.expiresAt.getTime(),
      };
      fresh.set(principalKey(principal), principal);
    }
    for (const row of tokens) {
      if (!row.revokedAt) fresh.set(`token:${row.id}`, { kind: 'token', name: `token:${row.name}`, role: roleOf(row.role), id: row.id, expiresAtMs: null });
    }
    return fresh;
  }

  /** The principal of a bearer token, or null when unknown or revoked. */
  async findTokenPrincipal(token: string): Promise<Principal | null> {
    if (!token.startsWith(apiTokenPrefix) || token.length > 200) return null;
    const row = await this.db.apiToken.findUnique({ where: { secretHash: sha256(token) } });
    if (!row || row.revokedAt) return null;
    const nowMs = this.nowMs();
    if (nowMs - (this.tokenTouchedAtMs.get(row.id) ?? 0) > tokenTouchIntervalMs) {
      this.tokenTouchedAtMs.set(row.id, nowMs);
      await this.db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date(nowMs) } });
    }
    return { kind: 'token', name: `token:${row.name}`, role: roleOf(row.role), id: row.id, expiresAtMs: null };
  }

  /** Every user, by name. */
  async listUsers(): Promise<UserView[]> {
    const rows = await this.db.user.findMany({ orderBy: { name: 'asc' }, take: 1000 });
    return rows.map(toUserView);
  }

  /** Creates a user; throws `conflict` when the name is taken. */
  async createUser(input: { name: string; role: Role; password: string }): Promise<UserView> {
    const existing = await this.db.user.findUnique({ where: { name: input.name } });
    if (existing) throw new AppError('conflict', `name: a user named ${input.name} exists`);
    const row = await this.db.user.create({
      data: { name: input.name, role: input.role, passwordHash: await hashPassword(input.password) },
    });
    return toUserView(row);
  }

  /** Changes a user's role or disables/enables them; disabling ends their sessions. Keeps at least one active admin. */
  async updateUser(id: string, change: { role?: Role; disabled?: boolean }): Promise<UserView> {
    const user = await this.db.user.findUnique({ where: { id } });
    if (!user) throw new AppError('not_found', `no user with id ${id}`);
    const losesAdmin = user.role === 'admin' && !user.disabledAt && ((change.role && change.role !== 'admin') || change.disabled);
    if (losesAdmin) {
      const activeAdmins = await this.db.user.count({ where: { role: 'admin', disabledAt: null } });
      if (activeAdmins <= 1) throw new AppError('conflict', 'the last active admin cannot be demoted or disabled');
    }
    const row = await this.db.user.update({
      where: { id },
      data: {
        ...(change.role ? { role: change.role } : {}),
        ...(change.disabled === undefined ? {} : { disabledAt: change.disabled ? new Date(this.nowMs()) : null }),
      },
    });
    if (change.disabled || change.role) await this.db.session.deleteMany({ where: { userId: id } });
    this.accessChanged({ type: 'user-changed', userId: id });
    return toUserView(row);
  }

  /** Every API token, newest first (never the secret). */
  async listApiTokens(): Promise<ApiTokenView[]> {
    const rows = await this.db.apiToken.findMany({ orderBy: { createdAt: 'desc' }, take: 1000 });
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      role: roleOf(row.role),
      createdBy: row.createdBy,
      createdAtMs: row.createdAt.getTime(),
      lastUsedAtMs: row.lastUsedAt?.getTime() ?? null,
      revokedAtMs: row.revokedAt?.getTime() ?? null,
    }));
  }

  /** Creates a bearer token; the returned `token` is shown once and never again. */
  async createApiToken(input: { name: string; role: Role; createdBy: string }): Promise<CreatedApiToken> {
    const token = `${apiTokenPrefix}${randomBytes(32).toString('base64url')}`;
    const id = randomUUID();
    await this.db.apiToken.create({ data: { id, name: input.name, role: input.role, createdBy: input.createdBy, secretHash: sha256(token) } });
    return { id, token };
  }

  /** Revokes a token; it stops working at once. */
  async revokeApiToken(id: string): Promise<void> {
    const result = await this.db.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date(this.nowMs()) } });
    if (result.count === 0) throw new AppError('not_found', `no active token with id ${id}`);
    this.accessChanged({ type: 'token-revoked', tokenId: id });
  }
}
