'use client';
/** The faults in force now on the cluster's agents (live, from the cluster snapshot): each node's rules, peer by peer. */
import type { FaultRule } from '../core/protocol';
import { useCluster } from './use-cluster';

const describeRule = (rule: FaultRule) =>
  [
    rule.dropOutbound && rule.dropInbound ? 'cut both ways' : rule.dropOutbound ? 'drops what it sends' : rule.dropInbound ? 'drops what it hears' : null,
    rule.lossRatio ? `loses ${Math.round(rule.lossRatio * 100)} %` : null,
    rule.corruptRatio ? `corrupts ${Math.round(rule.corruptRatio * 100)} %` : null,
  ]
    .filter(Boolean)
    .join(', ');

export function ActiveFaults() {
  const { live } = useCluster();
  const faulty = (live.snapshot?.nodes ?? []).filter((node) => node.faults.length > 0);
  return (
    <section className="panel" aria-labelledby="active-faults-heading">
      <h2 id="active-faults-heading">Faults active now</h2>
      {faulty.length === 0 ? (
        <p className="muted" data-testid="active-faults-none">
          None: every link is up.
        </p>
      ) : (
        <table data-testid="active-faults">
          <thead>
            <tr>
              <th>Node</th>
              <th>Peer</th>
              <th>Fault</th>
            </tr>
          </thead>
          <tbody>
            {faulty.flatMap((node) =>
              node.faults.map((rule) => (
                <tr key={`${node.id}-${rule.peerId}`}>
                  <td>{node.id}</td>
                  <td>{rule.peerId}</td>
                  <td>{describeRule(rule)}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      )}
    </section>
  );
}
