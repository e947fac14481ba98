// The table explain is held to: the same inputs decided by decide()/matchApi(), by the middleware over
// HTTP, and by explain. `context` is what the HTTP request supplies too (UserId from the token, SourceIp
// from the loopback socket), so each case means the same thing offline and over HTTP.
import type { Requirement } from '../../src/policy/decide.js';
import type { GrantOutcome } from '../../src/policy/explain.js';
import type { ResourceType } from '../../src/wire.js';

export interface RouteCase {
  name: string;
  entries: unknown[];
  resource: string;
  requirement: Requirement;
  resourceType?: ResourceType;
  allowed: boolean;
  /** `code:outcome` for every grant, sorted. */
  outcomes: string[];
}

export interface ApiCase {
  name: string;
  entries: unknown[];
  method: string;
  path: string;
  publicPaths?: string[];
  allowed: boolean;
  outcomes: string[];
}

/** The context explain is given; over HTTP the request carries the same facts. */
export const CONTEXT = (userId: string) => ({ UserId: userId, SourceIp: '127.0.0.1' });

const ip = (value: string) => ({ param: 'SourceIp', operator: 'IpAddress', value });
const user = (operator: string) => ({ param: 'UserId', operator, value: 'nobody' });
const missing = { param: 'TenantTier', operator: 'StringEquals', value: 'gold' };

export const ROUTE_CASES: RouteCase[] = [
  { name: 'exact ALLOW', entries: [{ resourceCode: 'ecs:1', actions: ['ecs:Start'], effect: 'ALLOW' }], resource: 'ecs:1', requirement: 'ecs:Start', allowed: true, outcomes: ['ecs:1:applies'] },
  { name: 'other code', entries: [{ resourceCode: 'ecs:2', actions: ['ecs:Start'], effect: 'ALLOW' }], resource: 'ecs:1', requirement: 'ecs:Start', allowed: false, outcomes: ['ecs:2:code_mismatch'] },
  { name: 'other action', entries: [{ resourceCode: 'ecs:1', actions: ['ecs:Stop'], effect: 'ALLOW' }], resource: 'ecs:1', requirement: 'ecs:Start', allowed: false, outcomes: ['ecs:1:action_mismatch'] },
  { name: 'ALLOW actions are case-sensitive', entries: [{ resourceCode: 'ecs:1', actions: ['ecs:start'], effect: 'ALLOW' }], resource: 'ecs:1', requirement: 'ecs:Start', allowed: false, outcomes: ['ecs:1:action_mismatch'] },
  {
    name: 'DENY overrides ALLOW, case-folded',
    entries: [{ resourceCode: 'ecs:1', actions: ['ecs:Start'], effect: 'ALLOW' }, { resourceCode: 'ecs:1', actions: ['ECS:START'], effect: 'DENY' }],
    resource: 'ecs:1', requirement: 'ecs:Start', allowed: false, outcomes: ['ecs:1:applies', 'ecs:1:overridden_by_deny'],
  },
  {
    name: 'DENY actions in another case or spelling are labelled applies, not action_mismatch',
    entries: [
      { resourceCode: 'ecs:1', actions: ['ecs:Start'], effect: 'ALLOW' },
      { resourceCode: 'ecs:1', actions: ['START'], effect: 'DENY' },
      { resourceCode: 'ecs:1', actions: ['Ecs:*'], effect: 'DENY' },
      { resourceCode: 'ecs:1', actions: ['ECS:STOP'], effect: 'DENY' },
    ],
    resource: 'ecs:1', requirement: 'ecs:Start', allowed: false, outcomes: ['ecs:1:applies', 'ecs:1:applies', 'ecs:1:action_mismatch', 'ecs:1:overridden_by_deny'],
  },
  { name: 'wildcard code *', entries: [{ resourceCode: '*', actions: ['*'], effect: 'ALLOW' }], resource: 'anything', requirement: 'x:Read', allowed: true, outcomes: ['*:applies'] },
  {
    name: 'prefix:* code with a DENY on one',
    entries: [{ resourceCode: 'disk:*', actions: ['*'], effect: 'ALLOW' }, { resourceCode: 'disk:9', actions: ['disk:Delete'], effect: 'DENY' }],
    resource: 'disk:9', requirement: 'disk:Delete', allowed: false, outcomes: ['disk:*:overridden_by_deny', 'disk:9:applies'],
  },
  {
    name: 'prefix:* code, DENY on another action',
    entries: [{ resourceCode: 'disk:*', actions: ['*'], effect: 'ALLOW' }, { resourceCode: 'disk:9', actions: ['disk:Delete'], effect: 'DENY' }],
    resource: 'disk:9', requirement: 'disk:Read', allowed: true, outcomes: ['disk:*:applies', 'disk:9:action_mismatch'],
  },
  {
    name: 'DENY code with a * segment (ecs:*:disk) applies to ecs:1:disk',
    entries: [{ resourceCode: 'ecs:*', actions: ['*'], effect: 'ALLOW' }, { resourceCode: 'ecs:*:disk', actions: ['*'], effect: 'DENY' }],
    resource: 'ecs:1:disk', requirement: 'ecs:Start', allowed: false, outcomes: ['ecs:*:overridden_by_deny', 'ecs:*:disk:applies'],
  },
  {
    name: 'ALLOW code with a * segment (ecs:*:disk) is literal',
    entries: [{ resourceCode: 'ecs:*:disk', actions: ['*'], effect: 'ALLOW' }],
    resource: 'ecs:1:disk', requirement: 'ecs:Start', allowed: false, outcomes: ['ecs:*:disk:code_mismatch'],
  },
  { name: 'action prefix ecs:*', entries: [{ resourceCode: 'ecs:1', actions: ['ecs:*'], effect: 'ALLOW' }], resource: 'ecs:1', requirement: 'ecs:Reboot', allowed: true, outcomes: ['ecs:1:applies'] },
  {
    name: 'allOf with one action missing',
    entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW' }], resource: 'r', requirement: { allOf: ['a', 'b'] }, allowed: false, outcomes: ['r:applies'],
  },
  {
    name: 'anyOf with one action allowed',
    entries: [{ resourceCode: 'r', actions: ['b'], effect: 'ALLOW' }], resource: 'r', requirement: { anyOf: ['a', 'b'] }, allowed: true, outcomes: ['r:applies'],
  },
  {
    name: 'anyOf: a DENY on one, an ALLOW on the other',
    entries: [{ resourceCode: 'r', actions: ['b'], effect: 'ALLOW' }, { resourceCode: 'r', actions: ['a'], effect: 'DENY' }],
    resource: 'r', requirement: { anyOf: ['a', 'b'] }, allowed: true, outcomes: ['r:applies', 'r:applies'],
  },
  { name: 'condition true', entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW', condition: [ip('127.0.0.0/8')] }], resource: 'r', requirement: 'a', allowed: true, outcomes: ['r:applies'] },
  { name: 'condition false', entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW', condition: [ip('10.0.0.0/8')] }], resource: 'r', requirement: 'a', allowed: false, outcomes: ['r:condition_false'] },
  { name: 'ALLOW condition unevaluable', entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW', condition: [missing] }], resource: 'r', requirement: 'a', allowed: false, outcomes: ['r:condition_unevaluable'] },
  {
    name: 'DENY condition unevaluable applies',
    entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW' }, { resourceCode: 'r', actions: ['a'], effect: 'DENY', condition: { param: 'X', operator: 'Weird', value: 1 } }],
    resource: 'r', requirement: 'a', allowed: false, outcomes: ['r:applies', 'r:overridden_by_deny'],
  },
  {
    name: 'DENY condition false does not apply',
    entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW' }, { resourceCode: 'r', actions: ['a'], effect: 'DENY', condition: [user('StringEquals')] }],
    resource: 'r', requirement: 'a', allowed: true, outcomes: ['r:applies', 'r:condition_false'],
  },
  {
    // GenAuth does not say whether several conditions are ANDed or ORed (conditions.combine, 'unknown' by default).
    name: 'DENY with one condition false and one true applies',
    entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW' }, { resourceCode: 'r', actions: ['a'], effect: 'DENY', condition: [user('StringEquals'), ip('127.0.0.0/8')] }],
    resource: 'r', requirement: 'a', allowed: false, outcomes: ['r:applies', 'r:overridden_by_deny'],
  },
  {
    name: 'DENY with every condition false does not apply',
    entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW' }, { resourceCode: 'r', actions: ['a'], effect: 'DENY', condition: [user('StringEquals'), ip('10.0.0.0/8')] }],
    resource: 'r', requirement: 'a', allowed: true, outcomes: ['r:applies', 'r:condition_false'],
  },
  { name: 'ALLOW with one condition true and one false grants nothing', entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW', condition: [ip('127.0.0.0/8'), ip('10.0.0.0/8')] }], resource: 'r', requirement: 'a', allowed: false, outcomes: ['r:condition_unevaluable'] },
  {
    name: 'missing effect counts as DENY',
    entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW' }, { resourceCode: 'r', actions: ['a'] }],
    resource: 'r', requirement: 'a', allowed: false, outcomes: ['r:applies', 'r:overridden_by_deny'],
  },
  {
    name: 'resource type asked, unknown type on the grant',
    entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW', resourceType: 'WIDGET' }], resource: 'r', requirement: 'a', resourceType: 'DATA', allowed: false, outcomes: ['r:type_mismatch'],
  },
  {
    name: 'resource type asked, a DENY of an unknown type applies (fail closed)',
    entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW', resourceType: 'DATA' }, { resourceCode: 'r', actions: ['a'], effect: 'DENY', resourceType: 'WIDGET' }],
    resource: 'r', requirement: 'a', resourceType: 'DATA', allowed: false, outcomes: ['r:applies', 'r:overridden_by_deny'],
  },
  {
    name: 'resource type asked, a DENY with no type on another action',
    entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW', resourceType: 'DATA' }, { resourceCode: 'r', actions: ['b'], effect: 'DENY' }],
    resource: 'r', requirement: 'a', resourceType: 'DATA', allowed: true, outcomes: ['r:applies', 'r:action_mismatch'],
  },
  {
    name: 'anyOf on a typed route: a DENY of an unknown type on one, an ALLOW on the other',
    entries: [{ resourceCode: 'r', actions: ['b'], effect: 'ALLOW', resourceType: 'DATA' }, { resourceCode: 'r', actions: ['a'], effect: 'DENY', resourceType: 'WIDGET' }],
    resource: 'r', requirement: { anyOf: ['a', 'b'] }, resourceType: 'DATA', allowed: true, outcomes: ['r:applies', 'r:applies'],
  },
  {
    name: 'anyOf: a DENY on one, an ALLOW on the other that is denied too',
    entries: [{ resourceCode: 'r', actions: ['b'], effect: 'ALLOW' }, { resourceCode: 'r', actions: ['a', 'b'], effect: 'DENY' }],
    resource: 'r', requirement: { anyOf: ['a', 'b'] }, allowed: false, outcomes: ['r:applies', 'r:overridden_by_deny'],
  },
  {
    name: 'resource type matches',
    entries: [{ resourceCode: 'r', actions: ['a'], effect: 'ALLOW', resourceType: 'DATA' }, { resourceCode: 'r', actions: ['a'], effect: 'DENY', resourceType: 'MENU' }],
    resource: 'r', requirement: 'a', resourceType: 'DATA', allowed: true, outcomes: ['r:applies', 'r:type_mismatch'],
  },
];

const api = (identifier: string, actions: string[], effect?: string, extra: Record<string, unknown> = {}) => ({
  resourceCode: `api:${identifier}`,
  resourceType: 'API',
  apiIdentifier: identifier,
  actions,
  ...(effect === undefined ? {} : { effect }),
  ...extra,
});

export const API_CASES: ApiCase[] = [
  { name: 'exact path GET', entries: [api('/api/users', ['read'], 'ALLOW')], method: 'GET', path: '/api/users', allowed: true, outcomes: ['api:/api/users:applies'] },
  { name: 'other path', entries: [api('/api/users', ['read'], 'ALLOW')], method: 'GET', path: '/api/orders', allowed: false, outcomes: ['api:/api/users:pattern_mismatch'] },
  { name: 'method maps to another action', entries: [api('/api/users', ['read'], 'ALLOW')], method: 'DELETE', path: '/api/users', allowed: false, outcomes: ['api:/api/users:action_mismatch'] },
  { name: 'HEAD follows GET', entries: [api('/api/users', ['read'], 'ALLOW')], method: 'HEAD', path: '/api/users', allowed: true, outcomes: ['api:/api/users:applies'] },
  { name: 'parameter and wildcard', entries: [api('/api/users/:id/*', ['update'], 'ALLOW')], method: 'PATCH', path: '/api/users/7/name', allowed: true, outcomes: ['api:/api/users/:id/*:applies'] },
  {
    name: 'DENY folds case and trailing slash',
    entries: [api('/api/*', ['*'], 'ALLOW'), api('/API/Admin', ['read'], 'DENY')],
    method: 'GET', path: '/api/admin/', allowed: false, outcomes: ['api:/API/Admin:applies', 'api:/api/*:overridden_by_deny'],
  },
  {
    // The DENY's actions in another case, or qualified: it covers the method's action, so 'applies', never 'action_mismatch'.
    name: 'DENY actions fold case and spelling (explain labels them as the matcher decides)',
    entries: [api('/api/*', ['*'], 'ALLOW'), api('/api/admin', ['READ'], 'DENY'), api('/api/admin', ['Admin:Read'], 'DENY'), api('/api/admin', ['WRITE'], 'DENY')],
    method: 'GET', path: '/api/admin', allowed: false,
    outcomes: ['api:/api/admin:applies', 'api:/api/admin:applies', 'api:/api/admin:action_mismatch', 'api:/api/*:overridden_by_deny'],
  },
  { name: 'not an API grant', entries: [{ resourceCode: 'r', actions: ['read'], effect: 'ALLOW', apiIdentifier: '/api/users' }], method: 'GET', path: '/api/users', allowed: false, outcomes: ['r:not_api'] },
  {
    name: 'a DENY of an unknown type counts as an API DENY (fail closed)',
    entries: [api('/api/*', ['read'], 'ALLOW'), { resourceCode: 'r', actions: ['read'], effect: 'DENY', resourceType: 'WIDGET', apiIdentifier: '/api/users' }],
    method: 'GET', path: '/api/users', allowed: false, outcomes: ['api:/api/*:overridden_by_deny', 'r:applies'],
  },
  {
    name: 'a DENY with no type, on another path',
    entries: [api('/api/*', ['read'], 'ALLOW'), { resourceCode: 'r', actions: ['read'], effect: 'DENY', apiIdentifier: '/api/users' }],
    method: 'GET', path: '/api/orders', allowed: true, outcomes: ['api:/api/*:applies', 'r:pattern_mismatch'],
  },
  {
    name: 'a DENY of a known other type does not count',
    entries: [api('/api/*', ['read'], 'ALLOW'), { resourceCode: 'r', actions: ['read'], effect: 'DENY', resourceType: 'DATA', apiIdentifier: '/api/users' }],
    method: 'GET', path: '/api/users', allowed: true, outcomes: ['api:/api/*:applies', 'r:not_api'],
  },
  { name: 'ALLOW condition false', entries: [api('/api/*', ['read'], 'ALLOW', { condition: [ip('10.0.0.0/8')] })], method: 'GET', path: '/api/x', allowed: false, outcomes: ['api:/api/*:condition_false'] },
  { name: 'ALLOW condition true', entries: [api('/api/*', ['read'], 'ALLOW', { condition: [ip('127.0.0.1')] })], method: 'GET', path: '/api/x', allowed: true, outcomes: ['api:/api/*:applies'] },
  {
    name: 'DENY with an unevaluable condition applies',
    entries: [api('/api/*', ['read'], 'ALLOW'), api('/api/x', ['read'], 'DENY', { condition: [missing] })],
    method: 'GET', path: '/api/x', allowed: false, outcomes: ['api:/api/*:overridden_by_deny', 'api:/api/x:applies'],
  },
  {
    name: 'DENY with one condition false and one true applies',
    entries: [api('/api/*', ['read'], 'ALLOW'), api('/api/x', ['read'], 'DENY', { condition: [ip('10.0.0.0/8'), ip('127.0.0.0/8')] })],
    method: 'GET', path: '/api/x', allowed: false, outcomes: ['api:/api/*:overridden_by_deny', 'api:/api/x:applies'],
  },
  {
    name: 'DENY with every condition false does not apply',
    entries: [api('/api/*', ['read'], 'ALLOW'), api('/api/x', ['read'], 'DENY', { condition: [ip('10.0.0.0/8'), user('StringEquals')] })],
    method: 'GET', path: '/api/x', allowed: true, outcomes: ['api:/api/*:applies', 'api:/api/x:condition_false'],
  },
  { name: 'unknown effect is a DENY', entries: [api('/api/*', ['read'], 'ALLOW'), api('/api/x', ['read'], 'MAYBE')], method: 'GET', path: '/api/x', allowed: false, outcomes: ['api:/api/*:overridden_by_deny', 'api:/api/x:applies'] },
  { name: 'unmapped method', entries: [api('/api/*', ['*'], 'ALLOW')], method: 'PROPFIND', path: '/api/x', allowed: false, outcomes: ['api:/api/*:method_unmapped'] },
  { name: 'public path', entries: [], method: 'GET', path: '/health', publicPaths: ['/health'], allowed: true, outcomes: [] },
  // ALLOW patterns and public paths match case-sensitively by default, whatever the router folds.
  { name: 'ALLOW in another case does not match', entries: [api('/api/users/*', ['read'], 'ALLOW')], method: 'GET', path: '/API/USERS/x', allowed: false, outcomes: ['api:/api/users/*:pattern_mismatch'] },
  { name: 'public path in another case is not public', entries: [], method: 'GET', path: '/HEALTH', publicPaths: ['/health'], allowed: false, outcomes: [] },
  { name: 'invalid ALLOW pattern', entries: [api('/api/x*', ['read'], 'ALLOW')], method: 'GET', path: '/api/xy', allowed: false, outcomes: ['api:/api/x*:invalid_pattern'] },
  {
    name: 'a DENY whose apiIdentifier is not a string covers every path',
    entries: [api('/api/*', ['read'], 'ALLOW'), { ...api('/x', ['read'], 'DENY'), resourceCode: 'odd', apiIdentifier: ['/x'] }],
    method: 'GET', path: '/api/y', allowed: false, outcomes: ['api:/api/*:overridden_by_deny', 'odd:applies'],
  },
  {
    name: 'an ALLOW whose apiIdentifier is not a string grants nothing',
    entries: [{ ...api('/api/y', ['read'], 'ALLOW'), resourceCode: 'odd', apiIdentifier: 42 }],
    method: 'GET', path: '/api/y', allowed: false, outcomes: ['odd:invalid_pattern'],
  },
  {
    name: 'an absolute DENY applies by its path without apiOrigin',
    entries: [api('/api/*', ['read'], 'ALLOW'), api('https://api.example.com/api/y', ['read'], 'DENY')],
    method: 'GET', path: '/api/y', allowed: false, outcomes: ['api:/api/*:overridden_by_deny', 'api:https://api.example.com/api/y:applies'],
  },
];

export type { GrantOutcome };
