/**
 * Stand-alone entry for `npm run rules:test -- …` / `npm run rules:validate -- …` /
 * `npm run rules:compile -- FILE.yaml` (see ./cli.ts).
 * The only process-touching line of the rules CLI lives here.
 */
import { runRulesCli } from './rules.ts';

process.exitCode = runRulesCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
