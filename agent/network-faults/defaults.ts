/**
 * The fault layer's settings that the agent's configuration names, with their
 * defaults, in one place (config.ts parses them; fault-layer.ts uses them).
 */
export type { ClusterPort } from './nft-script';

/** Where injected faults act: the agent's own transport (default) or the node's kernel. */
export type NetworkFaultsMode = 'kernel' | 'transport';
/** Lease of rules whose `set-faults` carries no `ttlMs` (ms): an older server's rules still end. */
export const faultTtlMsDefault = 5 * 60_000;
/** How long the control server may be unreachable before the agent heals every fault (ms). */
export const serverLossHealMsDefault = 30_000;
