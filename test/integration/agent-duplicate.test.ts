/**
 * Proves, on a real server with real sockets, that a second connection with an
 * agent's identity cannot knock the real agent off: while the holder is alive the
 * newcomer is refused (`conflict`), flagged in the log, the audit log, the
 * refusal metric and an `agent-duplicate` alert, and keeps retrying with backoff;
 * it takes over only once the holder has gone. A holder gone silent (a half-open
 * connection) is replaced, so the real agent's own reconnection is never kept
 * out by a dead copy of itself. The demo's shared token speaks only for the
 * demo's own agent ids.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryOutbox } from '../../agent/outbox';
import { ServerLink } from '../../agent/server-link';
import { connectAgentClient, makeReport, signAs } from '../helpers/agent-client';
import { type LoadAgent, startLoadAgent } from '../helpers/load-agent';
import { type TestServer, callApi, startTestServer, waitFor } from '../helpers/server-harness';
import { startTcpProxy } from '../helpers/tcp-proxy';

const cluster = 'dup-test';
/** Holder silence after which a duplicate replaces it, shortened from 30 s so the test is quick. */
const holderSilenceMs = 1500;

describe('a second connection with an agent identity', () => {
  let test: TestServer;
  const closers: (() => Promise<unknown> | unknown)[] = [];

  before(async () => {
    test = await startTestServer({ env: { FAULTLINE_AGENT_HOLDER_SILENCE_MS: String(holderSilenceMs) } });
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    await test?.stop();
  });

  it('is refused while the real agent is alive, flagged, and takes over only once the real agent has gone', async () => {
    const { token } = await test.server.credentials.issue({ clusterId: cluster, agentId: 'a', createdBy: 'test' });
    const real: LoadAgent = await startLoadAgent({ serverUrl: test.url, token, clusterId: cluster, agentId: 'a', peers: [], intervalMs: 200 });
    closers.push(() => real.close());
    await waitFor('the real agent connected', () => real.link.connected);

    await assert.rejects(connectAgentClient(test.url, token, cluster, 'a'), /conflict: agent dup-test\/a is already connected/);
    const lines: string[] = [];
    const copy = new ServerLink({
      serverUrls: [test.url],
      token,
      hello: { clusterId: cluster, agentId: 'a', address: '127.0.0.1:9', incarnation: Date.now(), peers: [] },
      outbox: new MemoryOutbox(10),
      onCommand: async () => ({ ok: true, data: null }),
      log: (_level, message, fields) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`),
    });
    closers.push(() => copy.close());
    await waitFor('the copy refused twice', () => lines.filter((line) => line.includes('conflict')).length >= 2, 10_000);
    const acknowledged = real.link.acknowledgedCount;
    await waitFor('the real agent still reporting', () => real.link.acknowledgedCount > acknowledged + 3);
    assert.equal(real.link.connected, true, 'the real agent was never knocked off');
    assert.equal(copy.connected, false);

    const metrics = await (await fetch(`${test.url}/metrics`)).text();
    assert.match(metrics, /faultline_agent_refusals_total\{reason="duplicate-connection"\} [1-9]/);
    await test.server.credentials.flushRefusals();
    const audited = await test.server.database.prisma.auditEntry.findMany({ where: { action: 'agent.refused', target: `${cluster}/a` } });
    assert.ok(audited.some((entry) => (entry.data as { reason: string }).reason === 'duplicate-connection'), 'refusal audited');
    const alerts = await waitFor('a duplicate alert', async () => {
      const { payload } = await callApi<{ rule: string; status: string }[]>(test.url, `/api/alerts?clusterId=${cluster}`);
      return payload.ok && payload.data.some((alert) => alert.rule === 'agent-duplicate:a' && alert.status === 'firing') ? payload.data : null;
    });
    assert.equal(alerts.filter((alert) => alert.rule === 'agent-duplicate:a').length, 1, 'one alert, not one per attempt');

    await real.close();
    await waitFor('the copy connected once the holder left', () => copy.connected, 10_000);
  });

  it('replaces a holder gone silent, so the agent itself gets back in', async () => {
    const { token } = await test.server.credentials.issue({ clusterId: cluster, agentId: 'b', createdBy: 'test' });
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: test.server.port });
    closers.push(() => proxy.close());
    const stale = await connectAgentClient(`http://127.0.0.1:${proxy.port}`, token, cluster, 'b');
    closers.push(() => stale.close());
    proxy.freeze();
    await assert.rejects(connectAgentClient(test.url, token, cluster, 'b'), /conflict/, 'refused while the holder was heard recently');
    await new Promise((resolve) => setTimeout(resolve, holderSilenceMs + 500));
    const fresh = await connectAgentClient(test.url, token, cluster, 'b');
    closers.push(() => fresh.close());
    const reply = await fresh.timeout(5000).emitWithAck('report', signAs(token, makeReport(cluster, 'b', 1)));
    assert.equal(reply.ok, true, 'the new connection speaks for the agent');
  });

  it('the shared token speaks only for the demo agents', async () => {
    // The test server's demo has two agents: node-1 and node-2.
    await assert.rejects(connectAgentClient(test.url, test.server.agentToken, 'demo', 'node-3'), /forbidden: the shared token speaks only for the demo's agents/);
    await assert.rejects(connectAgentClient(test.url, test.server.agentToken, 'demo', 'intruder'), /forbidden/);
    const demo = await connectAgentClient(test.url, test.server.agentToken, 'demo', 'node-2');
    demo.close();
  });
});
