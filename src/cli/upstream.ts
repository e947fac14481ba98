/** How a failed call to GenAuth ends the CLI: refused credentials are the user's to fix (1), the rest is an outage (3). */
import { GenAuthApiError, isGuardError } from '../errors.js';
import { CommandError, EXIT } from './exit-codes.js';

/** The GenAuthApiError behind a guard's 503, if any. */
function upstreamCause(error: unknown): GenAuthApiError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined; depth++) {
    if (current instanceof GenAuthApiError) return current;
    current = (current as { cause?: unknown } | null)?.cause;
  }
  return undefined;
}

/**
 * A CommandError for a failed GenAuth call, naming only the failure's kind and statuses (never an
 * upstream message, which could echo a credential).
 */
export function upstreamFailure(error: unknown, what: string): CommandError {
  const cause = upstreamCause(error);
  if (cause?.kind === 'credentials') {
    return new CommandError(`${what}: GenAuth refused the credentials (check GENAUTH_USER_POOL_ID, GENAUTH_ACCESS_KEY_ID, GENAUTH_ACCESS_KEY_SECRET)`, EXIT.FAILED);
  }
  if (cause !== undefined) {
    const detail = [cause.httpStatus === undefined ? undefined : `HTTP ${cause.httpStatus}`, cause.envelopeStatus === undefined ? undefined : `statusCode ${cause.envelopeStatus}`, cause.apiCode === undefined ? undefined : `apiCode ${cause.apiCode}`]
      .filter((part) => part !== undefined)
      .join(', ');
    return new CommandError(`${what}: GenAuth could not be reached (${cause.kind}${detail === '' ? '' : `, ${detail}`})`, EXIT.UNREACHABLE);
  }
  if (isGuardError(error)) return new CommandError(`${what}: ${error.code}`, error.status === 503 ? EXIT.UNREACHABLE : EXIT.FAILED);
  throw error;
}
