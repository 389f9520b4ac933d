/**
 * Errors the CLI reports as one line with exit code 2 (bad flags, missing files, bad
 * values), as opposed to invalid scenarios (exit 1, every problem listed).
 *
 * @module
 */

/** A usage problem: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Exit codes. */
export const EXIT_OK = 0;
/** An invalid scenario, or a validation that found problems. */
export const EXIT_INVALID = 1;
/** Bad command line: unknown flag, missing file, bad value. */
export const EXIT_USAGE = 2;
/** A bug in cvmsim. */
export const EXIT_INTERNAL = 70;
/** Stopped by Ctrl-C (128 + SIGINT), after writing the report so far. */
export const EXIT_INTERRUPTED = 130;
