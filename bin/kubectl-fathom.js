#!/usr/bin/env node
// kubectl runs an executable named kubectl-fathom on PATH for `kubectl fathom ARGS`: the same
// CLI and exit codes as bin/fathom.js, with help naming it as it was called.
import { launch } from '../dist/cli/launch.js';

await launch('kubectl fathom');
