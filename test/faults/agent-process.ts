/**
 * One load agent (test/helpers/load-agent.ts: the real ServerLink and a durable
 * FileOutbox) as a process of its own, for fault tests that need agents outside
 * the test runner. Settings come in FAULT_AGENT (JSON); the link's log lines go
 * to stdout as JSON. Over IPC it answers `status`, and obeys `stop-reporting`
 * and `close`.
 */
import { type LoadAgentOptions, startLoadAgent } from '../helpers/load-agent';

/** What the parent passes in FAULT_AGENT: a load agent's settings, less the log (stdout here). */
export type AgentProcessSettings = Omit<LoadAgentOptions, 'log'>;

/** The answer to `status`. */
export interface AgentProcessStatus {
  agentId: string;
  incarnation: number;
  sent: number;
  outboxDepth: number;
  acknowledged: number;
  duplicateAcks: number;
  connected: boolean;
  /** Times the link said hello successfully (the first connection included). */
  greetings: number;
  /** Times the link logged going down. */
  disconnects: number;
}

/** Messages from the parent. */
export type AgentProcessCommand = { type: 'status' } | { type: 'stop-reporting' } | { type: 'close' };

const settings = JSON.parse(process.env.FAULT_AGENT ?? '{}') as AgentProcessSettings;
let greetings = 0;
let disconnects = 0;
const agent = await startLoadAgent({
  ...settings,
  log: (level, message, fields) => {
    if (message === 'connected to control server' || message === 'reconnected to control server') greetings += 1;
    if (message.startsWith('disconnected from control server')) disconnects += 1;
    process.stdout.write(`${JSON.stringify({ level, agent: settings.agentId, msg: message, ...fields })}\n`);
  },
});

const status = (): AgentProcessStatus => ({
  agentId: agent.agentId,
  incarnation: agent.incarnation,
  sent: agent.sentCount(),
  outboxDepth: agent.outbox.depth(),
  acknowledged: agent.link.acknowledgedCount,
  duplicateAcks: agent.link.duplicateCount,
  connected: agent.link.connected,
  greetings,
  disconnects,
});

process.on('message', (command: AgentProcessCommand) => {
  if (command.type === 'status') process.send!({ type: 'status', status: status() });
  if (command.type === 'stop-reporting') {
    agent.stopReporting();
    process.send!({ type: 'stopped' });
  }
  if (command.type === 'close') void agent.close().finally(() => process.exit(0));
});
// The parent dying must not leave agents behind.
process.on('disconnect', () => void agent.close().finally(() => process.exit(0)));
process.send!({ type: 'started', status: status() });
