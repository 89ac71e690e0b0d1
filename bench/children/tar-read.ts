/**
 * Bench child: one cold read of a tarball in a fresh process, as `fathom results` makes one:
 * loading the reader's modules, then file → gunzip → parse, every entry's bytes taken.
 * argv: <hand|tar> <file>. Sends `done` with the ms from before the imports to the end.
 */
export type TarReadChildMessage =
  { type: 'done'; ms: number; entries: number } | { type: 'error'; message: string };

const send = (m: TarReadChildMessage): void => void process.send?.(m);

async function main(): Promise<void> {
  const [which, file] = process.argv.slice(2) as ['hand' | 'tar', string];
  const t0 = performance.now();
  const { createReadStream } = await import('node:fs');
  const { Writable } = await import('node:stream');
  const { pipeline } = await import('node:stream/promises');
  const { createGunzip } = await import('node:zlib');
  let entries = 0;
  let sink: InstanceType<typeof Writable>;
  if (which === 'hand') {
    const { TarReader } = await import('../lib/tarstream.js');
    const reader = new TarReader({
      entry: () => (entries++, true),
      data: () => undefined,
      end: () => undefined,
    });
    sink = new Writable({
      write: (c: Buffer, _e, cb) => (reader.ended || reader.write(c), cb()),
      final: (cb) => (reader.end(), cb()),
    });
  } else {
    const { Parser } = await import('tar');
    const parser = new Parser({
      strict: true,
      onReadEntry: (e) => {
        entries++;
        e.on('data', () => undefined);
      },
    });
    sink = new Writable({
      write: (c: Buffer, _e, cb) => (parser.write(c) ? cb() : parser.once('drain', () => cb())),
      final: (cb) => {
        parser.once('end', () => cb());
        parser.end();
      },
    });
  }
  await pipeline(createReadStream(file), createGunzip(), sink);
  send({ type: 'done', ms: performance.now() - t0, entries });
}

main().catch((err: unknown) =>
  send({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
);
