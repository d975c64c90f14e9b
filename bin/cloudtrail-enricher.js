#!/usr/bin/env node
// Runs the command line from the TypeScript sources through tsx (a dependency of the checkout), so the
// installed command and `npm start` execute the same code.
import { register } from 'tsx/esm/api';

register();
const [{ main }, { runFromProcess }] = await Promise.all([import('../src/entry/cli/main.ts'), import('../src/entry/cli/process.ts')]);
await runFromProcess(main);
