import { HttpException } from '@nestjs/common';
import type { GuardError } from '../../errors.js';
import { problemResponse } from '../../problem.js';

/**
 * What the guard throws on a rejection: an `HttpException` with the problem+json object as its response,
 * so interceptors, loggers and filters see the real status.
 *
 * By default the guard has already written the answer (status, `WWW-Authenticate`/`Retry-After`,
 * problem+json body) when this is thrown (`answered: true`), and Nest's exception layer only ends the
 * response. A custom catch-all filter must then check `headersSent`. With `passErrors: true` nothing is
 * written (`answered: false`): your filter answers, using `headers` for the challenge.
 */
export class GenAuthException extends HttpException {
  /** The typed guard error (`code`, `status`, `headers`). */
  readonly error: GuardError;
  /** Headers the answer must carry (`WWW-Authenticate`, `Retry-After`, content type). */
  readonly headers: Readonly<Record<string, string>>;
  /** Whether the guard already wrote the answer. */
  readonly answered: boolean;

  constructor(error: GuardError, answered: boolean) {
    const answer = problemResponse(error);
    super(JSON.parse(answer.body) as Record<string, unknown>, answer.status, { cause: error });
    this.name = 'GenAuthException';
    this.error = error;
    this.headers = Object.freeze({ ...answer.headers });
    this.answered = answered;
  }
}
