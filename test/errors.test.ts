import { describe, expect, it } from 'vitest';
import {
  bearerChallenge,
  GenAuthApiError,
  InvalidTokenError,
  isGuardError,
  MissingTokenError,
  PermissionDeniedError,
  PermissionsUnavailableError,
} from '../src/errors.js';
import { readEnvelope } from '../src/genauth/envelope.js';
import { problemResponse } from '../src/problem.js';

describe('errors', () => {
  it('escapes quotes and backslashes in the challenge', () => {
    expect(bearerChallenge('my "api"\\x', 'invalid_token')).toBe('Bearer realm="my \\"api\\"\\\\x", error="invalid_token"');
  });

  it.each([
    [new MissingTokenError(), 401, 'ERR_MISSING_TOKEN', 'www-authenticate', 'Bearer realm="api"'],
    [new InvalidTokenError('expired'), 401, 'ERR_INVALID_TOKEN', 'www-authenticate', 'Bearer realm="api", error="invalid_token", error_description="The token has expired"'],
    [new PermissionDeniedError('ecs:1', ['ecs:Start']), 403, 'ERR_PERMISSION_DENIED', 'www-authenticate', 'Bearer realm="api", error="insufficient_scope"'],
    [new PermissionsUnavailableError(7), 503, 'ERR_PERMISSIONS_UNAVAILABLE', 'retry-after', '7'],
  ])('%s carries status, code and header', (error, status, code, header, value) => {
    expect(isGuardError(error)).toBe(true);
    expect(error).toMatchObject({ status, statusCode: status, code, expose: status < 500 });
    expect(error.headers[header]).toBe(value);
    const answer = problemResponse(error);
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(answer.body)).toEqual({ type: 'about:blank', title: error.title, status, detail: error.message, code });
  });

  it('isGuardError refuses look-alikes', () => {
    expect(isGuardError({ code: 'ERR_MISSING_TOKEN', status: 401 })).toBe(false);
    expect(isGuardError(new Error('x'))).toBe(false);
    expect(isGuardError(null)).toBe(false);
  });

  it("an upstream error keeps GenAuth's envelope statusCode apart from any HTTP status a stock handler reads", () => {
    let error: unknown;
    try {
      readEnvelope(200, JSON.stringify({ statusCode: 401, apiCode: 2002, message: 'upstream text' }), undefined);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(GenAuthApiError);
    expect(error).toMatchObject({ kind: 'credentials', httpStatus: 200, envelopeStatus: 401, apiCode: 2002 });
    // Express's and Koa's handlers answer with `status` or `statusCode`: a 401 here would reach a client.
    expect(error).not.toHaveProperty('statusCode');
    expect(error).not.toHaveProperty('status');
  });
});
