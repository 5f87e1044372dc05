/**
 * One agent: UDP transport with fault injection, the detector loop, reports
 * through the outbox to the control server, and commands carried out.
 */
import { checksPerInterval } from '../core/detectors/peer-monitor';
import { mergeEvidence } from '../core/evidence-ledger';
import type { AgentCommand, AgentReport, Reply } from '../core/protocol';
import type { DataPlaneReply } from '../core/reconcile/data-plane-commands';
import { fitReportBytes } from '../core/report-size';
import type { AgentConfig } from './config';
import { type RedisDataPlane, startRedisDataPlane } from './adapters/redis/redis-data-plane';
import { createSelfFence } from './adapters/redis/self-fence';
import { type DataPlane, startDataPlane } from './data-plane';
import { agentDetectorProfile } from './detector-settings';
import { startDetectionLoop } from './detection-loop';
import { Membership } from './membership';
import { FaultLayer } from './network-faults/fault-layer';
import { MemoryOutbox, type Outbox } from './outbox';
import { FileOutbox } from './outbox-file';
import { ServerLink } from './server-link';
import { FaultInjectingTransport } from './transport/fault-injecting-transport';
import { type Transport, endpointKey } from './transport/transport';
import { UdpTransport } from './transport/udp-transport';

type Level = 'info' | 'warn' | 'error' | 'debug';
const levelRank: Record<string, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** A running agent. */
export interface RunningAgent {
  config: AgentConfig;
  transport: FaultInjectingTransport;
  /** Where injected faults act (transport or kernel), with their deadlines and dead man's switch. */
  faults: FaultLayer;
  membership: Membership;
  outbox: Outbox;
  link: ServerLink;
  /** The node's data plane: the reference store with its replication, or a real Redis; and its command executor. */
  dataPlane: DataPlane | RedisDataPlane;
  /** Reports written to the outbox since start (the last sequence number used). */
  reportsWritten(): number;
  /** Stops writing new reports (tests that count what was sent); the link keeps draining the outbox. */
  stopReporting(): void;
  close(): Promise<void>;
}

/** Starts an agent; `transport` and `outbox` may be injected (tests); UDP and the configured outbox by default. */
export async function startAgent(
  config: AgentConfig,
  injected: { transport?: Transport; outbox?: Outbox; nowMs?: () => number } = {},
): Promise<RunningAgent> {
  const nowMs = injected.nowMs ?? (() => Date.now());
  const log = (level: Level, message: string, fields: Record<string, unknown> = {}) => {
    if ((levelRank[level] ?? 0) < (levelRank[config.logLevel] ?? 20)) return;
    process.stdout.write(`${JSON.stringify({ level, time: new Date(nowMs()).toISOString(), agent: config.id, msg: message, ...fields })}\n`);
  };
  const startedAtMs = nowMs();
  const incarnation = startedAtMs;
  const udp = injected.transport ?? (await UdpTransport.bind(config.listen));
  const peersById = new Map(config.peers.map((peer) => [peer.id, peer.endpoint]));
  const transport = new FaultInjectingTransport(udp, (peerId) => peersById.get(peerId));
  const faults = await FaultLayer.start({
    mode: config.networkFaults,
    transport,
    peers: config.peers,
    listenPort: transport.local.port,
    extraPorts: config.faultPorts,
    defaultTtlMs: config.faultTtlMs,
    serverLossHealMs: config.serverLossHealMs,
    log: (level, message, fields) => log(level, message, fields),
    nowMs,
  });
  // Membership and the data plane share one identity, key, peer list and socket.
  const channel = { clusterId: config.clusterId, selfId: config.id, incarnation, clusterKey: config.clusterKey, peers: config.peers, transport };
  const membership = new Membership({
    ...channel,
    startedAtMs,
    joinGraceMs: config.joinGraceMs,
    profile: agentDetectorProfile(config),
  });
  // With a real store the agent runs no replicator of its own: the store replicates itself.
  const target = config.dataPlane;
  const dataPlane = target.kind === 'redis'
    ? await startRedisDataPlane({ target, selfId: config.id, nowMs, log: (level, message, fields) => log(level, message, { store: 'redis', ...fields }) })
    : await startDataPlane({
      ...channel,
      nowMs,
      storeListen: config.storeListen,
      writeRatePerSecond: config.writeRate,
      writeKeyCount: config.writeKeys,
      target,
      log: (level, message, fields) => log(level, message, fields),
    });
  // One socket, two channels: replication datagrams by their type tag, everything else (garbage included) to membership.
  // What membership hears may make a check the detection loop meant to sleep through busy again.
  let loop: { replan(): void } = { replan: () => undefined };
  transport.onMessage((bytes, from) => {
    if (dataPlane.accepts(bytes)) return dataPlane.receive(bytes, from, nowMs());
    membership.receive(bytes, from, nowMs());
    loop.replan();
  });
  const outbox =
    injected.outbox ??
    (config.outboxDir
      ? await FileOutbox.open({ directory: config.outboxDir, entriesMax: config.outboxEntriesMax, bytesMax: config.outboxBytesMax })
      : new MemoryOutbox(config.outboxEntriesMax));
  let sequence = 0;

  const executeCommand = async (command: AgentCommand): Promise<Reply<DataPlaneReply | null>> => {
    if (command.type !== 'set-faults' && command.type !== 'heal-all') {
      const result = await dataPlane.execute(command);
      log(result.ok ? 'info' : 'warn', 'data-plane command', {
        command: command.type,
        ok: result.ok,
        ...(result.ok ? {} : { error: result.message }),
        ...(result.ok && result.data?.type === 'applied' ? { applied: result.data.applied, skipped: result.data.skipped } : {}),
        ...(result.ok && result.data?.type === 'changes' ? { entries: result.data.entries.length } : {}),
      });
      return result;
    }
    const result = await faults.apply(command.type === 'set-faults' ? command : { rules: [] });
    if (result.ok) log('info', 'command applied', { command: command.type, rules: command.type === 'set-faults' ? command.rules.length : 0, layer: faults.status().layer });
    return result;
  };

  const link = new ServerLink({
    serverUrls: config.serverUrls,
    token: config.token,
    hello: {
      clusterId: config.clusterId,
      agentId: config.id,
      address: endpointKey(transport.local),
      incarnation,
      peers: config.peers.map((peer) => peer.id),
    },
    outbox,
    onCommand: executeCommand,
    log: (level, message, fields) => log(level, message, fields),
    nowMs,
    onLinkChange: (up) => faults.serverLinkChanged(up),
  });

  let reporting = true;
  const report = async () => {
    if (!reporting) return;
    sequence += 1;
    const at = nowMs();
    const written: AgentReport = {
      clusterId: config.clusterId,
      agentId: config.id,
      incarnation,
      sequence,
      sentAtMs: at,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      observations: membership.observations(at),
      evidence: mergeEvidence(membership.takeEvidence(), dataPlane.takeEvidence()),
      health: membership.health(at),
      outboxDepth: outbox.depth(),
      outboxDropped: outbox.droppedCount(),
      dataPlane: dataPlane.status(),
      faultInjection: faults.status(),
    };
    // The server refuses a report past `reportBytesMax`; only a flood of evidence can make one that large.
    const { report: entry, evidenceDropped } = fitReportBytes(written);
    if (evidenceDropped > 0) log('warn', 'report over its byte limit; oldest untrusted evidence left out', { sequence, evidenceDropped });
    await outbox.append(entry);
    link.notify();
  };
  let reportQueued = false;
  // With a real store, losing the majority view fences it at once (the server's fence follows).
  const selfFence = dataPlane.kind === 'redis' ? createSelfFence(dataPlane.adapter, (message, fields) => log('warn', message, fields)) : null;
  membership.onChange = () => {
    selfFence?.(membership.observations(nowMs()));
    if (reportQueued) return;
    reportQueued = true;
    queueMicrotask(() => {
      reportQueued = false;
      void report();
    });
  };

  // The detection loop, the agent's one timer: heartbeats every `checksPerInterval` checks
  // (the first check is one), suspicion looked at on every check that could find it, the
  // periodic report. Its grid starts on a multiple of the interval since the epoch, so a
  // cluster's heartbeats leave together and arrive in one burst (see detection-loop.ts).
  const detectionLoop = startDetectionLoop({
    checkIntervalMs: config.heartbeatIntervalMs / checksPerInterval,
    firstCheckAtMs: Math.ceil(nowMs() / config.heartbeatIntervalMs) * config.heartbeatIntervalMs,
    reportIntervalMs: config.reportIntervalMs,
    nowMs,
    check: (at, scheduledAtMs, idleChecksSkipped) => membership.check(at, scheduledAtMs, idleChecksSkipped),
    idleChecksAhead: (firstAtMs, checkIntervalMs) => membership.idleChecksAhead(firstAtMs, checkIntervalMs),
    report: () => void report(),
  });
  loop = detectionLoop;
  void report();
  log('info', 'agent started', {
    listen: endpointKey(transport.local),
    peers: config.peers.length,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    profile: config.profile,
    detector: config.detector,
    dataPlane: config.dataPlane.kind === 'redis' ? `redis ${config.dataPlane.endpoint}` : config.dataPlane.kind,
    faults: faults.status().layer,
  });

  return {
    config,
    transport,
    faults,
    membership,
    outbox,
    link,
    dataPlane,
    reportsWritten: () => sequence,
    stopReporting() {
      reporting = false;
    },
    async close() {
      detectionLoop.stop();
      await faults.close();
      await dataPlane.close();
      await link.close();
      await outbox.close();
      await transport.close();
    },
  };
}
