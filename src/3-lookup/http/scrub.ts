/**
 * One place that removes API keys from any text that may reach a log line, an error message or an output record.
 * Two layers: every known key value (raw and URL-encoded) is replaced wherever it appears, and key-bearing shapes
 * (query parameters, the IPQualityScore path segment, auth headers) are redacted even when the value is unknown.
 */
export const REDACTED = '[REDACTED]';

const PATTERNS: readonly [RegExp, string][] = [
  // ipstack `access_key=…`, AbuseIPDB `key=…` (query form), generic api_key/apikey/token query parameters.
  [/([?&](?:access_key|key|api_key|apikey|api-key|token)=)[^&#\s"'<>]*/gi, `$1${REDACTED}`],
  // IPQualityScore puts the key in the path: /api/json/ip/<key>/<ip>.
  [/(\/api\/json\/[a-z]+\/)[^/\s?#"'<>]+/gi, `$1${REDACTED}`],
  // Headers / JSON fields: `Key: …`, `apiKey: …`, "apiKey":"…", Authorization: Bearer …
  [/(\b(?:key|apikey|api[-_]key|x-api-key|access_key|authorization)\b["']?\s*[:=]\s*["']?)(?:bearer\s+)?[^\s,"'}&]+/gi, `$1${REDACTED}`],
];

/** Returns `text` with every known secret and every key-shaped value replaced by `[REDACTED]`. */
export function scrubSecrets(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  const values = new Set<string>();
  for (const s of secrets) {
    // Very short values would redact ordinary words; no real API key is that short.
    if (s.length < 6) continue;
    values.add(s);
    values.add(encodeURIComponent(s));
  }
  // Longest first, so a key that contains another key is removed whole.
  for (const v of [...values].sort((a, b) => b.length - a.length)) out = out.split(v).join(REDACTED);
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** A safe message for any thrown value: name + scrubbed message, never the cause chain (it may hold request URLs). */
export function scrubError(err: unknown, secrets: Iterable<string> = []): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const prefix = typeof code === 'string' ? `${err.name} ${code}` : err.name;
    return scrubSecrets(`${prefix}: ${err.message}`, secrets);
  }
  return scrubSecrets(String(err), secrets);
}
