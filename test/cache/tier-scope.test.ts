import { describe, expect, it } from 'vitest';
import { scopeToken, type TierScope } from '../../src/cache/redis/keys.js';

// The shared tier's scope: guards whose GenAuth answers may differ never share a scope token.

const pool: TierScope = { userPoolId: 'pool', tenantId: undefined, namespace: 'default', userIdType: 'user_id', resourceType: undefined };
const tenant = (tenantHeader: string | undefined): TierScope => ({ ...pool, tenantId: 't1', tenantHeader });

describe('scopeToken and the tenant header', () => {
  it('without a tenant the header plays no part, and the token is as before', () => {
    expect(scopeToken(pool)).toBe('pool::default:user_id:*');
    expect(scopeToken({ ...pool, tenantHeader: 'x-authing-tenant-id' })).toBe('pool::default:user_id:*');
  });

  it.each([
    ['x-authing-tenant-id', 'x-authing-app-tenant-id'],
    ['x-authing-tenant-id', 'x-tenant-id'],
    ['x-authing-tenant-id', 'x-genauth-tenant-id'],
  ])('one tenant sent in %s and in %s: two scopes', (a, b) => {
    expect(scopeToken(tenant(a))).not.toBe(scopeToken(tenant(b)));
  });

  it('header names differing only in case are one scope (HTTP reads them alike)', () => {
    expect(scopeToken(tenant('X-Authing-Tenant-Id'))).toBe(scopeToken(tenant('x-authing-tenant-id')));
  });

  it('a tenant never shares the scope of the pool, nor of another tenant', () => {
    expect(scopeToken(tenant('x-authing-tenant-id'))).not.toBe(scopeToken(pool));
    expect(scopeToken(tenant('x-authing-tenant-id'))).not.toBe(scopeToken({ ...pool, tenantId: 't2', tenantHeader: 'x-authing-tenant-id' }));
  });
});
