/**
 * Seeded pseudo-random numbers for the simulator (mulberry32, seeded through
 * splitmix32). Each concern gets its own stream, so adding a random draw in one
 * place does not shift every other draw, and a seed replays a run exactly.
 */
import type { RandomSource } from '../core/detectors/random-source';

/** Mixes a 32-bit value (splitmix32's finaliser), spreading nearby seeds apart. */
function mix32(value: number): number {
  let z = (value + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A mulberry32 generator for `seed` and stream number `stream`. */
export function createPrng(seed: number, stream = 0): RandomSource {
  let state = mix32(mix32(seed >>> 0) ^ mix32(stream + 1));
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
