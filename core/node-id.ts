/**
 * The identity of a node (agent), in a module of its own so that every other core
 * module can import it without a cycle: protocol.ts re-exports it, and schemas that
 * protocol.ts itself includes (data-plane commands) import it from here.
 */
import { z } from 'zod';

/** Longest node id, in characters. */
export const nodeIdLengthMax = 64;
const nodeIdCharacters = /^[A-Za-z0-9._-]+$/;

/** A node (agent) identity: short, printable, safe in URLs and logs. */
export const NodeIdSchema = z
  .string()
  .min(1)
  .max(nodeIdLengthMax)
  .regex(nodeIdCharacters, 'only letters, digits, dot, underscore and dash');
export type NodeId = z.infer<typeof NodeIdSchema>;

/** The same test as `NodeIdSchema`, without zod, for paths that run for every datagram. */
export function isNodeId(value: unknown): value is NodeId {
  return typeof value === 'string' && value.length >= 1 && value.length <= nodeIdLengthMax && nodeIdCharacters.test(value);
}
