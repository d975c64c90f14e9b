/**
 * The loopback providers in their own process (so their CPU is not charged to the code under test), for
 * the latency measurement of the benchmark. Prints the base URL, serves until stdin closes.
 */
import { startProviders } from './providers.ts';

const providers = await startProviders(Number(process.argv[2] ?? 50));
process.stdout.write(`${providers.server.baseUrl}\n`);
process.stdin.resume();
process.stdin.on('end', () => void providers.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void providers.close().then(() => process.exit(0)));
