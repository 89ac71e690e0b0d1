/**
 * `fathom results --format junit`: every plugin's tests as one JUnit XML document for CI systems,
 * one `<testsuite>` per plugin and node. Names and messages are untrusted: everything is escaped
 * and characters XML 1.0 cannot carry become U+FFFD, so the document is always well-formed.
 */
import type { ReportModel, TestRow } from '../../web/report/index.js';

// Characters XML 1.0 forbids. In `u` mode an unpaired surrogate is a code point of its own,
// outside every allowed range, so it is caught too.
const invalidXml = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/** Text content: `&`, `<`, `>` escaped, carriage returns kept as references. */
export function xmlText(s: string): string {
  return s
    .replace(invalidXml, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/** An attribute value for double quotes; whitespace kept as references so parsers do not normalise it. */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

const MAX_MESSAGE = 300;

function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The first line of a message, short enough for an attribute. */
function headline(s: string): string {
  const line = s.trim().split('\n', 1)[0] ?? '';
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line;
}

function testcase(t: TestRow): string {
  const d = t.details ?? {};
  const classname = [t.plugin, ...(t.node === 'global' ? [] : [t.node]), ...t.path].join('/');
  let body = '';
  if (t.statusClass === 'failed') {
    const error = d.failure === undefined && d.error !== undefined;
    const message = text(error ? d.error : d.failure);
    const tag = error ? 'error' : 'failure';
    body += `<${tag} message="${xmlAttr(headline(message) || t.status)}" type="${xmlAttr(t.status)}">${xmlText(message)}</${tag}>`;
  } else if (t.statusClass === 'skipped') {
    body += '<skipped/>';
  } else if (t.statusClass === 'other') {
    // Custom statuses (manual plugins) are not failures; unknown ones did not run to a verdict.
    if (t.status === 'unknown' || t.status === '') {
      body += `<skipped message="status: ${xmlAttr(t.status || 'unknown')}"/>`;
    } else {
      body += `<properties><property name="status" value="${xmlAttr(t.status)}"/></properties>`;
    }
  }
  const out = text(d['system-out']);
  const err = text(d['system-err']);
  if (out) body += `<system-out>${xmlText(out)}</system-out>`;
  if (err) body += `<system-err>${xmlText(err)}</system-err>`;
  const open = `<testcase name="${xmlAttr(t.name)}" classname="${xmlAttr(classname)}"`;
  return body ? `    ${open}>${body}</testcase>\n` : `    ${open}/>\n`;
}

interface Tally {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

function tally(rows: readonly TestRow[]): Tally {
  const t: Tally = { tests: rows.length, failures: 0, errors: 0, skipped: 0 };
  for (const r of rows) {
    const d = r.details ?? {};
    if (r.statusClass === 'failed') {
      if (d.failure === undefined && d.error !== undefined) t.errors++;
      else t.failures++;
    } else if (r.statusClass === 'skipped' || r.status === 'unknown' || r.status === '') {
      t.skipped++;
    }
  }
  return t;
}

function counts(t: Tally): string {
  return `tests="${t.tests}" failures="${t.failures}" errors="${t.errors}" skipped="${t.skipped}"`;
}

function property(name: string, value: string): string {
  return `<property name="${xmlAttr(name)}" value="${xmlAttr(value)}"/>`;
}

/** The merged document; a plugin that could not be read becomes a suite with one `<error>`. */
export function renderJunit(model: ReportModel): string {
  const suites: string[] = [];
  const total: Tally = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const add = (t: Tally): void => {
    total.tests += t.tests;
    total.failures += t.failures;
    total.errors += t.errors;
    total.skipped += t.skipped;
  };
  for (const p of model.plugins) {
    if (p.error !== undefined) {
      add({ tests: 1, failures: 0, errors: 1, skipped: 0 });
      suites.push(
        `  <testsuite name="${xmlAttr(p.name)}" tests="1" failures="0" errors="1" skipped="0">\n` +
          `    <properties>${property('plugin', p.name)}</properties>\n` +
          `    <testcase name="read results" classname="${xmlAttr(p.name)}"><error message="${xmlAttr(headline(p.error))}" type="results">${xmlText(p.error)}</error></testcase>\n` +
          '  </testsuite>\n',
      );
      continue;
    }
    const rows = model.tests.filter((t) => t.plugin === p.name);
    for (const n of p.nodes) {
      const nodeRows = rows.filter((r) => r.node === n.name);
      const t = tally(nodeRows);
      add(t);
      const name = n.name === 'global' ? p.name : `${p.name}/${n.name}`;
      suites.push(
        `  <testsuite name="${xmlAttr(name)}" ${counts(t)}>\n` +
          `    <properties>${property('plugin', p.name)}${property('node', n.name)}${property('status', p.status)}</properties>\n` +
          nodeRows.map(testcase).join('') +
          '  </testsuite>\n',
      );
    }
  }
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="${xmlAttr(`fathom results: ${model.source}`)}" ${counts(total)}>\n` +
    suites.join('') +
    '</testsuites>\n'
  );
}
