import { Readable } from 'node:stream';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { Item } from '../../results/index.js';
import { readJunit } from '../../results/junit.js';
import { buildReportModel } from '../../web/report/index.js';
import { renderJunit, xmlAttr, xmlText } from './results-junit.js';

const hostile = 'a <b> & "c" \'d\' ]]> \u0001\u0000 \ud800 tab\there\r\nline';

const job: Item = {
  name: 'e2e',
  status: 'failed',
  meta: { type: 'summary' },
  items: [
    {
      name: 'junit.xml',
      status: 'failed',
      meta: { type: 'file', file: 'results/global/junit.xml' },
      items: [
        {
          name: 'suite',
          status: 'failed',
          items: [
            {
              name: `<script>alert(1)</script> ${hostile}`,
              status: 'failed',
              details: { failure: `first line\n${hostile}`, 'system-out': 'out & about' },
            },
            { name: 'errored', status: 'failed', details: { error: 'exploded' } },
            { name: 'slow', status: 'timeout' },
            { name: 'fine', status: 'passed', details: { 'system-err': 'noise' } },
            { name: 'not run', status: 'skipped' },
            { name: 'mystery', status: 'unknown' },
            { name: 'manual', status: 'complete' },
          ],
        },
      ],
    },
  ],
};

const daemonSet: Item = {
  name: 'logs',
  status: 'passed',
  meta: { type: 'summary' },
  items: ['n1', 'n2'].map((n) => ({
    name: n,
    status: 'passed',
    meta: { type: 'node' },
    items: [{ name: 'log', status: 'passed', meta: { file: `results/${n}/log` } }],
  })),
};

const model = buildReportModel({
  source: 'run.tar.gz',
  plugins: [
    { name: 'e2e', item: job },
    { name: 'logs', item: daemonSet },
    { name: 'gone', error: 'failed to find file "plugins/gone/sonobuoy_results.yaml" in archive' },
  ],
});

describe('escaping', () => {
  it('keeps text and attributes well-formed whatever they hold', () => {
    expect(xmlText('<a & b>')).toBe('&lt;a &amp; b&gt;');
    expect(xmlAttr('"x"\n\ty')).toBe('&quot;x&quot;&#10;&#9;y');
    expect(xmlText('\u0000\u0008\udfff\ud800\ud83d\ude00')).toBe(
      '\ufffd\ufffd\ufffd\ufffd\ud83d\ude00',
    );
    expect(xmlText('a\r\nb')).toBe('a&#13;\nb');
  });
});

describe('renderJunit', () => {
  const xml = renderJunit(model);
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
  }).parse(xml);

  it('is valid XML with one suite per plugin and node', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    expect((doc.testsuites.testsuite as { name: string }[]).map((s) => s.name)).toEqual([
      'e2e',
      'logs/n1',
      'logs/n2',
      'gone',
    ]);
    expect(doc.testsuites).toMatchObject({ tests: '10', failures: '2', errors: '2', skipped: '2' });
  });

  it('maps statuses to failure, error, skipped and properties', () => {
    const cases = doc.testsuites.testsuite[0].testcase;
    expect(cases).toHaveLength(7);
    expect(cases[0].failure.message).toBe('first line');
    expect(cases[0].failure['#text']).toContain('&');
    expect(cases[0]['system-out']).toBe('out & about');
    expect(cases[1].error).toMatchObject({ message: 'exploded', type: 'failed' });
    expect(cases[2].failure).toMatchObject({ message: 'timeout', type: 'timeout' });
    expect(cases[3]['system-err']).toBe('noise');
    expect(cases[4]).toHaveProperty('skipped');
    expect(cases[5].skipped).toMatchObject({ message: 'status: unknown' });
    expect(cases[6].properties.property[0]).toMatchObject({ name: 'status', value: 'complete' });
    expect(cases[0].classname).toBe('e2e/junit.xml/suite');
    expect(doc.testsuites.testsuite[1].testcase[0].classname).toBe('logs/n1');
  });

  it('turns an unreadable plugin into a suite with one error', () => {
    const gone = doc.testsuites.testsuite[3];
    expect(gone.testcase[0].error.message).toContain('failed to find file');
  });

  it('reads back through fathom\u2019s own JUnit parser with the hostile name intact', async () => {
    const item = await readJunit(Readable.from([xml]), { name: 'merged.xml', status: '' });
    expect(item.status).toBe('failed');
    const suites = item.items!;
    expect(suites.map((s) => s.name)).toEqual(['e2e', 'logs/n1', 'logs/n2', 'gone']);
    const first = suites[0]!.items![0]!;
    // Only what XML 1.0 cannot carry was replaced.
    expect(first.name).toBe(
      '<script>alert(1)</script> a <b> & "c" \'d\' ]]> \ufffd\ufffd \ufffd tab\there\r\nline',
    );
    expect(first.status).toBe('failed');
  });
});
