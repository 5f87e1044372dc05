/**
 * Secrets the server needs but the operator did not configure: generated once and
 * kept in the data directory (mode 0600, the directory 0700) so that they survive
 * restarts and no other local user can read them.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

const SecretsSchema = z.object({
  agentToken: z.string().min(16),
  clusterKey: z.string().min(16),
  /** Password of the embedded database's listener; absent in files written before it existed. */
  embeddedDatabasePassword: z.string().min(16).optional(),
});
export type Secrets = Required<z.infer<typeof SecretsSchema>>;

/** Creates the data directory, or takes group and other access away from an existing one. */
export async function ensurePrivateDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await chmod(directory, 0o700);
}

/** Returns configured secrets, filling gaps from (or into) `dataDir/secrets.json`. */
export async function loadSecrets(dataDir: string, configured: Partial<Pick<Secrets, 'agentToken' | 'clusterKey'>>): Promise<Secrets> {
  const file = path.join(dataDir, 'secrets.json');
  await ensurePrivateDirectory(dataDir);
  let stored: z.infer<typeof SecretsSchema> | null = null;
  try {
    stored = SecretsSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    stored = null;
  }
  const complete: Secrets = {
    agentToken: stored?.agentToken ?? randomBytes(24).toString('base64url'),
    clusterKey: stored?.clusterKey ?? randomBytes(32).toString('base64url'),
    embeddedDatabasePassword: stored?.embeddedDatabasePassword ?? randomBytes(24).toString('base64url'),
  };
  if (!stored?.embeddedDatabasePassword) await writeFile(file, JSON.stringify(complete, null, 2), { mode: 0o600 });
  // A file written by an older version, or copied in, may carry looser bits.
  await chmod(file, 0o600);
  return { ...complete, agentToken: configured.agentToken ?? complete.agentToken, clusterKey: configured.clusterKey ?? complete.clusterKey };
}
