/** Child process of body-cap.test.ts: one provider request through gotFetch with a capped heap; prints the outcome and peak RSS. */
import { gotFetch } from '../../../src/3-lookup/http/resilient-client.ts';

const url = process.argv[2]!;
const outcome = await gotFetch({ url, timeoutMs: 30_000, signal: new AbortController().signal }).then(
  (res) => ({ ok: true, status: res.status, bodyLength: res.body.length }),
  (err: Error) => ({ ok: false, error: `${err.name}: ${err.message}` }),
);
console.log(JSON.stringify({ ...outcome, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
process.exit(0);
