#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { launch } from '../dist/cli/launch.js';

await launch('fathom');
