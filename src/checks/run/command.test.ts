import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { runCheck } from './index.js';
import type { RunOutcome } from './types.js';

const node = process.execPath;

function run(
  instance: Record<string, unknown>,
  clock = new ManualClock(),
  timeoutMs = 60_000,
  signal = new AbortController().signal,
): Promise<RunOutcome> {
  return runCheck('command', instance, { clock, signal, timeoutMs });
}

describe('command runner', () => {
  it.each([
    [0, 'ok'],
    [1, 'warning'],
    [2, 'critical'],
    [3, 'unknown'],
    [42, 'unknown'],
  ] as const)('exit %i is %s (Nagios)', async (code, status) => {
    const out = await run({
      command: [
        node,
        '-e',
        `console.log("first"); console.log("state ${code}\\n"); process.exit(${code})`,
      ],
    });
    expect(out.status).toBe(status);
    expect(out.message).toBe(`state ${code}`);
    expect(out.metrics.exit_code).toBe(code);
  });

  it('keeps max_output_bytes of a flood, counts the rest, and still says its last line', async () => {
    const script = `
      const chunk = 'x'.repeat(65536) + '\\n';
      for (let i = 0; i < 32; i++) process.stdout.write(chunk);
      process.stdout.write('the end\\n');
      process.exitCode = 2;`;
    const out = await run({ command: [node, '-e', script], max_output_bytes: 1000 });
    expect(out.status).toBe('critical');
    expect(out.metrics.output_bytes).toBe(1000);
    expect(out.metrics.output_dropped_bytes).toBe(32 * 65537 + 'the end\n'.length - 1000);
    expect(out.message).toBe('the end');
  });

  it('is critical when output_regex does not match, ok when it does', async () => {
    const cmd = [node, '-e', 'console.log("disk 42% used")'];
    expect((await run({ command: cmd, output_regex: '^disk \\d+%' })).status).toBe('ok');
    const bad = await run({ command: cmd, output_regex: 'healthy' });
    expect(bad.status).toBe('critical');
    expect(bad.message).toBe('output does not match /healthy/: disk 42% used');
  });

  it('escapes control characters and bounds the message', async () => {
    const out = await run({
      command: [node, '-e', 'process.stdout.write("\\x1b[31mred\\x07 " + "y".repeat(2000))'],
    });
    expect(out.message.startsWith('\\x1b[31mred\\x07 yyy')).toBe(true);
    expect(out.message.length).toBe(500);
    expect(out.message.endsWith('…')).toBe(true);
  });

  it('a program that cannot be started is unknown', async () => {
    const out = await run({ command: ['/nonexistent/fathom-check'] });
    expect(out.status).toBe('unknown');
    expect(out.message).toMatch(/^cannot run \/nonexistent\/fathom-check: .*ENOENT/);
  });

  it('kills the whole process group at the timeout and is critical', async () => {
    // The grandchild connects here: its socket closing proves the kill reached it.
    const sockets: Socket[] = [];
    let connected!: () => void;
    const connection = new Promise<void>((r) => (connected = r));
    const server = createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
      connected();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const grandchild = `require("net").connect(${port}, "127.0.0.1"); setInterval(() => {}, 1e6)`;
    const leader = `require("child_process").spawn(process.execPath, ["-e", ${JSON.stringify(grandchild)}], { stdio: "inherit" }); setInterval(() => {}, 1e6)`;
    const clock = new ManualClock();
    const outcome = run({ command: [node, '-e', leader] }, clock, 5000);
    await connection;
    await clock.whenSleeping(1);
    const closed = new Promise<void>((r) => sockets[0]!.on('close', () => r()));
    await clock.advance(5000);
    expect(await outcome).toEqual({
      status: 'critical',
      message: 'timed out after 5s',
      metrics: {},
    });
    await closed;
    server.close();
  });
});
