/**
 * A run's report for a CI pipeline: JUnit XML (one test suite per run, one test
 * case per validator; a failed validator is a failure, a skipped one is skipped),
 * so that a pipeline can gate on it. The JSON export is the report itself.
 */
import type { ExperimentReport } from './experiment-views';

const escapeXml = (text: string) =>
  text.replace(/[<>&"']/g, (character) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[character]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** The report as JUnit XML. */
export function experimentJunitXml(report: ExperimentReport): string {
  const verdicts = report.verdictDetails;
  const failures = verdicts.filter((verdict) => verdict.outcome === 'fail').length;
  const skipped = verdicts.filter((verdict) => verdict.outcome === 'skipped').length;
  const seconds = report.endedAtMs === null ? 0 : (report.endedAtMs - report.startedAtMs) / 1000;
  const aborted = report.status === 'aborted' || report.status === 'error';
  const cases = verdicts.map((verdict) => {
    const open = `    <testcase classname="faultline.experiment.${escapeXml(report.scenario)}" name="${escapeXml(verdict.validator)}">`;
    const body =
      verdict.outcome === 'fail'
        ? `\n      <failure message="${escapeXml(verdict.summary)}">${escapeXml(JSON.stringify(verdict.evidence, null, 2))}</failure>\n    `
        : verdict.outcome === 'skipped'
          ? `\n      <skipped message="${escapeXml(verdict.summary)}"/>\n    `
          : `\n      <system-out>${escapeXml(verdict.summary)}</system-out>\n    `;
    return `${open}${body}</testcase>`;
  });
  if (aborted) cases.push(`    <testcase classname="faultline.experiment.${escapeXml(report.scenario)}" name="run"><error message="run ${escapeXml(report.status)}"/></testcase>`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="faultline experiments" tests="${cases.length}" failures="${failures}" errors="${aborted ? 1 : 0}" skipped="${skipped}">`,
    `  <testsuite name="${escapeXml(report.scenario)}" id="${escapeXml(report.id)}" tests="${cases.length}" failures="${failures}" errors="${aborted ? 1 : 0}" skipped="${skipped}" time="${seconds.toFixed(3)}" timestamp="${new Date(report.startedAtMs).toISOString()}">`,
    `    <properties><property name="cluster" value="${escapeXml(report.clusterId)}"/><property name="status" value="${escapeXml(report.status)}"/></properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
