// isOutage(): the one rule both CLI commands exit by (3 for an outage, 1 for a mistake), read from a
// problem's kind and status, never from its cause's words.
import { describe, expect, it } from 'vitest';
import { isOutage, type SetupProblem, type SetupProblemKind } from '../../src/core/setup-problems.js';

const problem = (kind: SetupProblemKind, status?: number): SetupProblem => ({ kind, option: 'genauth.host', cause: 'words that say nothing', ...(status === undefined ? {} : { status }) });

describe('isOutage', () => {
  it.each([
    ['unreachable', undefined, true],
    ['timeout', undefined, true],
    // No status: no answer came (a dropped connection): passing trouble.
    ['upstream', undefined, true],
    ['upstream', 503, true],
    ['upstream', 429, true],
    ['upstream', 404, false],
    ['upstream', 400, false],
    // An answer that is not the API (a 200 envelope without its list): a host to check.
    ['upstream', 200, false],
    ['key_source_status', 503, true],
    ['key_source_status', 429, true],
    ['key_source_status', 404, false],
    // Without a status the key source is asked again by check-config (an async lookup); alone, no outage is known.
    ['key_source_status', undefined, false],
    ['tls', undefined, false],
    ['credentials', undefined, false],
    ['pool_mismatch', undefined, false],
    ['namespace', undefined, false],
    ['key_source_too_large', undefined, false],
    ['too_large', undefined, false],
    // GenAuth's answer left grants out: the call has no paging, a retry likely gets it again.
    ['partial_list', undefined, false],
    // GenAuth's answer about a warm.users user (disabled): asked again, answered again.
    ['user_refused', undefined, false],
    // check-config's probe answered about its made-up user: nothing known of the credentials, a warm.users user to list.
    ['credentials_unverified', undefined, false],
    ['redis', undefined, false],
    // Redis's ACL refuses a command (NOPERM): a retry meets it again.
    ['redis_permission', undefined, false],
  ] as const)('%s with status %s: %s', (kind, status, outage) => {
    expect(isOutage(problem(kind, status))).toBe(outage);
  });
});
