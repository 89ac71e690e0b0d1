/**
 * How `fathom health --watch` prints: on a terminal, a table drawn once the first poll cycle is
 * read, then redrawn in place after every event;
 * otherwise one line per status change (`<time> <Kind>/<ns>/<name> <Status> <message>`), or one
 * JSON object per line (`-o json`), or one YAML document per change (`-o yaml`).
 */
import type {
  ResourceStatus,
  Status,
  WatchOutcome,
  WatchUpdate,
  DesiredStatus,
} from '../../status/index.js';
import { visible } from '../../core/visible.js';
import { statusColours } from './health.js';
import { createRedraw, type Redraw } from './redraw.js';
import { kubectlTable, renderData, type OutputFormat } from './status.js';

export interface WatchRendererOptions {
  readonly format: OutputFormat;
  /** A terminal: the table format redraws in place instead of printing lines. */
  readonly live: boolean;
  readonly write: (text: string) => void;
  /** The terminal's width, to know how many rows a long line wraps to when redrawing. */
  readonly columns?: number;
  /** What the summary under the table counts toward. */
  readonly desired: DesiredStatus;
}

/** Receives the watch's updates and its end, and prints them. */
export interface WatchRenderer {
  update(update: WatchUpdate): void;
  end(outcome: WatchOutcome): void;
}

/** RFC 3339 in UTC, to the second. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `Kind/namespace/name`, or `Kind/name` for a cluster-scoped object. */
export function objectRef(s: ResourceStatus): string {
  const id = s.identifier;
  const ref = id.namespace ? `${id.kind}/${id.namespace}/${id.name}` : `${id.kind}/${id.name}`;
  return visible(ref, 'line');
}

/** The message to show: kstatus's, or the read error of an Unknown status, on one line. */
function messageOf(s: ResourceStatus): string {
  // Messages and errors come from the cluster: no raw control characters.
  return visible((s.message || s.error || '').replace(/\s*\n\s*/g, ' '), 'line');
}

/** One status change as a line: `<time> <Kind>/<ns>/<name> <Status> <message>`. */
export function eventLine(at: number, s: ResourceStatus): string {
  const message = messageOf(s);
  return `${formatTime(at)} ${objectRef(s)} ${s.status}${message ? ` ${message}` : ''}`;
}

/** One status change as data (kstatus's `status -o json` keys, plus `error`). */
export function eventRecord(at: number, s: ResourceStatus): Record<string, string> {
  return {
    timestamp: formatTime(at),
    type: 'status',
    group: s.identifier.group,
    kind: s.identifier.kind,
    namespace: s.identifier.namespace,
    name: s.identifier.name,
    status: s.status,
    message: s.message,
    ...(s.error ? { error: s.error } : {}),
  };
}

const desiredWord: Record<DesiredStatus, string> = { Current: 'Current', NotFound: 'deleted' };

/** The line under the table: the aggregate verdict and how many objects are where they should be. */
export function watchSummary(
  statuses: readonly ResourceStatus[],
  aggregate: Status,
  desired: DesiredStatus,
): string {
  const done = statuses.filter((s) => s.status === desired).length;
  return `${aggregate}: ${done} of ${statuses.length} object(s) ${desiredWord[desired]}`;
}

/** Names from the cluster, one line each: no raw control characters. */
const cell = (x: string): string => visible(x, 'line');

/** The table of every object's latest status, with the summary under it. */
export function watchTable(
  statuses: readonly ResourceStatus[],
  aggregate: Status,
  desired: DesiredStatus,
): string {
  const table = kubectlTable(['NAMESPACE', 'KIND', 'NAME', 'STATUS', 'MESSAGE']);
  for (const s of statuses) {
    const colour = statusColours[s.status] ?? ((x: string) => x);
    const id = s.identifier;
    table.push([
      cell(id.namespace) || '-',
      cell(id.kind),
      cell(id.name),
      colour(s.status),
      messageOf(s),
    ]);
  }
  const colour = statusColours[aggregate] ?? ((x: string) => x);
  return `${table.toString()}\n\n${colour(watchSummary(statuses, aggregate, desired))}\n`;
}

export { rowsOf } from './redraw.js';

class Renderer implements WatchRenderer {
  #synced = false;
  readonly #redraw: Redraw;

  constructor(readonly options: WatchRendererOptions) {
    this.#redraw = createRedraw(options.write, options.columns);
  }

  update(u: WatchUpdate): void {
    const { format, live, write } = this.options;
    const e = u.event;
    if (format === 'table' && live) {
      // The first cycle reports every object: one table once it is read, not one per object.
      if (e.type === 'Sync') this.#synced = true;
      if (e.type !== 'Error' && this.#synced) this.#draw(u.observation.statuses, u.aggregate);
      return;
    }
    if (e.type === 'Sync') return;
    if (e.type === 'Error') {
      // The message also ends the command on stderr; machine output gets it in-band too.
      if (format !== 'table')
        this.#data({ timestamp: formatTime(u.at), type: 'error', message: e.error.message });
      return;
    }
    if (format === 'table') write(`${eventLine(u.at, e.resource)}\n`);
    else this.#data(eventRecord(u.at, e.resource));
  }

  end(outcome: WatchOutcome): void {
    if (this.options.format === 'table' && this.options.live) {
      this.#draw(outcome.observation.statuses, outcome.aggregate);
    }
  }

  #data(value: Record<string, string>): void {
    const { format, write } = this.options;
    if (format === 'json') write(`${JSON.stringify(value)}\n`);
    else write(`---\n${renderData(value, 'yaml')}`);
  }

  #draw(statuses: readonly ResourceStatus[], aggregate: Status): void {
    this.#redraw.draw(watchTable(statuses, aggregate, this.options.desired));
  }
}

/** A renderer for one watch. */
export function createWatchRenderer(options: WatchRendererOptions): WatchRenderer {
  return new Renderer(options);
}
