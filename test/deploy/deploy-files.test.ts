/**
 * Proves what can be proven here about deploy/ (nothing is pulled or run in a cluster):
 * the Kubernetes manifest is one YAML document holding a DaemonSet with what one needs
 * (selector matching the pod labels, a named container with an image, every mounted
 * volume declared, the host network, the heartbeat port, the secrets it reads) and runs
 * the agent with the deploy flags of scripts/build-agent.ts; the systemd unit passes
 * `systemd-analyze verify` without a warning (skipped, saying why, where the tool is
 * missing) and runs the agent with the same flags; and the Grafana dashboard's queries
 * name only metrics, and group or filter only by labels, that a live server's /metrics
 * really exports.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { agentNodeFlags } from '../../scripts/build-agent';
import { type TestServer, startTestServer } from '../helpers/server-harness';

const deployDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy');
const manifestPath = path.join(deployDirectory, 'kubernetes', 'faultline-agent.yaml');
const unitPath = path.join(deployDirectory, 'systemd', 'faultline-agent.service');
const dashboardPath = path.join(deployDirectory, 'grafana', 'faultline-dashboard.json');

/** Whether `command` runs the agent with the deploy flags, in order, right before the agent file. */
function runsWithDeployFlags(command: string): boolean {
  return command.includes(`node ${agentNodeFlags.join(' ')} /opt/faultline/faultline-agent.mjs`);
}

describe('the Kubernetes DaemonSet', () => {
  interface Container {
    name?: string;
    image?: string;
    command?: string[];
    args?: string[];
    env?: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } }>;
    ports?: Array<{ containerPort: number; protocol?: string }>;
    volumeMounts?: Array<{ name: string; mountPath: string }>;
  }
  let manifest: {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
    spec: {
      selector: { matchLabels: Record<string, string> };
      template: {
        metadata: { labels: Record<string, string> };
        spec: { hostNetwork?: boolean; containers: Container[]; initContainers?: Container[]; volumes?: Array<{ name: string }> };
      };
    };
  };

  before(async () => {
    const documents = parseAllDocuments(await readFile(manifestPath, 'utf8'));
    assert.ok(!Array.isArray(documents) || documents.length === 1, 'one YAML document');
    const [document] = Array.isArray(documents) ? documents : [documents];
    assert.deepEqual(document!.errors, [], 'parses as YAML');
    manifest = document!.toJS() as typeof manifest;
  });

  it('is a DaemonSet whose selector matches its pods', () => {
    assert.equal(manifest.apiVersion, 'apps/v1');
    assert.equal(manifest.kind, 'DaemonSet');
    assert.match(manifest.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    const selector = Object.entries(manifest.spec.selector.matchLabels);
    assert.ok(selector.length > 0, 'a selector');
    for (const [key, value] of selector) assert.equal(manifest.spec.template.metadata.labels[key], value, `pod label ${key}`);
  });

  it('has named containers with images, and every mounted volume is declared', () => {
    const pod = manifest.spec.template.spec;
    const volumes = new Set((pod.volumes ?? []).map((volume) => volume.name));
    const containers = [...(pod.initContainers ?? []), ...pod.containers];
    assert.ok(pod.containers.length >= 1);
    for (const container of containers) {
      assert.ok(container.name && container.image, `container ${container.name} has a name and an image`);
      for (const mount of container.volumeMounts ?? []) assert.ok(volumes.has(mount.name), `volume ${mount.name} of ${container.name} is declared`);
    }
  });

  it('runs the agent on the host network with the deploy flags, its node name as id and its secrets', () => {
    const pod = manifest.spec.template.spec;
    assert.equal(pod.hostNetwork, true, 'heartbeats take the node\'s own network path');
    const agent = pod.containers.find((container) => container.name === 'agent')!;
    const command = [...(agent.command ?? []), ...(agent.args ?? [])].join(' ');
    assert.ok(runsWithDeployFlags(command), `deploy flags ${agentNodeFlags.join(' ')} in: ${command}`);
    assert.match(command, /--id "\$NODE_NAME"/);
    const env = new Map((agent.env ?? []).map((variable) => [variable.name, variable]));
    assert.equal(env.get('NODE_NAME')?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
    assert.ok(env.get('FAULTLINE_CLUSTER_KEY')?.valueFrom?.secretKeyRef, 'the cluster key comes from a secret');
    assert.ok(agent.ports?.some((port) => port.containerPort === 7946 && port.protocol === 'UDP'), 'the heartbeat port, UDP');
    const mounts = new Set((agent.volumeMounts ?? []).map((mount) => mount.mountPath));
    assert.ok(mounts.has('/opt/faultline') && mounts.has('/etc/faultline/tokens'), 'the agent file and the tokens are mounted');
  });
});

describe('the systemd unit', () => {
  it('runs the agent with the deploy flags', async () => {
    const unit = await readFile(unitPath, 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    assert.ok(runsWithDeployFlags(execStart), `deploy flags in: ${execStart}`);
  });

  it('passes systemd-analyze verify without a warning', (context) => {
    const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      const reason = `systemd-analyze is not available here (${probe.error?.message ?? `exit ${probe.status}`})`;
      console.log(`skipped: ${reason}`);
      context.skip(reason);
      return;
    }
    const verify = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8', timeout: 30_000 });
    // It exits 0 on unknown keys and bad values, only warning about them: any word about this unit fails.
    const aboutUnit = `${verify.stdout}${verify.stderr}`.split('\n').filter((line) => line.includes(path.basename(unitPath)));
    assert.equal(verify.status, 0, `${verify.stdout}${verify.stderr}`);
    assert.deepEqual(aboutUnit, []);
  });
});

describe('the Grafana dashboard', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('queries only metrics and labels that /metrics exports', async () => {
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    const families = new Map<string, string>();
    for (const match of (await response.text()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(match[1]!, match[2]!);
    assert.ok(families.size > 5, 'the live server exports its metrics');
    // A histogram family is queried through its series.
    const queryable = new Map<string, string>();
    for (const [name, type] of families) {
      queryable.set(name, name);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) queryable.set(`${name}${suffix}`, name);
    }
    const labelsOf = new Map(
      server.server.metrics.registry.getMetricsAsArray().map((metric) => {
        const labelNames = (metric as unknown as { labelNames?: string[] }).labelNames ?? [];
        return [metric.name, new Set([...labelNames, ...(families.get(metric.name) === 'histogram' ? ['le'] : [])])];
      }),
    );

    const dashboard = JSON.parse(await readFile(dashboardPath, 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
      templating: { list: Array<{ name: string; query?: unknown }> };
    };
    assert.ok(dashboard.templating.list.some((variable) => variable.name === 'datasource'), 'a data source variable, so the dashboard imports anywhere');
    const queries = [
      ...dashboard.panels.flatMap((panel) => {
        assert.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has a query`);
        return (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr }));
      }),
      ...dashboard.templating.list.flatMap((variable) =>
        variable.query && typeof variable.query === 'object' ? [{ where: `variable ${variable.name}`, expr: (variable.query as { query: string }).query }] : [],
      ),
    ];
    const shown = new Set<string>();
    for (const { where, expr } of queries) {
      const names = [...expr.matchAll(/\bfaultline_[a-z0-9_]+/g)].map((match) => match[0]);
      assert.ok(names.length > 0, `${where} queries a Faultline metric: ${expr}`);
      for (const name of names) {
        const family = queryable.get(name);
        assert.ok(family, `${where}: ${name} is not exported by /metrics`);
        shown.add(family);
        const labels = labelsOf.get(family)!;
        const grouped = [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((match) => match[1]!.split(',').map((label) => label.trim()));
        const filtered = [...expr.matchAll(new RegExp(`${name}\\{([^}]*)\\}`, 'g'))].flatMap((match) => [...match[1]!.matchAll(/(\w+)\s*=~?/g)].map((label) => label[1]!));
        const labelValues = [...expr.matchAll(/label_values\([^,]+,\s*(\w+)\)/g)].map((match) => match[1]!);
        for (const label of [...grouped, ...filtered, ...labelValues]) assert.ok(labels.has(label), `${where}: ${family} has no label "${label}"`);
      }
    }
    const unshown = [...families.keys()].filter((name) => name.startsWith('faultline_') && !shown.has(name));
    if (unshown.length > 0) console.log(`exported but not on the dashboard: ${unshown.join(', ')}`);
  });
});
