/** A command given the wrong arguments (a missing --key, a path that does not exist): exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A command that failed after it started (files that do not validate, a save the server refused):
 * exit code 1. Each line is printed as it is, prefixed with `herald: `.
 */
export class CommandFailure extends Error {
  readonly lines: readonly string[];

  constructor(lines: readonly string[]) {
    super(lines.join('\n'));
    this.name = 'CommandFailure';
    this.lines = lines;
  }
}
