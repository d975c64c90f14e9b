import { expect } from 'chai';
import { boolVar, CORE_CONFIG_VARIABLES, intVar, numberVar, parseCoreConfig, type Env } from '../../../src/config/core.ts';
import {
  DEFAULT_MAX_DECOMPRESSED_PER_INVOCATION,
  DEFAULT_MAX_DECOMPRESSED_PER_RECORD,
  DEFAULT_MAX_PARSED_PER_INVOCATION,
  DEFAULT_MAX_PARSED_PER_RECORD,
} from '../../../src/1-decode/limits.ts';
import { ConfigError } from '../../../src/errors.ts';

function configError(env: Env): ConfigError {
  try {
    parseCoreConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('parseCoreConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    const config = parseCoreConfig({});
    expect(config).to.deep.include({
      outputMode: 's3',
      accountAllowlist: undefined,
      maxDecompressedPerRecord: DEFAULT_MAX_DECOMPRESSED_PER_RECORD,
      maxDecompressedPerInvocation: DEFAULT_MAX_DECOMPRESSED_PER_INVOCATION,
      maxParsedPerRecord: DEFAULT_MAX_PARSED_PER_RECORD,
      maxParsedPerInvocation: DEFAULT_MAX_PARSED_PER_INVOCATION,
      reingestCallTimeoutMs: 5000,
      enrichmentBudgetFraction: 0.5,
      responseReserveMs: 2000,
      reingestMaxAttempts: 6,
      reingestBaseDelayMs: 100,
      reingestMaxDelayMs: 3000,
      layout: { format: 'native', ocsfRawData: true },
    });
  });

  it('reads the output layout (OUTPUT_FORMAT, OCSF_RAW_DATA)', () => {
    expect(parseCoreConfig({ OUTPUT_FORMAT: 'ocsf' }).layout).to.deep.equal({ format: 'ocsf', ocsfRawData: true });
    expect(parseCoreConfig({ OUTPUT_FORMAT: ' ECS ', OCSF_RAW_DATA: 'false' }).layout).to.deep.equal({ format: 'ecs', ocsfRawData: false });
    expect(configError({ OUTPUT_FORMAT: 'parquet' }).message).to.match(/^OUTPUT_FORMAT must be "native", "ocsf" or "ecs", got "parquet"/);
    expect(configError({ OCSF_RAW_DATA: 'maybe' }).message).to.match(/^OCSF_RAW_DATA must be true or false/);
  });

  it('parses to the same configuration whether a variable is unset or set to its documented default', () => {
    const documented: Record<string, string> = {};
    for (const variable of CORE_CONFIG_VARIABLES) if (variable.default !== undefined) documented[variable.name] = variable.default;
    expect(parseCoreConfig(documented)).to.deep.equal(parseCoreConfig({}));
  });

  it('documents every variable it reads with a description', () => {
    const names = CORE_CONFIG_VARIABLES.map((v) => v.name);
    expect(names).to.have.members([
      'OUTPUT_MODE',
      'ACCOUNT_ALLOWLIST',
      'MAX_DECOMPRESSED_BYTES_PER_RECORD',
      'MAX_DECOMPRESSED_BYTES_PER_INVOCATION',
      'MAX_PARSED_BYTES_PER_RECORD',
      'MAX_PARSED_BYTES_PER_INVOCATION',
      'REINGEST_CALL_TIMEOUT_MS',
      'ENRICHMENT_BUDGET_FRACTION',
      'RESPONSE_RESERVE_MS',
      'REINGEST_MAX_ATTEMPTS',
      'REINGEST_BASE_DELAY_MS',
      'REINGEST_MAX_DELAY_MS',
      'OUTPUT_FORMAT',
      'OCSF_RAW_DATA',
    ]);
    for (const v of CORE_CONFIG_VARIABLES) expect(v.description, v.name).to.be.a('string').and.not.equal('');
  });

  it('treats blank values as unset', () => {
    expect(parseCoreConfig({ OUTPUT_MODE: '  ', REINGEST_MAX_ATTEMPTS: '', ACCOUNT_ALLOWLIST: ' ' })).to.deep.equal(parseCoreConfig({}));
  });

  it('reads every variable when set', () => {
    const config = parseCoreConfig({
      OUTPUT_MODE: 'opensearch',
      ACCOUNT_ALLOWLIST: '111122223333, 444455556666,',
      MAX_DECOMPRESSED_BYTES_PER_RECORD: '2048',
      MAX_DECOMPRESSED_BYTES_PER_INVOCATION: '4096',
      ENRICHMENT_BUDGET_FRACTION: '0.25',
      RESPONSE_RESERVE_MS: '0',
      REINGEST_MAX_ATTEMPTS: '1',
      REINGEST_BASE_DELAY_MS: '5',
      REINGEST_MAX_DELAY_MS: ' 60000 ',
    });
    expect(config).to.deep.include({
      outputMode: 'opensearch',
      maxDecompressedPerRecord: 2048,
      maxDecompressedPerInvocation: 4096,
      enrichmentBudgetFraction: 0.25,
      responseReserveMs: 0,
      reingestMaxAttempts: 1,
      reingestBaseDelayMs: 5,
      reingestMaxDelayMs: 60000,
    });
    expect([...config.accountAllowlist!]).to.deep.equal(['111122223333', '444455556666']);
  });

  const invalid: [string, string][] = [
    ['OUTPUT_MODE', 'firehose'],
    ['OUTPUT_MODE', 'S3'],
    ['ACCOUNT_ALLOWLIST', '1111222233'],
    ['ACCOUNT_ALLOWLIST', '111122223333,abc'],
    ['ACCOUNT_ALLOWLIST', '111122223333;444455556666'],
    ['MAX_DECOMPRESSED_BYTES_PER_RECORD', 'lots'],
    ['MAX_DECOMPRESSED_BYTES_PER_RECORD', '1023'],
    ['MAX_DECOMPRESSED_BYTES_PER_RECORD', '1.5'],
    ['MAX_DECOMPRESSED_BYTES_PER_RECORD', String(1024 ** 3 + 1)],
    ['MAX_DECOMPRESSED_BYTES_PER_INVOCATION', '-1'],
    ['MAX_DECOMPRESSED_BYTES_PER_INVOCATION', String(4 * 1024 ** 3 + 1)],
    ['ENRICHMENT_BUDGET_FRACTION', '0.95'],
    ['ENRICHMENT_BUDGET_FRACTION', '0.01'],
    ['ENRICHMENT_BUDGET_FRACTION', 'half'],
    ['ENRICHMENT_BUDGET_FRACTION', 'Infinity'],
    ['RESPONSE_RESERVE_MS', '-5'],
    ['RESPONSE_RESERVE_MS', '60001'],
    ['REINGEST_MAX_ATTEMPTS', '0'],
    ['REINGEST_MAX_ATTEMPTS', '21'],
    ['REINGEST_MAX_ATTEMPTS', 'three'],
    ['REINGEST_BASE_DELAY_MS', '10001'],
    ['REINGEST_BASE_DELAY_MS', 'NaN'],
    ['REINGEST_MAX_DELAY_MS', '2.5'],
    ['REINGEST_MAX_DELAY_MS', '-1'],
  ];
  for (const [name, value] of invalid) {
    it(`throws a ConfigError naming ${name} for ${JSON.stringify(value)}`, () => {
      const error = configError({ [name]: value });
      expect(error.message).to.include(name);
      expect(error.name).to.equal('ConfigError');
    });
  }

  it('does not read the process environment', () => {
    const saved = process.env.OUTPUT_MODE;
    process.env.OUTPUT_MODE = 'not-a-mode';
    try {
      expect(parseCoreConfig({}).outputMode).to.equal('s3');
    } finally {
      if (saved === undefined) delete process.env.OUTPUT_MODE;
      else process.env.OUTPUT_MODE = saved;
    }
  });
});

describe('config helpers', () => {
  it('intVar returns the fallback when unset and rejects non-integers and out-of-range values', () => {
    expect(intVar({}, 'X', 7, 0, 10)).to.equal(7);
    expect(intVar({ X: '10' }, 'X', 7, 0, 10)).to.equal(10);
    expect(() => intVar({ X: '11' }, 'X', 7, 0, 10)).to.throw(ConfigError, /X must be an integer from 0 to 10/);
    expect(() => intVar({ X: '3.5' }, 'X', 7, 0, 10)).to.throw(ConfigError, /X/);
  });

  it('numberVar accepts decimals within range only', () => {
    expect(numberVar({ Y: '0.5' }, 'Y', 1, 0, 1)).to.equal(0.5);
    expect(() => numberVar({ Y: '1.01' }, 'Y', 1, 0, 1)).to.throw(ConfigError, /Y must be a number from 0 to 1/);
  });

  it('boolVar accepts true/false, 1/0 and yes/no in any case', () => {
    for (const v of ['true', 'TRUE', '1', 'yes', ' Yes ']) expect(boolVar({ Z: v }, 'Z', false), v).to.equal(true);
    for (const v of ['false', 'False', '0', 'no']) expect(boolVar({ Z: v }, 'Z', true), v).to.equal(false);
    expect(boolVar({}, 'Z', true)).to.equal(true);
    expect(() => boolVar({ Z: 'maybe' }, 'Z', true)).to.throw(ConfigError, /Z must be true or false/);
  });
});
