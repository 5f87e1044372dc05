/**
 * Secrets the server needs but the operator did not configure: generated once and
 * kept in the data directory (mode 0600) so that they survive restarts.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

const SecretsSchema = z.object({ agentToken: z.string().min(16), clusterKey: z.string().min(16) });
export type Secrets = z.infer<typeof SecretsSchema>;

/** Returns configured secrets, filling gaps from (or into) `dataDir/secrets.json`. */
export async function loadSecrets(dataDir: string, configured: Partial<Secrets>): Promise<Secrets> {
  const file = path.join(dataDir, 'secrets.json');
  let stored: Secrets | null = null;
  try {
    stored = SecretsSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    stored = null;
  }
  if (!stored) {
    stored = { agentToken: randomBytes(24).toString('base64url'), clusterKey: randomBytes(32).toString('base64url') };
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  return { agentToken: configured.agentToken ?? stored.agentToken, clusterKey: configured.clusterKey ?? stored.clusterKey };
}
