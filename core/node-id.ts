/**
 * The identity of a node (agent), in a module of its own so that every other core
 * module can import it without a cycle: protocol.ts re-exports it, and schemas that
 * protocol.ts itself includes (data-plane commands) import it from here.
 */
import { z } from 'zod';

/** A node (agent) identity: short, printable, safe in URLs and logs. */
export const NodeIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, 'only letters, digits, dot, underscore and dash');
export type NodeId = z.infer<typeof NodeIdSchema>;
