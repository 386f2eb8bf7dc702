#!/usr/bin/env node
// Entry point of the `herald` command; the TypeScript sources are compiled to dist/ on install.
import { runHerald } from '../dist/main.js';

process.exitCode = await runHerald(process.argv);
