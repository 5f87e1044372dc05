/**
 * Randomness as a value passed in. Core code never calls Math.random(): the agent
 * passes a real source, the simulator a seeded one, so that runs replay exactly.
 */

/** Returns a number uniformly distributed in [0, 1), like Math.random(). */
export type RandomSource = () => number;

/** Picks an integer uniformly in [0, upperExclusive). */
export function randomIndex(random: RandomSource, upperExclusive: number): number {
  if (upperExclusive <= 0) throw new RangeError('upperExclusive must be positive');
  return Math.min(upperExclusive - 1, Math.floor(random() * upperExclusive));
}

/** Returns a shuffled copy of `items` (Fisher–Yates), leaving the input untouched. */
export function shuffled<T>(items: readonly T[], random: RandomSource): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = randomIndex(random, i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** Picks up to `count` distinct items uniformly (partial Fisher–Yates), in pick order. */
export function sampleWithoutReplacement<T>(items: readonly T[], count: number, random: RandomSource): T[] {
  const copy = [...items];
  const wanted = Math.max(0, Math.min(count, copy.length));
  for (let i = 0; i < wanted; i += 1) {
    const j = i + randomIndex(random, copy.length - i);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, wanted);
}
