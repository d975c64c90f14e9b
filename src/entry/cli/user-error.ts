/**
 * A mistake of the person running the command (a bad option, a path that does not exist, an output directory
 * run may not write): printed as one line with the cause and the fix, exit code 2, no stack trace.
 */
export class UserError extends Error {
  constructor(
    message: string,
    /** Append "see `cloudtrail-enricher <command> --help`" to the line. */
    readonly helpFor?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Exit codes of every command (SPEC): 0 ok, 1 some data failed, 2 usage or configuration error, 130 interrupted. */
export const EXIT = { ok: 0, dataFailed: 1, usage: 2, interrupted: 130 } as const;
