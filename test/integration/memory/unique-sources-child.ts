/**
 * Child process of unique-sources.test.ts and `npm run unique-sources`: one case, heap capped by the parent
 * (`--max-old-space-size=700`), one JSON line on stdout.
 *   node --max-old-space-size=700 --expose-gc --import tsx test/integration/memory/unique-sources-child.ts <unique> <4|6|64> <remainingMs> [reserveMs] [enrichmentBudgetFraction]
 */
import { runUniqueSourcesCase, type AddressFamily } from './unique-sources-case.ts';

const [unique, version, remainingMs, reserveMs, fraction] = process.argv.slice(2);
const result = await runUniqueSourcesCase({
  unique: Number(unique ?? 30_000),
  version: (version ?? '4') as AddressFamily,
  remainingMs: Number(remainingMs ?? 30_000),
  ...(reserveMs !== undefined ? { responseReserveMs: Number(reserveMs) } : {}),
  ...(fraction !== undefined ? { extraEnv: { ENRICHMENT_BUDGET_FRACTION: fraction } } : {}),
});
console.log(JSON.stringify(result));
process.exit(0);
