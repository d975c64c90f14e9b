/**
 * Types for the generated ajv standalone validator next to this file (validate-rules-schema.js, written by
 * `npm run build:rules`). Hand-written and deliberately narrow, so nothing at runtime or in types depends on ajv.
 */

/** The fields of an ajv `ErrorObject` that src/5-rules/validate.ts reads. */
export interface RulesSchemaError {
  keyword: string;
  /** JSON pointer to the failing value, `''` for the document itself. */
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message?: string;
}

export interface RulesSchemaValidateFunction {
  (data: unknown): boolean;
  /** Errors of the last failed call (ajv stops at the first failing keyword); null after a successful call. */
  errors?: RulesSchemaError[] | null;
}

export declare const validate: RulesSchemaValidateFunction;
export default validate;
