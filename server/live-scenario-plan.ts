/**
 * Maps a catalog scenario (the simulator's file, `sim/scenario.ts`) onto a live
 * cluster: which drop, loss and corruption rules each agent must hold, and which
 * control-plane links are cut, at each moment of the run. Pure: the runner
 * (`scenario-runner.ts`) carries the steps out with timers through the fault
 * controller, so the live run and the simulated one read the same file.
 *
 * Scenario node `nK` (or the K-th listed id) plays the K-th live node (sorted by
 * name); a scenario with more nodes than the cluster wraps around, which the plan's
 * notes say. `*`, random halves and the majorities ring cover every live node.
 * Delay faults become the transports' delay rules (an onset is played as a step);
 * duplication is left out and named in the notes; a pause or a crash is played as the node going silent (cut from
 * its peers and from the server) for the same window.
 */
import { type RandomSource, shuffled } from '../core/detectors/random-source';
import type { FaultRule, NodeId } from '../core/protocol';
import { majoritiesRingReach } from '../sim/network';
import { createPrng } from '../sim/prng';
import { type Fault, type Scenario, scenarioNodeIds } from '../sim/scenario';
import { AppError } from './app-error';

/** Most live nodes a scenario is played on: the rule matrix is quadratic in them. */
export const liveScenarioNodesMax = 200;

/** The whole network state from `atMs` (ms after the start) until the next step. */
export interface LiveScenarioStep {
  /** When the step applies, in ms after the run started. */
  atMs: number;
  /** Every agent's rules (agents not listed hold none). */
  rules: Map<NodeId, FaultRule[]>;
  /** Nodes whose link to the control server is cut (their reports are refused as undeliverable). */
  controlPlaneCut: NodeId[];
}

/** A scenario as it will play on a live cluster. */
export interface LiveScenarioPlan {
  /** The scenario's name. */
  scenario: string;
  /** Length of the run (ms); the last step, at this time, heals everything. */
  durationMs: number;
  /** Scenario node id → live node id. */
  mapping: Record<string, NodeId>;
  /** Steps in time order, the first at 0. */
  steps: LiveScenarioStep[];
  /** What could not be played as written, one sentence each. */
  notes: string[];
}

interface Link {
  drop: boolean;
  loss: number;
  corrupt: number;
  delayMs: number;
  jitterMs: number;
}

/** The directed links of one moment, and the nodes cut from the server. */
class NetworkState {
  private readonly links = new Map<string, Link>();
  readonly controlPlaneCut = new Set<NodeId>();

  private link(from: NodeId, to: NodeId): Link {
    const key = `${from}\u0000${to}`;
    let link = this.links.get(key);
    if (!link) this.links.set(key, (link = { drop: false, loss: 0, corrupt: 0, delayMs: 0, jitterMs: 0 }));
    return link;
  }

  drop(from: NodeId, to: NodeId): void {
    if (from !== to) this.link(from, to).drop = true;
  }

  lose(from: NodeId, to: NodeId, ratio: number): void {
    if (from !== to) this.link(from, to).loss = Math.max(this.link(from, to).loss, ratio);
  }

  corrupt(from: NodeId, to: NodeId, ratio: number): void {
    if (from !== to) this.link(from, to).corrupt = Math.max(this.link(from, to).corrupt, ratio);
  }

  slow(from: NodeId, to: NodeId, delayMs: number, jitterMs: number): void {
    if (from === to) return;
    const link = this.link(from, to);
    link.delayMs += delayMs;
    link.jitterMs += jitterMs;
  }

  /** Each agent's rules: outbound drops, loss, corruption and delay are its own links, inbound drops its peers'. */
  rules(nodes: readonly NodeId[]): Map<NodeId, FaultRule[]> {
    const rules = new Map<NodeId, FaultRule[]>();
    for (const owner of nodes) {
      const list: FaultRule[] = [];
      for (const peer of nodes) {
        if (peer === owner) continue;
        const out = this.links.get(`${owner}\u0000${peer}`);
        const into = this.links.get(`${peer}\u0000${owner}`);
        const rule: FaultRule = { peerId: peer, dropOutbound: out?.drop ?? false, dropInbound: into?.drop ?? false };
        if (out && out.loss > 0) rule.lossRatio = out.loss;
        if (out && out.corrupt > 0) rule.corruptRatio = out.corrupt;
        if (out && out.delayMs > 0) rule.delayMs = out.delayMs;
        if (out && out.jitterMs > 0) rule.jitterMs = out.jitterMs;
        if (rule.dropOutbound || rule.dropInbound || rule.lossRatio || rule.corruptRatio || rule.delayMs || rule.jitterMs) list.push(rule);
      }
      if (list.length > 0) rules.set(owner, list);
    }
    return rules;
  }
}

function cutBetweenGroups(state: NetworkState, groups: NodeId[][]): void {
  for (let i = 0; i < groups.length; i += 1) {
    for (let j = 0; j < groups.length; j += 1) {
      if (i === j) continue;
      // A node in both groups (a scenario wrapped onto fewer nodes) keeps its links: a bridge.
      for (const a of groups[i]!) for (const b of groups[j]!) if (!groups[i]!.includes(b) && !groups[j]!.includes(a)) state.drop(a, b);
    }
  }
}

function silence(state: NetworkState, nodes: readonly NodeId[], live: readonly NodeId[]): void {
  for (const node of nodes) {
    for (const other of live) {
      state.drop(node, other);
      state.drop(other, node);
    }
  }
}

/** Applies one active fault to the state of a moment. */
function applyFault(fault: Fault, state: NetworkState, context: { live: readonly NodeId[]; map: (ids: '*' | readonly string[]) => NodeId[]; halves: NodeId[][] }): void {
  const { live, map } = context;
  switch (fault.kind) {
    case 'partition':
      return cutBetweenGroups(state, fault.groups.map((group) => map(group)));
    case 'random-halves':
      return cutBetweenGroups(state, context.halves);
    case 'majorities-ring': {
      const reach = majoritiesRingReach(live.length);
      live.forEach((a, i) =>
        live.forEach((b, j) => {
          if (Math.min(Math.abs(i - j), live.length - Math.abs(i - j)) > reach) state.drop(a, b);
        }),
      );
      return;
    }
    case 'isolate':
    case 'isolate-group': {
      const isolated = map(fault.nodes);
      // `isolate` leaves every listed node alone; `isolate-group` keeps the listed nodes together.
      const cut = fault.kind === 'isolate' ? isolated.map((node) => [node]) : [isolated];
      cutBetweenGroups(state, [...cut, live.filter((node) => !isolated.includes(node))]);
      if (fault.controlPlane) isolated.forEach((node) => state.controlPlaneCut.add(node));
      return;
    }
    case 'drop':
      return map(fault.from).forEach((a) => map(fault.to).forEach((b) => state.drop(a, b)));
    case 'loss':
      return map(fault.from).forEach((a) =>
        map(fault.to).forEach((b) => {
          state.lose(a, b, fault.ratio);
          if (fault.bidirectional) state.lose(b, a, fault.ratio);
        }),
      );
    case 'corrupt':
      return map(fault.from).forEach((a) => map(fault.to).forEach((b) => state.corrupt(a, b, fault.ratio)));
    case 'pause':
    case 'crash':
      silence(state, map(fault.nodes), live);
      map(fault.nodes).forEach((node) => state.controlPlaneCut.add(node));
      return;
    case 'control-plane-cut':
      map(fault.nodes).forEach((node) => state.controlPlaneCut.add(node));
      return;
    case 'delay':
      return map(fault.from).forEach((a) => map(fault.to).forEach((b) => state.slow(a, b, fault.delayMs, fault.jitterMs)));
    case 'duplicate':
      return;
  }
}

function notesOf(scenario: Scenario, scenarioNodes: readonly string[], live: readonly NodeId[]): string[] {
  const notes: string[] = [];
  if (scenarioNodes.length > live.length) {
    notes.push(`the scenario has ${scenarioNodes.length} nodes and the cluster ${live.length}: ${scenarioNodes[live.length]} and later wrap around onto the live nodes`);
  }
  const kinds = new Set(scenario.faults.map((fault) => fault.kind));
  if (kinds.has('duplicate')) notes.push('duplicate faults are left out: the agents\' transports drop, lose, corrupt and delay datagrams, nothing else');
  if (scenario.faults.some((fault) => fault.kind === 'delay' && fault.onsetMs > 0)) notes.push('a delay\'s onset is played as a step: the full delay from its start');
  for (const kind of ['pause', 'crash'] as const) if (kinds.has(kind)) notes.push(`a ${kind} is played as the node going silent (cut from its peers and the server); the agent keeps running`);
  if (scenario.network.duplicateRatio > 0) notes.push('the background duplication is left out');
  return notes;
}

/** Plans `scenario` on the live nodes; throws `invalid_input` when there are too few or too many. */
export function planLiveScenario(scenario: Scenario, liveNodes: readonly NodeId[]): LiveScenarioPlan {
  const live = [...liveNodes].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (live.length < 2) throw new AppError('invalid_input', 'a scenario needs a cluster of at least 2 nodes');
  if (live.length > liveScenarioNodesMax) throw new AppError('invalid_input', `a scenario is played on at most ${liveScenarioNodesMax} live nodes`);
  const scenarioNodes = scenarioNodeIds(scenario);
  const mapping = Object.fromEntries(scenarioNodes.map((id, index) => [id, live[index % live.length]!]));
  const map = (ids: '*' | readonly string[]) => (ids === '*' ? [...live] : [...new Set(ids.map((id) => mapping[id]!))]);
  const random: RandomSource = createPrng(scenario.seed, 1);
  const order = shuffled(live, random);
  const halves = [order.slice(0, Math.floor(order.length / 2)), order.slice(Math.floor(order.length / 2))];
  const untilOf = (fault: Fault) => (fault.kind === 'crash' ? scenario.durationMs : Math.min(fault.untilMs ?? scenario.durationMs, scenario.durationMs));
  const times = [...new Set([0, ...scenario.faults.flatMap((fault) => [fault.atMs, untilOf(fault)])])].filter((atMs) => atMs < scenario.durationMs).sort((a, b) => a - b);
  const steps = times.map((atMs): LiveScenarioStep => {
    const state = new NetworkState();
    if (scenario.network.lossRatio > 0) live.forEach((a) => live.forEach((b) => state.lose(a, b, scenario.network.lossRatio)));
    for (const fault of scenario.faults) if (fault.atMs <= atMs && atMs < untilOf(fault)) applyFault(fault, state, { live, map, halves });
    return { atMs, rules: state.rules(live), controlPlaneCut: [...state.controlPlaneCut].sort() };
  });
  steps.push({ atMs: scenario.durationMs, rules: new Map(), controlPlaneCut: [] });
  return { scenario: scenario.name, durationMs: scenario.durationMs, mapping, steps, notes: notesOf(scenario, scenarioNodes, live) };
}
