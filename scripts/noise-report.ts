/**
 * How noisy the rules are: the share of events judged HIGH or CRITICAL, on the benign corpus
 * (test/fixtures/benign/corpus.ndjson) and on any enriched NDJSON given (e.g. the output of
 * `cloudtrail-enricher run sample/ --out DIR`, re-judged from each line's own enrichment).
 *
 *   npm run rules:noise [-- [--rules FILE] [ENRICHED_DIR_OR_FILE...]]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudTrailEvent, Enrichment } from '../src/model.ts';
import { loadRuleEngine, parseRulesConfig } from '../src/5-rules/index.ts';

function files(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => files(join(path, name)));
}

const args = process.argv.slice(2);
let rulesFile: string | undefined;
const inputs: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--rules') rulesFile = args[++i];
  else inputs.push(args[i]!);
}
const engine = loadRuleEngine(parseRulesConfig({ ...process.env, ...(rulesFile ? { RULES_FILE: rulesFile } : {}) }));

function report(label: string, paths: string[]): void {
  const counts: Record<string, number> = { LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 };
  const byRule = new Map<string, number>();
  for (const file of paths) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const event = JSON.parse(line) as CloudTrailEvent & { enrichment?: Enrichment };
      const enrichment = event.enrichment ?? { version: 1, status: 'complete' };
      if (enrichment.status === 'skipped') continue;
      const verdict = engine.evaluate(event, enrichment);
      counts[verdict.priority]!++;
      if (verdict.priority === 'HIGH' || verdict.priority === 'CRITICAL') {
        for (const r of verdict.risk.reasons)
          if (r.priority === 'HIGH' || r.priority === 'CRITICAL') byRule.set(r.rule, (byRule.get(r.rule) ?? 0) + 1);
      }
    }
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const high = counts.HIGH! + counts.CRITICAL!;
  process.stdout.write(
    `${label}: ${total} events, HIGH+ ${high} (${((100 * high) / Math.max(1, total)).toFixed(2)} %) — LOW ${counts.LOW} MEDIUM ${counts.MEDIUM} HIGH ${counts.HIGH} CRITICAL ${counts.CRITICAL}\n`,
  );
  for (const [rule, n] of [...byRule].sort((a, b) => b[1] - a[1]).slice(0, 8)) process.stdout.write(`  ${rule}: ${n}\n`);
}

report('benign corpus', ['test/fixtures/benign/corpus.ndjson']);
for (const input of inputs)
  report(
    input,
    files(input).filter((f) => /\.(json|ndjson)$/.test(f)),
  );
