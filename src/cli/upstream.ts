/**
 * How a failed call to GenAuth ends the CLI: refused credentials, set-up mistakes GenAuth's answer
 * shows (a wrong namespace, a host that is not its API, a user disabled or outside genauth.tenantId's tenant) and an
 * answer past genauth.maxResponseBytes are the user's to fix (1), an outage is worth a retry (3), as
 * check-config decides.
 */
import { genauthProblem, isOutage, isOutageStatus, refusedAsNonMember, refusedUserProblem, upstreamStatus } from '../core/setup-problems.js';
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

/** The command's `genauth.maxResponseBytes`, and how its user raises it (a flag). */
export interface ResponseLimit {
  bytes: number;
  raise: string;
}

/** What the command asked GenAuth with, as far as its failures are told by it. */
export interface UpstreamSettings {
  limit: ResponseLimit;
  /** `genauth.tenantId` is set: apiCode 2120008 then points at the tenant or the user's membership (else at the user). */
  tenant: boolean;
}

/**
 * A CommandError for a failed GenAuth call, naming only the failure's kind and statuses (never an
 * upstream message, which could echo a credential).
 */
export function upstreamFailure(error: unknown, what: string, { limit, tenant }: UpstreamSettings): CommandError {
  const cause = upstreamCause(error);
  if (cause?.kind === 'credentials') {
    return new CommandError(`${what}: GenAuth refused the credentials (check GENAUTH_USER_POOL_ID, GENAUTH_ACCESS_KEY_ID, GENAUTH_ACCESS_KEY_SECRET)`, EXIT.FAILED);
  }
  // An answer about the asked user (disabled, or outside the tenant), whatever statusCode it came under:
  // asked again, it is answered again. In our words (GenAuth's text is not shown).
  if (refusedAsNonMember(cause)) return new CommandError(`${what}: ${refusedUserProblem('this user', tenant).cause}`, EXIT.FAILED);
  const problem = genauthProblem(cause);
  // A 2xx past the limit is a setting, not an outage: a retry is cut off the same way. (A 5xx or 429
  // with a long page is still an outage, below.) Told with the command's limit and how to raise it.
  if (problem?.kind === 'too_large') {
    return new CommandError(
      `${what}: GenAuth answered more than genauth.maxResponseBytes (${limit.bytes} bytes), and the read was cut off: ${limit.raise} if the user really has that many grants; otherwise check that GENAUTH_HOST is the GenAuth API`,
      EXIT.FAILED,
    );
  }
  // A mistake GenAuth's answer shows, told in our words naming the option (never its text). Outages
  // (transport trouble, a 5xx or 429, no answer at all) are check-config's too: isOutage.
  if (problem !== undefined && !isOutage(problem)) {
    return new CommandError(`${what}: ${problem.cause}`, EXIT.FAILED);
  }
  if (cause !== undefined) {
    const detail = [cause.httpStatus === undefined ? undefined : `HTTP ${cause.httpStatus}`, cause.envelopeStatus === undefined ? undefined : `statusCode ${cause.envelopeStatus}`, cause.apiCode === undefined ? undefined : `apiCode ${cause.apiCode}`]
      .filter((part) => part !== undefined)
      .join(', ');
    const { status } = upstreamStatus(cause);
    // A 4xx but 429 would be answered again: not worth a retry.
    if (status !== undefined && status >= 400 && status <= 499 && !isOutageStatus(status)) return new CommandError(`${what}: GenAuth refused the call (${cause.kind}, ${detail})`, EXIT.FAILED);
    return new CommandError(`${what}: GenAuth could not be reached (${cause.kind}${detail === '' ? '' : `, ${detail}`})`, EXIT.UNREACHABLE);
  }
  if (isGuardError(error)) return new CommandError(`${what}: ${error.code}`, error.status === 503 ? EXIT.UNREACHABLE : EXIT.FAILED);
  throw error;
}
