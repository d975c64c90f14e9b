#!/usr/bin/env node
// Runs the command line from the TypeScript sources through tsx (a dependency of the checkout), so the
// installed command and `npm start` execute the same code.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/entry/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
