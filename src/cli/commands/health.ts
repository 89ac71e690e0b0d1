import type { Command } from 'commander';
import { FathomError } from '../../core/errors.js';
import type { FreshGuard, HealthRow } from '../../status/index.js';
import type { Io } from '../context.js';
import { applyFlags, outputFlag } from '../flags.js';
import type { OutputFormat } from '../reporters/status.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

interface HealthOptions {
  filename?: string[];
  recursive?: boolean;
  rules?: string[];
  freshGuard: FreshGuard;
  output: OutputFormat;
}

/** `fathom health -f`: kstatus's verdict for objects that carry their status. */
export function registerHealth(program: Command, io: Io): void {
  const cmd = program
    .command('health')
    .description(
      'tell how ready each object is (kstatus rules): Current, InProgress, Failed, Terminating, NotFound or Unknown',
    )
    .option(
      '-f, --filename <file|dir|->',
      'objects with their status, e.g. from `kubectl get -o yaml` (repeatable; - = stdin)',
      collect,
    )
    .option('-R, --recursive', 'read directories recursively')
    .option('--rules <file>', 'CEL readiness rules for custom resources (repeatable)', collect)
    .option(
      '--fresh-guard <mode>',
      'a custom resource without status is not Current: off, status or ready',
      'off',
    )
    .action(async (options: HealthOptions) => {
      if (!options.filename?.length) {
        throw new FathomError(
          'FATHOM_USAGE',
          'health needs -f FILE|DIR|- (objects that carry their status)',
        );
      }
      if (!['off', 'status', 'ready'].includes(options.freshGuard)) {
        throw new FathomError(
          'FATHOM_BAD_FLAG_VALUE',
          `--fresh-guard must be off, status or ready, not "${options.freshGuard}"`,
        );
      }
      const [status, { renderHealth }] = await Promise.all([
        import('../../status/index.js'),
        import('../reporters/health.js'),
      ]);
      const rules = options.rules?.length
        ? await status.loadReadinessRules(options.rules)
        : undefined;
      const objects = status.readManifests(options.filename, {
        stdin: io.stdin,
        recursive: options.recursive ?? false,
      });
      // Rows stream out of the parser; all are read before printing so bad input prints nothing.
      const rows: HealthRow[] = [];
      for await (const row of status.healthRows(objects, {
        freshGuard: options.freshGuard,
        ...(rules ? { rules } : {}),
      })) {
        rows.push(row);
      }
      io.out(renderHealth(rows, options.output));
      const notCurrent = rows.filter((r) => r.status !== 'Current').length;
      if (notCurrent) {
        throw new FathomError(
          'FATHOM_NOT_READY',
          `${notCurrent} of ${rows.length} object(s) are not Current`,
        );
      }
    });
  applyFlags(cmd, [outputFlag]);
}
