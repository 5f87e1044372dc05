/** Who may manage agent credentials, and the demo agents' own credentials. */
import type { TLSSocket } from 'node:tls';
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

/**
 * Gives each demo agent (node-1..node-N) its own credential, revoking the ones
 * issued at the previous start; the demo then runs on per-agent credentials like a
 * real deployment. Falls back to the shared token if the database refuses.
 */
export async function issueDemoCredentials(credentials: AgentCredentials, agentCount: number): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (let index = 1; index <= agentCount; index += 1) {
    const agentId = `node-${index}`;
    await credentials.revokeAgent(demoClusterId, agentId, 'system:demo');
    const { token } = await credentials.issue({ clusterId: demoClusterId, agentId, createdBy: 'system:demo' });
    tokens.set(agentId, token);
  }
  return tokens;
}
