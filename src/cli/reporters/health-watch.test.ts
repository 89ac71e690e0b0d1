import { describe, expect, it } from 'vitest';
import type {
  HealthRow,
  ResourceStatus,
  Status,
  WatchOutcome,
  WatchUpdate,
} from '../../status/index.js';
import { createWatchRenderer, eventLine, rowsOf, watchSummary } from './health-watch.js';
import { renderHealth } from './health.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function rs(
  kind: string,
  namespace: string,
  name: string,
  status: Status,
  message: string,
  error?: string,
): ResourceStatus {
  return {
    identifier: { group: kind === 'Deployment' ? 'apps' : '', kind, namespace, name },
    status,
    message,
    ...(error ? { error } : {}),
    generatedResources: [],
  };
}

const web = rs('Deployment', 'shop', 'web', 'InProgress', 'Ready: 1/2');
const webOk = rs('Deployment', 'shop', 'web', 'Current', 'Deployment is available. Replicas: 2');
const ns = rs('Namespace', '', 'shop', 'Current', 'Resource is current');

function update(
  resource: ResourceStatus,
  all: ResourceStatus[],
  aggregate: Status,
  at = T0,
): WatchUpdate {
  return {
    event: { type: 'ResourceUpdate', resource },
    at,
    observation: { lastEventType: 'ResourceUpdate', statuses: all },
    aggregate,
  };
}

function sync(all: ResourceStatus[], aggregate: Status): WatchUpdate {
  return { event: { type: 'Sync' }, at: T0, observation: { statuses: all }, aggregate };
}

function outcome(statuses: ResourceStatus[], aggregate: Status): WatchOutcome {
  return {
    end: 'reached',
    desired: 'Current',
    aggregate,
    observation: { statuses },
    pending: statuses.filter((s) => s.status !== 'Current').length,
    total: statuses.length,
    elapsedMs: 0,
  };
}

function capture(format: 'table' | 'json' | 'yaml', live: boolean, columns?: number) {
  const out: string[] = [];
  const r = createWatchRenderer({
    format,
    live,
    write: (t) => out.push(t),
    desired: 'Current',
    ...(columns ? { columns } : {}),
  });
  return { r, out };
}

describe('health --watch output', () => {
  it('prints one line per change when not on a terminal, errors of Unknown included', () => {
    expect(eventLine(T0, web)).toBe(
      '2026-01-01T12:00:00Z Deployment/shop/web InProgress Ready: 1/2',
    );
    expect(eventLine(T0 + 1500, ns)).toBe(
      '2026-01-01T12:00:01Z Namespace/shop Current Resource is current',
    );
    const denied = rs('Widget', 'shop', 'w', 'Unknown', '', 'listing widgets: Forbidden:\n  no');
    expect(eventLine(T0, denied)).toBe(
      '2026-01-01T12:00:00Z Widget/shop/w Unknown listing widgets: Forbidden: no',
    );

    const { r, out } = capture('table', false);
    r.update(update(web, [web], 'InProgress'));
    r.update({
      event: { type: 'Sync' },
      at: T0,
      observation: { statuses: [web] },
      aggregate: 'InProgress',
    });
    r.update(update(webOk, [webOk], 'Current', T0 + 2000));
    r.end(outcome([webOk], 'Current'));
    expect(out.join('')).toBe(
      '2026-01-01T12:00:00Z Deployment/shop/web InProgress Ready: 1/2\n' +
        '2026-01-01T12:00:02Z Deployment/shop/web Current Deployment is available. Replicas: 2\n',
    );
  });

  it('-o json prints one object per line, an Error event included', () => {
    const { r, out } = capture('json', true); // json ignores the terminal
    r.update(update(web, [web], 'InProgress'));
    r.update({
      event: { type: 'Error', error: new Error('cannot reach the API server') },
      at: T0,
      observation: { statuses: [web] },
      aggregate: 'InProgress',
    });
    expect(out.map((l) => JSON.parse(l) as unknown)).toEqual([
      {
        timestamp: '2026-01-01T12:00:00Z',
        type: 'status',
        group: 'apps',
        kind: 'Deployment',
        namespace: 'shop',
        name: 'web',
        status: 'InProgress',
        message: 'Ready: 1/2',
      },
      { timestamp: '2026-01-01T12:00:00Z', type: 'error', message: 'cannot reach the API server' },
    ]);
    expect(out.every((l) => l.endsWith('}\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
  });

  it('-o yaml prints one document per change', () => {
    const { r, out } = capture('yaml', false);
    r.update(update(web, [web], 'InProgress'));
    expect(out.join('')).toMatch(/^---\ntimestamp: 2026-01-01T12:00:00Z\ntype: status\n/);
  });

  it('on a terminal, draws the table once the first cycle is read, then after each event', () => {
    const { r, out } = capture('table', true);
    // The first cycle has an event per object: drawing the table after each is rows × rows.
    const statuses = {
      get statuses(): ResourceStatus[] {
        throw new Error('the first cycle read the observation');
      },
    };
    for (let i = 0; i < 3; i++)
      r.update({ ...update(web, [], 'InProgress'), observation: statuses });
    expect(out).toEqual([]);
    r.update(sync([web, ns], 'InProgress'));
    r.update(update(webOk, [webOk, ns], 'Current'));
    r.end(outcome([webOk, ns], 'Current'));
    // Colours off, cells to single spaces: the layout is the shared kubectl table's business.
    // eslint-disable-next-line no-control-regex
    const plain = out.map((t) => t.replace(/\x1b\[\d+m/g, ''));
    const cells = (t: string) => t.split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    expect(cells(plain[0]!)).toEqual([
      'NAMESPACE KIND NAME STATUS MESSAGE',
      'shop Deployment web InProgress Ready: 1/2',
      '- Namespace shop Current Resource is current',
      '',
      'InProgress: 1 of 2 object(s) Current',
      '',
    ]);
    // 5 rows drawn: go back up 5, clear, draw again.
    expect(plain[1]!.startsWith('\r\x1b[5A\x1b[J')).toBe(true);
    expect(plain[2]!.startsWith('\r\x1b[5A\x1b[J')).toBe(true);
    expect(plain[2]).toContain('Current: 2 of 2 object(s) Current\n');
  });

  it('counts wrapped rows so a narrow terminal is redrawn over the old table, not below it', () => {
    expect(rowsOf('abc\n\x1b[32mdefgh\x1b[39m\n', 4)).toBe(3);
    expect(rowsOf('abc\n\n', undefined)).toBe(2);
    const { r, out } = capture('table', true, 20);
    r.update(sync([web], 'InProgress'));
    r.update(update(web, [web], 'InProgress'));
    const firstRows = rowsOf(out[0]!, 20);
    expect(firstRows).toBeGreaterThan(4);
    expect(out[1]!.startsWith(`\r\x1b[${firstRows}A\x1b[J`)).toBe(true);
  });

  it('summarises against the desired status', () => {
    const gone = rs('Deployment', 'shop', 'web', 'NotFound', 'Resource not found');
    expect(watchSummary([gone, webOk], 'InProgress', 'NotFound')).toBe(
      'InProgress: 1 of 2 object(s) deleted',
    );
  });

  it('shows control characters in names and messages as escapes; JSON stays exact', () => {
    const evil = rs(
      'Deployment',
      'ns\x1b[2J',
      'web\x07',
      'InProgress',
      'Ready\x1b]0;x\x07\x9b:\n 1/2',
    );
    expect(eventLine(T0, evil)).toBe(
      '2026-01-01T12:00:00Z Deployment/ns\\u001b[2J/web\\u0007 InProgress Ready\\u001b]0;x\\u0007\\u009b: 1/2',
    );
    const { r, out } = capture('table', true);
    r.update(sync([evil], 'InProgress'));
    // eslint-disable-next-line no-control-regex
    const plain = out[0]!.replace(/\x1b\[\d+m/g, '');
    // eslint-disable-next-line no-control-regex
    expect(plain).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(plain).toContain('ns\\u001b[2J');

    const offline = renderHealth(
      [
        {
          apiVersion: 'v1',
          namespace: 'a\x1b[2J',
          kind: 'Pod',
          name: 'p\x9b',
          status: 'Failed',
          message: 'm\x07\tx',
        },
      ],
      'table',
    );
    // eslint-disable-next-line no-control-regex
    expect(offline.replace(/\x1b\[\d+m/g, '')).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(offline).toContain('m\\u0007\\u0009x');
    const row: HealthRow = {
      apiVersion: 'v1',
      namespace: 'a\x1b',
      kind: 'Pod',
      name: 'p',
      status: 'Failed',
      message: 'm\x07',
    };
    expect(JSON.parse(renderHealth([row], 'json'))).toEqual([row]);

    const json = capture('json', false);
    json.r.update(update(evil, [evil], 'InProgress'));
    expect((JSON.parse(json.out[0]!) as { message: string }).message).toBe(evil.message);
  });
});
