import { GuardInternalError, isGuardError, type GuardError } from './errors.js';

/** A finished HTTP answer, identical on every adapter. */
export interface ProblemResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Any thrown value as a GuardError: unexpected ones become a 500 that reveals nothing. */
export function asGuardError(error: unknown): GuardError {
  return isGuardError(error) ? error : new GuardInternalError({ cause: error });
}

/**
 * The RFC 9457 `application/problem+json` answer for an error. The body holds fixed texts only: never
 * a token, a secret or upstream text.
 */
export function problemResponse(error: GuardError): ProblemResponse {
  const body = JSON.stringify({
    type: 'about:blank',
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
  });
  return {
    status: error.status,
    headers: { ...error.headers, 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
    body,
  };
}
