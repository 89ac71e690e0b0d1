/**
 * `fathom results TARBALL|DIR`: what `sonobuoy results` shows (report, detailed, readable, dump)
 * from Sonobuoy's tarballs and fathom's, plus machine output, one HTML page and merged JUnit.
 * Only the declaration lives here; the work is in results-show.ts, loaded when the command runs
 * so that start-up stays small for every command.
 */
import type { Command } from 'commander';
import type { Io } from '../context.js';
import { applyFlags, type FlagSpec } from '../flags.js';
import { resultsModes, type ResultsMode } from '../reporters/results.js';

export type ResultsOutput = 'text' | 'json' | 'yaml';
export type ResultsFormat = 'text' | 'html' | 'junit';

export interface ResultsOptions {
  mode: ResultsMode;
  plugin?: string;
  node?: string;
  skipPrefix?: boolean;
  output: ResultsOutput;
  format: ResultsFormat;
  cluster?: boolean;
}

export const resultsFlags: readonly FlagSpec[] = [
  {
    flags: '-m, --mode <mode>',
    description: 'report (counts and failed tests), detailed (one line per test), readable or dump',
    choices: resultsModes,
    default: 'report',
  },
  {
    flags: '-p, --plugin <name>',
    description: 'only this plugin (default: every plugin of the run)',
  },
  {
    flags: '-n, --node <name>',
    description: 'start at the first item with this name: a node, a file or a suite',
  },
  {
    flags: '-s, --skip-prefix',
    description: 'detailed mode: print the files of file results without their path prefix',
  },
  {
    flags: '-o, --output <format>',
    description: 'text, or json/yaml for report, detailed and dump',
    choices: ['text', 'json', 'yaml'],
    default: 'text',
  },
  {
    flags: '--format <format>',
    description: 'html: one self-contained page; junit: one merged JUnit XML for CI',
    choices: ['text', 'html', 'junit'],
    default: 'text',
  },
  {
    flags: '--cluster',
    description:
      "the cluster snapshot's summary instead: server version, nodes, readiness, kubelet versions, roles, taints",
  },
];

export function registerResults(program: Command, io: Io): void {
  const cmd = program
    .command('results')
    .argument(
      '<tarball|dir>',
      'a results tarball (from `fathom retrieve` or Sonobuoy) or its extracted directory',
    )
    .description(
      "show a run's results: counts, failed tests, every test, or the raw tree (works offline)",
    )
    .action(async (path: string, options: ResultsOptions) => {
      const { showResults } = await import('./results-show.js');
      await showResults(path, options, io, cmd.getOptionValueSource('mode') === 'cli');
    });
  applyFlags(cmd, resultsFlags);
}
