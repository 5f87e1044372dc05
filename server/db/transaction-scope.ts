/**
 * One database transaction per audited action, without threading a transaction
 * client through every service signature. `inTransaction` opens a Prisma
 * interactive transaction and makes it the ambient client of everything awaited
 * inside it (AsyncLocalStorage); services ask `clientOf(this.prisma)` for the
 * client to use, which is the ambient transaction when there is one.
 *
 * Side effects that must not happen unless the writes commit (pushing a change to
 * dashboards, starting a recovery, ending sockets) go through `afterCommit`;
 * writes that must survive a rollback (a failed sign-in counted against its
 * name) go through `afterSettle`. Outside a transaction both run at once, so a
 * service behaves the same when the lifecycle runner calls it directly.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Prisma, PrismaClient } from '../../generated/prisma/client';

/** Longest an audited action may wait for a connection to open its transaction (ms). */
export const transactionWaitMsMax = 10_000;
/** Longest an audited action's transaction may stay open (ms); a password check runs inside sign-in's. */
export const transactionMsMax = 15_000;

/** A client that runs queries: the pool, or an open transaction. */
export type DatabaseClient = PrismaClient | Prisma.TransactionClient;

interface Scope {
  client: Prisma.TransactionClient;
  /**
   * False once the transaction has ended. Timers and promises started inside it
   * inherit the scope (AsyncLocalStorage follows them), but must then use the pool.
   */
  open: boolean;
  afterCommit: (() => void)[];
  afterSettle: (() => Promise<void>)[];
}

const scopes = new AsyncLocalStorage<Scope>();

function openScope(): Scope | undefined {
  const scope = scopes.getStore();
  return scope?.open ? scope : undefined;
}

/** The ambient transaction when one is open, else `prisma` itself. */
export function clientOf(prisma: PrismaClient): DatabaseClient {
  return openScope()?.client ?? prisma;
}

/** Runs `effect` once the ambient transaction commits (never if it rolls back); at once outside one. */
export function afterCommit(effect: () => void): void {
  const scope = openScope();
  if (scope) scope.afterCommit.push(effect);
  else effect();
}

/**
 * Runs `write` after the ambient transaction ends, committed or not, on the pool
 * (it must not need the transaction's connection); at once outside one. The
 * transaction's caller waits for it before answering.
 */
export async function afterSettle(write: () => Promise<void>): Promise<void> {
  const scope = openScope();
  if (scope) scope.afterSettle.push(write);
  else await write();
}

/**
 * Runs `action` inside one transaction; nested calls join the outer one. Every
 * write of `action` and every `afterCommit` effect happen together or not at all.
 */
export async function inTransaction<T>(prisma: PrismaClient, action: () => Promise<T>): Promise<T> {
  if (openScope()) return action();
  let scope: Scope | undefined;
  try {
    const result = await prisma.$transaction(
      (client) => {
        scope = { client, open: true, afterCommit: [], afterSettle: [] };
        return scopes.run(scope, action);
      },
      { maxWait: transactionWaitMsMax, timeout: transactionMsMax },
    );
    scope!.open = false;
    for (const effect of scope!.afterCommit) effect();
    return result;
  } finally {
    if (scope) scope.open = false;
    for (const write of scope?.afterSettle ?? []) await write();
  }
}
