#!/usr/bin/env node
// Entry point of the `herald` command; the TypeScript sources are compiled to dist/ on install.
import { runCli } from '../dist/cli/cli.js';

process.exitCode = await runCli(process.argv);
