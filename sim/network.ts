/**
 * The simulated cluster network: what happens to one datagram from `from` to `to` at a
 * given virtual time, under the scenario's baseline conditions and its active faults.
 * Fault primitives match the agent's injection layer: drop per link and direction,
 * loss ratio, delay and jitter, duplication, corruption; plus node-level pause, crash
 * and control-plane cut, which the cluster simulation applies.
 */
import type { RandomSource } from '../core/detectors/random-source';
import { shuffled } from '../core/detectors/random-source';
import type { Fault, Scenario } from './scenario';

/** The fate of one datagram. */
export interface Delivery {
  /** Whether it arrives at all. */
  delivered: boolean;
  /** Transit time (ms) when delivered. */
  delayMs: number;
  /** Whether it arrives with flipped bits (the receiver's signature check fails). */
  corrupted: boolean;
  /** Transit time (ms) of a duplicate copy, or null when not duplicated. */
  duplicateDelayMs: number | null;
}

/** A compiled fault: a time window and a directed-link predicate. */
interface LinkRule {
  fault: Fault;
  atMs: number;
  untilMs: number;
  applies: (from: string, to: string) => boolean;
}

/** Every directed-link predicate of a scenario, compiled once. */
export class SimulatedNetwork {
  private readonly rules: LinkRule[];
  /** The answer `send` returns, written over by each call (a datagram's fate is read at once, and there are a few hundred thousand a second). */
  private readonly fate: Delivery = { delivered: false, delayMs: 0, corrupted: false, duplicateDelayMs: null };

  constructor(
    private readonly scenario: Scenario,
    nodes: readonly string[],
    scenarioRandom: RandomSource,
  ) {
    this.rules = scenario.faults.flatMap((fault) => compile(fault, nodes, scenarioRandom, scenario.durationMs));
  }

  /** Decides what happens to a datagram sent now from `from` to `to`; the object returned is reused by the next call. */
  send(from: string, to: string, nowMs: number, random: RandomSource): Delivery {
    const base = this.scenario.network;
    let lossKept = 1 - base.lossRatio;
    let delayMs = base.delayMs;
    let jitterMs = base.jitterMs;
    let duplicateRatio = base.duplicateRatio;
    let corruptKept = 1;
    let dropped = false;
    for (const rule of this.rules) {
      if (nowMs < rule.atMs || nowMs >= rule.untilMs || !rule.applies(from, to)) continue;
      const fault = rule.fault;
      if (fault.kind === 'loss') lossKept *= 1 - fault.ratio;
      else if (fault.kind === 'delay') {
        // A delay with an onset grows linearly to its full value (a queue filling up), a step otherwise.
        const grown = fault.onsetMs > 0 ? Math.min(1, (nowMs - rule.atMs) / fault.onsetMs) : 1;
        delayMs += fault.delayMs * grown;
        jitterMs += fault.jitterMs * grown;
      } else if (fault.kind === 'duplicate') duplicateRatio = 1 - (1 - duplicateRatio) * (1 - fault.ratio);
      else if (fault.kind === 'corrupt') corruptKept *= 1 - fault.ratio;
      else dropped = true;
    }
    // Draw the same number of random values whatever the outcome, so outcomes stay independent.
    const lossDraw = random();
    const delayDraw = random();
    const duplicateDraw = random();
    const duplicateDelayDraw = random();
    const corruptDraw = random();
    const delivered = !dropped && lossDraw < lossKept;
    const fate = this.fate;
    fate.delivered = delivered;
    fate.delayMs = delayMs + jitterMs * delayDraw;
    fate.corrupted = delivered && corruptDraw >= corruptKept;
    fate.duplicateDelayMs = delivered && duplicateDraw < duplicateRatio ? delayMs + jitterMs * duplicateDelayDraw : null;
    return fate;
  }
}

function memberOf(selector: '*' | string[]): (node: string) => boolean {
  if (selector === '*') return () => true;
  const set = new Set(selector);
  return (node) => set.has(node);
}

function groupsRule(groups: string[][]): (from: string, to: string) => boolean {
  const groupOf = new Map<string, number>();
  groups.forEach((group, index) => group.forEach((node) => groupOf.set(node, index)));
  return (from, to) => {
    const a = groupOf.get(from);
    const b = groupOf.get(to);
    return a !== undefined && b !== undefined && a !== b;
  };
}

/** Smallest ring distance d such that a node with its d neighbours on each side sees a strict majority. */
export function majoritiesRingReach(nodeCount: number): number {
  let reach = 1;
  while (1 + 2 * reach <= nodeCount / 2) reach += 1;
  return reach;
}

function compile(fault: Fault, nodes: readonly string[], random: RandomSource, durationMs: number): LinkRule[] {
  const atMs = fault.atMs;
  const untilMs = fault.kind === 'crash' ? durationMs + 1 : (fault.untilMs ?? durationMs + 1);
  const rule = (applies: LinkRule['applies']): LinkRule[] => [{ fault, atMs, untilMs, applies }];
  switch (fault.kind) {
    case 'partition':
      return rule(groupsRule(fault.groups));
    case 'random-halves': {
      const order = shuffled(nodes, random);
      const half = Math.floor(order.length / 2);
      return rule(groupsRule([order.slice(0, half), order.slice(half)]));
    }
    case 'majorities-ring': {
      const index = new Map(nodes.map((node, position) => [node, position]));
      const reach = majoritiesRingReach(nodes.length);
      return rule((from, to) => {
        const distance = Math.abs(index.get(from)! - index.get(to)!);
        return Math.min(distance, nodes.length - distance) > reach;
      });
    }
    case 'isolate': {
      // Every listed node alone: cut from every other node, the other listed ones included.
      const isolated = memberOf(fault.nodes);
      return rule((from, to) => isolated(from) || isolated(to));
    }
    case 'isolate-group': {
      const isolated = memberOf(fault.nodes);
      return rule((from, to) => isolated(from) !== isolated(to));
    }
    case 'drop':
    case 'delay':
    case 'duplicate':
    case 'corrupt': {
      const from = memberOf(fault.from);
      const to = memberOf(fault.to);
      return rule((a, b) => from(a) && to(b));
    }
    case 'loss': {
      const from = memberOf(fault.from);
      const to = memberOf(fault.to);
      return rule((a, b) => (from(a) && to(b)) || (fault.bidirectional && from(b) && to(a)));
    }
    default:
      // Node-level faults (pause, crash, control-plane cut) are applied by the cluster simulation.
      return [];
  }
}
