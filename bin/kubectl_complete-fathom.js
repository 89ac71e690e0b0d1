#!/usr/bin/env node
// kubectl (≥ 1.26) completes `kubectl fathom ARGS` by running kubectl_complete-fathom from PATH
// with ARGS and the word at the cursor; it answers in cobra's __complete protocol.
import { launchKubectlCompletion } from '../dist/cli/launch.js';

await launchKubectlCompletion(process.argv.slice(2));
