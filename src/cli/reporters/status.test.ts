import { describe, expect, it } from 'vitest';
import type { PluginStatusEntry, RunStatus } from '../../aggregation/types.js';
import { followRun } from './progress.js';
import { progressText, renderStatus, runFailed, summarizePlugins } from './status.js';

const entry = (
  plugin: string,
  node: string,
  status: PluginStatusEntry['status'],
  result = '',
): PluginStatusEntry => ({
  plugin,
  node,
  status,
  'result-status': result,
  'result-counts': null,
});

const status = (phase: RunStatus['status'], plugins: PluginStatusEntry[]): RunStatus => ({
  plugins,
  status: phase,
  'tar-info': { name: '', created: '', sha256: '', size: 0 },
});

describe('status reporting', () => {
  it("prints Sonobuoy's progress words, omitting a negative remainder", () => {
    const base = { name: 'p', node: 'global', timestamp: '', msg: '' };
    expect(progressText({ ...base, total: 10, completed: 4, failures: ['a'] })).toBe(
      'Passed:  4, Failed:  1, Remaining:  5',
    );
    expect(progressText({ ...base, msg: 'x', total: 1, completed: 3 })).toBe(
      'Passed:  3, Failed:  0 (x)',
    );
    expect(progressText(undefined)).toBe('');
  });

  it('counts the failures dropped to bound the progress as failed too', () => {
    const base = { name: 'p', node: 'global', timestamp: '', msg: '' };
    expect(
      progressText({
        ...base,
        total: 5000,
        completed: 1000,
        failures: ['f'],
        droppedfailures: 2999,
      }),
    ).toBe('Passed:1000, Failed:3000, Remaining:1000');
  });

  it('summarises a plugin as failed if any node failed, else running if any runs', () => {
    const rows = summarizePlugins([
      entry('ds', 'n1', 'complete', 'passed'),
      entry('ds', 'n2', 'failed', 'failed'),
      entry('job', 'global', 'running'),
      entry('ok', 'n1', 'complete', 'passed'),
      entry('ok', 'n2', 'complete', 'passed'),
    ]);
    expect(rows.map((r) => [r.plugin, r.status, r.result, r.count, r.progress])).toEqual([
      ['ds', 'failed', 'failed', 2, '2/2 nodes reported'],
      ['job', 'running', '', 1, ''],
      ['ok', 'complete', 'passed', 2, '2/2 nodes reported'],
    ]);
  });

  it('renders a table with a sentence, or the document itself as JSON', () => {
    const s = status('running', [
      entry('job', 'global', 'complete', 'passed'),
      entry('ds', 'n1', 'running'),
    ]);
    const table = renderStatus(s, 'table', { namespace: 'ns' });
    expect(table).toMatch(/PLUGIN\s+STATUS\s+RESULT\s+COUNT\s+PROGRESS/);
    expect(table).toContain('Run is running: 1 of 2 results in.');
    expect(JSON.parse(renderStatus(s, 'json', { namespace: 'ns' }))).toEqual(s);
  });

  it('calls a run failed on error results, failed verdicts or a dead aggregator', () => {
    expect(runFailed(status('complete', [entry('a', 'global', 'complete', 'passed')]))).toBe(false);
    expect(runFailed(status('complete', [entry('a', 'global', 'complete', 'failed')]))).toBe(true);
    expect(runFailed(status('complete', [entry('a', 'global', 'failed')]))).toBe(true);
    expect(runFailed(status('failed', []))).toBe(true);
  });

  it('follows a run with one plain line per change when not on a terminal', async () => {
    // eslint-disable-next-line @typescript-eslint/require-await -- an async source without real I/O
    async function* snapshots(): AsyncGenerator<RunStatus> {
      yield status('running', [entry('job', 'global', 'running')]);
      yield status('running', [entry('job', 'global', 'running')]);
      yield status('post-processing', [entry('job', 'global', 'complete')]);
      yield status('complete', [entry('job', 'global', 'complete', 'passed')]);
    }
    const lines: string[] = [];
    const last = await followRun(snapshots(), false, (l) => lines.push(l));
    expect(last?.status).toBe('complete');
    expect(lines).toEqual([
      'job global: running',
      'run: running',
      'job global: complete',
      'run: post-processing',
      'job global: complete result=passed',
      'run: complete',
    ]);
  });

  it('shows control characters from plugins, nodes and progress as escapes; JSON stays exact', async () => {
    const evil: PluginStatusEntry = {
      ...entry('p\x1b[2J', 'node\x07\ttwo', 'running'),
      progress: {
        name: 'p',
        node: 'n',
        timestamp: '',
        msg: '\x1b]0;owned\x07\x9b1m',
        total: 2,
        completed: 1,
      },
    };
    const s = status('running', [evil]);
    for (const showAll of [false, true]) {
      const table = renderStatus(s, 'table', { namespace: 'ns', showAll });
      // eslint-disable-next-line no-control-regex
      expect(table.replace(/\x1b\[\d+m/g, '')).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
      expect(table).toContain('p\\u001b[2J');
      expect(table).toContain('(\\u001b]0;owned\\u0007\\u009b1m)');
      if (showAll) expect(table).toContain('node\\u0007\\u0009two');
    }
    expect(JSON.parse(renderStatus(s, 'json', { namespace: 'ns' }))).toEqual(s);

    // eslint-disable-next-line @typescript-eslint/require-await -- an async source without real I/O
    async function* snapshots(): AsyncGenerator<RunStatus> {
      yield s;
    }
    const lines: string[] = [];
    await followRun(snapshots(), false, (l) => lines.push(l));
    expect(lines[0]).toBe(
      'p\\u001b[2J node\\u0007\\u0009two: running Passed:  1, Failed:  0, Remaining:  1 (\\u001b]0;owned\\u0007\\u009b1m)',
    );
  });
});
