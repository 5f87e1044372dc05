/** Who may manage agent credentials, and the demo agents' own credentials. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { z } from 'zod';
import type { AdminCheck } from './auth/admin-check';
import type { AgentCredentials } from './auth/agent-credentials';
import { authenticate, checkCsrf, checkOrigin } from './auth/request-auth';
import type { ConsoleServices } from './console-services';
import { demoClusterId } from './demo-cluster';

/**
 * Who may issue and revoke agent credentials: the configured admin token, or any
 * admin of the console (an admin bearer API token, or an admin session that passes
 * the origin and CSRF checks).
 */
export function consoleAdminCheck(tokenCheck: AdminCheck, services: ConsoleServices): AdminCheck {
  return async (request) => {
    const byToken = await tokenCheck(request);
    if (byToken) return byToken;
    try {
      const principal = await authenticate(request.headers, services.auth);
      if (!principal || principal.role !== 'admin') return null;
      if (principal.kind === 'session') {
        checkOrigin(request.headers, (request.socket as TLSSocket).encrypted === true, services.allowedOrigins);
        checkCsrf(request.headers, principal);
      }
      return { actor: principal.name };
    } catch {
      return null;
    }
  };
}

/** Where the demo agents' tokens are kept between starts (mode 0600, in the private data directory). */
export const demoCredentialsFile = 'demo-credentials.json';
const StoredDemoTokens = z.record(z.string(), z.string());

async function readStoredDemoTokens(file: string): Promise<Record<string, string>> {
  try {
    return StoredDemoTokens.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    return {};
  }
}

/**
 * Gives each demo agent (node-1..node-N) its own credential, so the demo runs on
 * per-agent credentials like a real deployment. The tokens are kept in the data
 * directory and reused at the next start while the database still holds them live:
 * a restart adds no credential and no audit entry. A token that is missing,
 * revoked, or unknown to this database (a new DATABASE_URL) is replaced: the
 * agent's old credentials are revoked and a new one issued.
 */
export async function issueDemoCredentials(credentials: AgentCredentials, agentCount: number, dataDir: string): Promise<Map<string, string>> {
  const file = path.join(dataDir, demoCredentialsFile);
  const stored = await readStoredDemoTokens(file);
  const tokens = new Map<string, string>();
  let changed = false;
  for (let index = 1; index <= agentCount; index += 1) {
    const agentId = `node-${index}`;
    const kept = stored[agentId];
    if (kept && (await credentials.isLive(kept, demoClusterId, agentId))) {
      tokens.set(agentId, kept);
      continue;
    }
    await credentials.revokeAgent(demoClusterId, agentId, 'system:demo');
    const { token } = await credentials.issue({ clusterId: demoClusterId, agentId, createdBy: 'system:demo' });
    tokens.set(agentId, token);
    changed = true;
  }
  if (changed) await writeFile(file, `${JSON.stringify({ ...stored, ...Object.fromEntries(tokens) }, null, 2)}\n`, { mode: 0o600 });
  return tokens;
}
