// Child process of the benchmark: peak RSS of the *bundled* handler (as deployed, no tsx) processing Firehose
// events read from a file, with re-ingestion going to a loopback Firehose endpoint that accepts everything.
// Usage: node bench/rss-bundle.mjs <bundle.mjs> <events.json>
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';

const [bundle, eventsFile] = process.argv.slice(2);
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const { Records } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ FailedPutCount: 0, Encrypted: false, RequestResponses: Records.map((_, i) => ({ RecordId: String(i) })) }));
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
process.env.AWS_ENDPOINT_URL_FIREHOSE = `http://127.0.0.1:${server.address().port}`;
const { handler } = await import(bundle);
const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
for (const event of events) await handler(event, { getRemainingTimeInMillis: () => 60_000 });
console.log(JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024 }));
server.closeAllConnections();
server.close();
