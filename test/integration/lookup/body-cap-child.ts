/** Child process of body-cap.test.ts: one provider request through gotFetch with a capped heap; prints the outcome and peak RSS. */
import { gotFetch } from '../../../src/3-lookup/http/resilient-client.ts';

const url = process.argv[2]!;
// Sampled here: getrusage's maxRSS can carry the parent's high-water mark across fork/exec on Linux.
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
const outcome = await gotFetch({ url, timeoutMs: 30_000, signal: new AbortController().signal }).then(
  (res) => ({ ok: true, status: res.status, bodyLength: res.body.length }),
  (err: Error) => ({ ok: false, error: `${err.name}: ${err.message}` }),
);
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
console.log(JSON.stringify({ ...outcome, maxRssMb: peakRss / 1048576 }));
process.exit(0);
