/**
 * API keys: from SSM Parameter Store (SecureString, decrypted) or Secrets Manager through Powertools parameters,
 * which caches each value for `maxAge` seconds and fetches it again afterwards (a rotated key is picked up without a
 * cold start). `P_API_KEY_PARAM=secretsmanager:<secret id>[#<json field>]` selects Secrets Manager; anything else is
 * an SSM parameter name. A plain `P_API_KEY` is for local runs. Key values never appear in a log line or an error.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Result } from '../model.ts';
import type { LookupConfig, ProviderName } from './config.ts';
import { scrubError } from './http/scrub.ts';

export const SECRETS_MANAGER_PREFIX = 'secretsmanager:';

/** Resolves the key of one provider; the error text names where the key was expected, never a value. */
export type KeyResolver = (provider: ProviderName) => Promise<Result<string, string>>;

/** The narrow interfaces we need from the Powertools providers (injectable in tests). */
export interface ParameterGetter {
  get(name: string, options: { maxAge: number; decrypt?: boolean }): Promise<unknown>;
}

export interface KeyResolverDeps {
  ssm?: SSMClient;
  secretsManager?: SecretsManagerClient;
  /** Overrides the Powertools providers themselves. */
  ssmProvider?: ParameterGetter;
  secretsProvider?: ParameterGetter;
}

export function parseKeyParam(param: string): { store: 'ssm'; name: string } | { store: 'secretsmanager'; id: string; field?: string } {
  if (!param.startsWith(SECRETS_MANAGER_PREFIX)) return { store: 'ssm', name: param };
  const rest = param.slice(SECRETS_MANAGER_PREFIX.length);
  const hash = rest.lastIndexOf('#');
  return hash > 0
    ? { store: 'secretsmanager', id: rest.slice(0, hash), field: rest.slice(hash + 1) }
    : { store: 'secretsmanager', id: rest };
}

function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return undefined;
}

export function createKeyResolver(config: LookupConfig, deps: KeyResolverDeps = {}): KeyResolver {
  let ssm: ParameterGetter | undefined = deps.ssmProvider;
  let secrets: ParameterGetter | undefined = deps.secretsProvider;
  // Created on first use (only when a key is stored there), never at import time: the Powertools providers and
  // their SDK clients are loaded only then, which keeps them out of the cold start of containers that do not need them.
  const ssmProvider = async (): Promise<ParameterGetter> => {
    if (ssm === undefined) {
      const { SSMProvider } = await import('@aws-lambda-powertools/parameters/ssm');
      ssm ??= new SSMProvider(deps.ssm !== undefined ? { awsSdkV3Client: deps.ssm } : {}) as unknown as ParameterGetter;
    }
    return ssm;
  };
  const secretsProvider = async (): Promise<ParameterGetter> => {
    if (secrets === undefined) {
      const { SecretsProvider } = await import('@aws-lambda-powertools/parameters/secrets');
      secrets ??= new SecretsProvider(
        deps.secretsManager !== undefined ? { awsSdkV3Client: deps.secretsManager } : {},
      ) as unknown as ParameterGetter;
    }
    return secrets;
  };
  const maxAge = config.apiKeyMaxAgeSeconds;

  return async (provider) => {
    const p = config.providers[provider];
    if (p.apiKey !== undefined) return { ok: true, value: p.apiKey };
    if (p.apiKeyParam === undefined) return { ok: false, error: `${provider}: no API key configured` };
    const ref = parseKeyParam(p.apiKeyParam);
    const where = ref.store === 'ssm' ? `SSM parameter ${ref.name}` : `secret ${ref.id}${ref.field !== undefined ? `#${ref.field}` : ''}`;
    try {
      let value: string | undefined;
      if (ref.store === 'ssm') {
        value = asText(await (await ssmProvider()).get(ref.name, { decrypt: true, maxAge }));
      } else {
        const raw = asText(await (await secretsProvider()).get(ref.id, { maxAge }));
        if (raw !== undefined && ref.field !== undefined) {
          let obj: unknown;
          try {
            obj = JSON.parse(raw);
          } catch {
            return { ok: false, error: `${provider}: ${where} is not JSON, cannot read field ${ref.field}` };
          }
          const f = typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[ref.field] : undefined;
          value = typeof f === 'string' ? f : undefined;
        } else {
          value = raw;
        }
      }
      value = value?.trim();
      if (value === undefined || value === '') return { ok: false, error: `${provider}: ${where} is empty or not a string` };
      return { ok: true, value };
    } catch (err) {
      // The SDK error names the parameter and the failure (AccessDenied, ParameterNotFound), never the value.
      return { ok: false, error: `${provider}: cannot read ${where}: ${scrubError(err)}` };
    }
  };
}
