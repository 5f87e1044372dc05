/**
 * Sign-in, sign-out, the current session, and the admin's routes: users, API
 * tokens and the audit log.
 */
import { z } from 'zod';
import { safeText } from '../../core/safe-text';
import { passwordLengthMax, passwordLengthMin } from '../auth/passwords';
import { roles } from '../../core/permissions';
import { clearedSessionCookie, sessionCookie } from '../auth/request-auth';
import { auditPageMax } from '../audit';
import { afterCommit } from '../db/transaction-scope';
import { type Route, parse, principalOf, requestSchema, route } from './route';

const NameSchema = safeText().trim().min(1).max(64).regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ - only');
const SignInBody = requestSchema('auth.signIn', 'body')(z.strictObject({ name: NameSchema, password: safeText().min(1).max(passwordLengthMax) }));
const CreateUserBody = requestSchema('users.create', 'body')(
  z.strictObject({ name: NameSchema, role: z.enum(roles), password: safeText().min(passwordLengthMin).max(passwordLengthMax) }),
);
const UpdateUserBody = requestSchema('users.update', 'body')(z.strictObject({ role: z.enum(roles).optional(), disabled: z.boolean().optional() }));
const CreateTokenBody = requestSchema('tokens.create', 'body')(z.strictObject({ name: safeText().trim().min(1).max(64), role: z.enum(roles) }));
/** Largest audit entry id (the column is a PostgreSQL bigint). */
const auditIdMax = 2n ** 63n - 1n;
const AuditQuery = requestSchema('audit.list', 'query')(z.object({
  limit: z.coerce.number().int().min(1).max(auditPageMax).default(100),
  before: z
    .string()
    .regex(/^\d{1,19}$/, 'an audit entry id')
    .refine((value) => !/^\d{1,19}$/.test(value) || BigInt(value) <= auditIdMax, `at most ${auditIdMax}`)
    .optional(),
  actor: safeText().max(200).optional(),
  action: safeText().max(100).optional(),
}));
const Id = z.uuid();

export const authRoutes: Route[] = [
  route('auth.session', {
    access: 'public',
    handler: async ({ principal }) =>
      principal
        ? { user: { name: principal.name, role: principal.role, kind: principal.kind }, csrfToken: principal.csrfToken ?? null, expiresAtMs: principal.expiresAtMs }
        : null,
  }),
  route('auth.signIn', {
    access: 'public',
    audit: 'auth.sign-in',
    handler: async (request, context) => {
      const input = parse(SignInBody, request.body);
      const session = await context.auth.signIn(input.name, input.password, request.origin, request.source);
      request.setActor(session.user.name);
      request.setHeader('set-cookie', sessionCookie(session.sessionId, Math.floor(context.auth.sessionPolicy.lifetimeMs / 1000), request.secure));
      return { user: session.user, csrfToken: session.csrfToken, expiresAtMs: session.expiresAtMs };
    },
  }),
  route('auth.signOut', {
    access: 'read',
    audit: 'auth.sign-out',
    handler: async (request, context) => {
      const principal = principalOf(request);
      if (principal.sessionIdHash) {
        await context.auth.signOut(principal.sessionIdHash);
        const { sessionIdHash } = principal;
        afterCommit(() => context.endSession?.(sessionIdHash));
      }
      request.setHeader('set-cookie', clearedSessionCookie());
      return null;
    },
  }),
  route('users.list', { access: 'users:manage', handler: async (_request, context) => context.auth.listUsers() }),
  route('users.create', {
    access: 'users:manage',
    audit: 'user.create',
    handler: async ({ body }, context) => context.auth.createUser(parse(CreateUserBody, body)),
  }),
  route('users.update', {
    access: 'users:manage',
    audit: 'user.update',
    handler: async ({ body, params }, context) => context.auth.updateUser(parse(Id, params[0]), parse(UpdateUserBody, body)),
  }),
  route('tokens.list', { access: 'tokens:manage', handler: async (_request, context) => context.auth.listApiTokens() }),
  route('tokens.create', {
    access: 'tokens:manage',
    audit: 'token.create',
    handler: async (request, context) => context.auth.createApiToken({ ...parse(CreateTokenBody, request.body), createdBy: principalOf(request).name }),
  }),
  route('tokens.revoke', {
    access: 'tokens:manage',
    audit: 'token.revoke',
    handler: async ({ params }, context) => {
      await context.auth.revokeApiToken(parse(Id, params[0]));
      return null;
    },
  }),
  route('audit.list', {
    access: 'audit:read',
    handler: async ({ query }, context) => {
      const input = parse(AuditQuery, Object.fromEntries(query));
      return context.audit.list({ limit: input.limit, beforeId: input.before, actor: input.actor, action: input.action });
    },
  }),
];
