import { EventEmitter, once } from 'node:events';
import { Listr } from 'listr2';
import type { PluginStatusEntry, RunStatus } from '../../aggregation/types.js';
import { visible } from '../../core/visible.js';
import { progressText, summarizePlugins } from './status.js';

type Sink = (line: string) => void;

/**
 * Follows a run until it completes: live task lines on a terminal, one plain line per change
 * otherwise (CI logs, pipes). Returns the last status.
 */
export function followRun(
  watch: AsyncIterable<RunStatus>,
  tty: boolean,
  write: Sink,
): Promise<RunStatus | undefined> {
  return tty ? followTty(watch) : followPlain(watch, write);
}

async function followPlain(
  watch: AsyncIterable<RunStatus>,
  write: Sink,
): Promise<RunStatus | undefined> {
  const seen = new Map<string, string>();
  let last: RunStatus | undefined;
  let phase = '';
  for await (const status of watch) {
    last = status;
    for (const e of status.plugins) {
      const line = entryLine(e);
      const key = `${e.plugin}/${e.node}`;
      if (seen.get(key) === line) continue;
      seen.set(key, line);
      write(line);
    }
    if (status.status !== phase) {
      phase = status.status;
      write(`run: ${phase}`);
    }
  }
  return last;
}

function entryLine(e: PluginStatusEntry): string {
  const progress = progressText(e.progress);
  const result = e['result-status'] ? ` result=${e['result-status']}` : '';
  // Plugin and node names and progress messages come over the network.
  return visible(
    `${e.plugin} ${e.node}: ${e.status}${result}${progress ? ` ${progress}` : ''}`,
    'line',
  );
}

/**
 * listr2 starts its tasks on its own schedule, so each task reads the newest status whenever it
 * runs and waits for the next one, instead of being poked from outside.
 */
async function followTty(watch: AsyncIterable<RunStatus>): Promise<RunStatus | undefined> {
  const updates = new EventEmitter();
  let last: RunStatus | undefined;
  let ended = false;
  const next = (): Promise<unknown> => (ended ? Promise.resolve() : once(updates, 'update'));
  const pluginTask = (name: string) => ({
    title: visible(name, 'line'),
    task: async (_: unknown, t: { title: string }) => {
      for (;;) {
        const s = summarizePlugins(last?.plugins ?? []).find((p) => p.plugin === name);
        if (s)
          t.title = visible(
            `${s.plugin}  ${s.status}${s.result ? ` (${s.result})` : ''}  ${s.progress}`,
            'line',
          );
        const settled = ended || last?.status === 'complete' || last?.status === 'failed';
        if (s?.status === 'complete' && (s.result !== 'failed' || settled)) {
          if (s.result === 'failed') throw new Error(t.title);
          return;
        }
        if (s?.status === 'failed' && settled) throw new Error(t.title);
        if (ended) return;
        await next();
      }
    },
  });
  const resultsTask = {
    title: 'results',
    task: async (_: unknown, t: { title: string }) => {
      for (;;) {
        if (last) t.title = `results: ${last.status}`;
        if (last?.status === 'failed')
          throw new Error('the aggregator stopped before the run finished');
        if (last?.status === 'complete' || ended) return;
        await next();
      }
    },
  };
  let list: Promise<unknown> | undefined;
  for await (const status of watch) {
    last = status;
    if (!list && (status.plugins.length || status.status !== 'running')) {
      const names = summarizePlugins(status.plugins).map((s) => s.plugin);
      list = new Listr([...names.map(pluginTask), resultsTask], {
        concurrent: true,
        exitOnError: false,
      })
        .run()
        .catch(() => undefined);
    }
    updates.emit('update');
  }
  ended = true;
  updates.emit('update');
  await list;
  return last;
}
