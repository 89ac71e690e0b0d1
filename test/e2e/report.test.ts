/**
 * The HTML report in a real browser: `fathom results DIR --format html` opened in Debian's
 * Chromium (driven by playwright-core, which never downloads a browser).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/core/nodes.js';
import { type Item, itemToYaml } from '../../src/results/index.js';
import { fathom, tempDir } from '../support/cli.js';
import { available } from '../support/required.js';
import { writeNodesSnapshot } from '../support/snapshot.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = available(
  existsSync(CHROMIUM),
  `the HTML report browser test: ${CHROMIUM} is absent (apt-get install chromium)`,
);

const hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
const passing = ['alpha one', 'alpha two', 'beta one', 'gamma one', 'delta one'];

const conformance: Item = {
  name: 'conformance',
  status: 'failed',
  meta: { type: 'summary' },
  items: [
    {
      name: 'junit_01.xml',
      status: 'failed',
      meta: { type: 'file', file: 'results/global/junit_01.xml' },
      items: [
        {
          name: 'Kubernetes e2e suite',
          status: 'failed',
          items: [
            ...passing.map((name) => ({ name, status: 'passed' })),
            {
              name: hostile,
              status: 'failed',
              details: { failure: 'expected 1 to equal 2', 'system-out': 'log <b>not bold</b>' },
            },
            { name: 'epsilon skipped', status: 'skipped' },
          ],
        },
      ],
    },
  ],
};

const nodeLogs: Item = {
  name: 'node-logs',
  status: 'passed',
  meta: { type: 'summary' },
  items: ['node-1', 'node-2'].map((node) => ({
    name: node,
    status: 'passed',
    meta: { type: 'node' },
    items: [{ name: 'journal', status: 'passed', meta: { file: `results/${node}/journal` } }],
  })),
};

/** The run's cluster snapshot: two simulated nodes, one not ready, as the local backend writes them. */
const clusterNodes: ClusterNode[] = [
  { name: 'node-1', labels: { 'node-role.kubernetes.io/control-plane': '' } },
  {
    name: 'node-2',
    labels: {},
    taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }],
  },
];

/**
 * Browser code (a string: this project compiles without the DOM types): draws a base64 PNG on a
 * canvas and counts its pixels by exact `#rrggbb` colour.
 */
const COUNT_COLOURS = `async (b64) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  const out = {};
  for (let i = 0; i < data.length; i += 4) {
    const hex = '#' + ((1 << 24) | (data[i] << 16) | (data[i + 1] << 8) | data[i + 2]).toString(16).slice(1);
    out[hex] = (out[hex] || 0) + 1;
  }
  return out;
}`;

describe.skipIf(!haveChromium)('the HTML report in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let url: string;
  let dir: string;
  const requests: string[] = [];
  const blocked: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    dir = await tempDir('report');
    await mkdir(join(dir, 'meta'));
    await writeFile(join(dir, 'meta/info.json'), '{"plugins":["conformance","node-logs"]}');
    for (const item of [conformance, nodeLogs]) {
      await mkdir(join(dir, 'plugins', item.name), { recursive: true });
      await writeFile(join(dir, 'plugins', item.name, 'sonobuoy_results.yaml'), itemToYaml(item));
    }
    await writeNodesSnapshot(dir, clusterNodes);
    const r = await fathom(['results', dir, '--format', 'html']);
    expect(r.code).toBe(0);
    const file = join(dir, 'report.html');
    await writeFile(file, r.stdout);
    url = pathToFileURL(file).href;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('request', (req) => requests.push(req.url()));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
    await page.route('**', async (route) => {
      const target = route.request().url();
      if (target.startsWith('file:') || target.startsWith('data:')) return route.continue();
      blocked.push(target);
      return route.abort();
    });
    await page.goto(url);
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A PNG's pixels, decoded by Chromium in a blank page: exact colour counts and shares. */
  async function pixels(png: Buffer): Promise<{
    colours: number;
    count(hex: string): number;
    share(hex: string): number;
  }> {
    const blank = await browser.newPage();
    try {
      const counts = await blank.evaluate<Record<string, number>>(
        `(${COUNT_COLOURS})(${JSON.stringify(png.toString('base64'))})`,
      );
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      return {
        colours: Object.keys(counts).length,
        count: (hex) => counts[hex] ?? 0,
        share: (hex) => (counts[hex] ?? 0) / total,
      };
    } finally {
      await blank.close();
    }
  }

  const text = async (selector: string): Promise<string> =>
    ((await page.locator(selector).first().textContent()) ?? '').trim();
  const visibleRows = (): Promise<number> => page.locator('#tests tr[data-status]:visible').count();

  it('renders the summary numbers and the chart', async () => {
    expect(await text('[data-count=total] .value')).toBe('9');
    expect(await text('[data-count=passed] .value')).toBe('7');
    expect(await text('[data-count=failed] .value')).toBe('1');
    expect(await text('[data-count=skipped] .value')).toBe('1');
    expect(await page.locator('svg.chart rect').count()).toBeGreaterThan(3);
    expect(await text('#plugins tr.node td')).toBe('node-1');
    expect(await text('#shown')).toBe('Showing 9 of 9 tests');
  });

  it('shows the cluster: the server version, node counts, the not-ready node first and highlighted', async () => {
    expect(await text('#cluster strong')).toBe('v1.36.3');
    expect(await text('#cluster [data-count=ready]')).toBe('1');
    expect(await text('#cluster [data-count=not-ready]')).toBe('1');
    const rows = page.locator('#cluster tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.first().getAttribute('class')).toBe('not-ready');
    expect(await text('#cluster tr.not-ready td')).toBe('node-2');
    expect(await text('#cluster tr.not-ready td.ready')).toMatch(/^False\s*KubeletNotReady: /);
    expect(await text('#cluster tr.ready td:nth-child(4)')).toBe('control-plane');
    // Highlighted: the not-ready row has the failed background, the ready row none.
    const background = (sel: string): Promise<string> =>
      page.evaluate<string>(
        `getComputedStyle(document.querySelector(${JSON.stringify(sel)})).backgroundColor`,
      );
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await background('#cluster tr.not-ready td')).toBe('rgb(255, 235, 233)');
    expect(await background('#cluster tr.ready td')).toBe('rgba(0, 0, 0, 0)');
  });

  it('filters the tests as the user types, and by status', async () => {
    await page.fill('#search', 'alpha');
    expect(await visibleRows()).toBe(2);
    expect(await text('#shown')).toBe('Showing 2 of 9 tests');
    expect(await page.locator('details.test:visible').count()).toBe(0);
    await page.fill('#search', 'node-2');
    expect(await visibleRows()).toBe(1);
    await page.fill('#search', '');
    await page.selectOption('#status-filter', 'failed');
    expect(await visibleRows()).toBe(1);
    await page.selectOption('#status-filter', 'all');
    expect(await visibleRows()).toBe(9);
  });

  it('expands and collapses failure details on click', async () => {
    const failure = page.locator('details.test').first();
    const message = failure.locator('pre').first();
    expect(await message.isVisible()).toBe(false);
    await failure.locator('summary').click();
    expect(await message.isVisible()).toBe(true);
    expect(await message.textContent()).toBe('expected 1 to equal 2');
    expect(await failure.locator('pre').nth(1).textContent()).toBe('log <b>not bold</b>');
    await failure.locator('summary').click();
    expect(await message.isVisible()).toBe(false);
    // The failed row of the table links to its details and opens them.
    await page.locator('#tests a.name').first().click();
    // Opened by the page's hashchange handler, which runs after the click returns.
    await message.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await failure.getAttribute('open')).not.toBeNull();
  });

  it('shows a hostile test name as text and runs none of it', async () => {
    expect(await page.locator('details.test .name').first().textContent()).toBe(hostile);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('b').count()).toBe(0);
  });

  it('makes no network request and breaks no policy', () => {
    expect(blocked).toEqual([]);
    expect(requests.every((r) => r.startsWith('file:') || r.startsWith('data:'))).toBe(true);
    expect(requests).toContain(url);
    expect(problems).toEqual([]);
  });

  it('looks like a report: every failure open, a full-page picture with the chart in colour', async () => {
    await page.click('button[data-open=true]');
    const details = page.locator('details.test');
    expect(await details.count()).toBe(1);
    expect(await page.locator('details.test:not([open])').count()).toBe(0);
    expect(await page.locator('details.test pre').first().isVisible()).toBe(true);

    await page.emulateMedia({ colorScheme: 'light' }); // the colours counted below
    const shot = join(tmpdir(), 'fathom-report.png'); // kept for people to look at
    const png = await page.screenshot({ path: shot, fullPage: true });
    // The PNG header: the viewport's width, and the whole page's height.
    const height = await page.evaluate<number>('document.documentElement.scrollHeight');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, height]);
    expect(height).toBeGreaterThan(900); // the open failure and the tables run past one screen

    const page_ = await pixels(png);
    expect(page_.colours).toBeGreaterThan(50); // text, cards, badges, chart: not a blank page
    expect(page_.share('#ffffff')).toBeLessThan(0.98);

    // The chart's bars: 5 passed, 1 failed, 1 skipped of 7 in one row, then three rows of all
    // passed (node-logs and its nodes): passed:failed area 26:1, failed as wide as skipped.
    const chart = await pixels(await page.locator('svg.chart').screenshot());
    const [passed, failed, skipped] = ['#1a7f37', '#cf222e', '#9a6700'].map((c) => chart.count(c));
    expect(failed).toBeGreaterThan(100);
    expect(passed! / failed!).toBeGreaterThan(26 * 0.85);
    expect(passed! / failed!).toBeLessThan(26 * 1.15);
    expect(skipped! / failed!).toBeGreaterThan(0.85);
    expect(skipped! / failed!).toBeLessThan(1.15);
  });
});
