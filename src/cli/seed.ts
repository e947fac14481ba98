/**
 * The seed file of `genauth-guard emulator --seed` (schema: docs/seed.schema.json): checked with the
 * JSON path of every mistake (`$.users[0].grants[1].actions must be ...`), then applied through the
 * emulator's own seeding helpers, whose refusals are reported at the path of the entry they refused.
 */
import type { AsymmetricAlgorithm } from '../testing/mint-types.js';
import { jwksAlgorithmsProblem } from '../testing/options.js';
import type { AuthorizeItem, GenAuthEmulator, GrantInput, ResourceDefinition } from '../testing/types.js';
import { RESOURCE_TYPES } from '../wire.js';

export interface SeedUser {
  id: string;
  /** Namespace of `grants` and `roles`. @default 'default' */
  namespace?: string;
  /**
   * A tenant of the pool: the user is made its member and `grants` are seeded inside it (no roles,
   * groups or departments: a tenant answers its own grants only). The same id may have an entry
   * without a tenant (the pool's grants) and one per tenant. @default none (the pool)
   */
  tenant?: string;
  grants?: GrantInput[];
  roles?: string[];
  groups?: string[];
  departments?: string[];
}

export type SeedAuthorization = AuthorizeItem & { namespace?: string };

/** A checked seed file. */
export interface Seed {
  emulator?: { userPoolId?: string; accessKeyId?: string; accessKeySecret?: string; audience?: string; jwksAlgorithms?: AsymmetricAlgorithm[] };
  namespaces?: string[];
  resources?: ResourceDefinition[];
  users?: SeedUser[];
  authorizations?: SeedAuthorization[];
}

/** A seed mistake at a JSON path. */
export class SeedError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path} ${problem}`);
    this.name = 'SeedError';
  }
}

type Loose = Record<string, unknown>;

function object(value: unknown, path: string, keys: readonly string[], required: readonly string[] = []): Loose {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SeedError(path, 'must be an object');
  const record = value as Loose;
  for (const key of Object.keys(record)) {
    if (!keys.includes(key)) throw new SeedError(`${path}.${key}`, `is not a field here (fields: ${keys.join(', ')})`);
  }
  for (const key of required) if (record[key] === undefined) throw new SeedError(`${path}.${key}`, 'is required');
  return record;
}

function string(value: unknown, path: string): void {
  if (typeof value !== 'string' || value === '') throw new SeedError(path, 'must be a non-empty string');
}

function optionalString(value: unknown, path: string): void {
  if (value !== undefined) string(value, path);
}

function list(value: unknown, path: string, each: (item: unknown, path: string) => void, limits: { min?: number; max?: number } = {}): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw new SeedError(path, 'must be an array');
  if (limits.min !== undefined && value.length < limits.min) throw new SeedError(path, `must have at least ${limits.min} item(s)`);
  if (limits.max !== undefined && value.length > limits.max) throw new SeedError(path, `must have at most ${limits.max} items`);
  value.forEach((item, i) => each(item, `${path}[${i}]`));
}

function oneOf(value: unknown, allowed: readonly string[], path: string): void {
  if (value !== undefined && !allowed.includes(value as string)) throw new SeedError(path, `must be one of ${allowed.join(', ')}`);
}

function actions(value: unknown, path: string): void {
  if (!Array.isArray(value) || !value.every((a) => typeof a === 'string' && a !== '')) throw new SeedError(path, 'must be an array of non-empty strings');
}

const EFFECTS = ['ALLOW', 'DENY'];
const TARGET_TYPES = ['USER', 'ROLE', 'GROUP', 'DEPARTMENT'];

function grant(value: unknown, path: string): void {
  const g = object(value, path, ['resourceCode', 'actions', 'resourceType', 'effect', 'apiIdentifier', 'description', 'condition'], ['resourceCode', 'actions']);
  string(g.resourceCode, `${path}.resourceCode`);
  actions(g.actions, `${path}.actions`);
  oneOf(g.resourceType, RESOURCE_TYPES, `${path}.resourceType`);
  oneOf(g.effect, EFFECTS, `${path}.effect`);
  if (g.apiIdentifier !== undefined && g.apiIdentifier !== null) {
    string(g.apiIdentifier, `${path}.apiIdentifier`);
    // resourceType defaults to DATA, and API mode reads API grants only: such a grant would allow nothing.
    if (g.resourceType !== 'API') throw new SeedError(`${path}.apiIdentifier`, 'is read on API grants only (resourceType defaults to DATA): add "resourceType": "API"');
  }
  if (g.description !== undefined && typeof g.description !== 'string') throw new SeedError(`${path}.description`, 'must be a string');
  list(g.condition, `${path}.condition`, (c, p) => {
    const condition = object(c, p, ['param', 'operator', 'value'], ['param', 'operator', 'value']);
    string(condition.param, `${p}.param`);
    string(condition.operator, `${p}.operator`);
    const v = condition.value;
    if (typeof v !== 'string' && !(Array.isArray(v) && v.every((item) => typeof item === 'string'))) throw new SeedError(`${p}.value`, 'must be a string or an array of strings');
  });
}

function user(value: unknown, path: string): void {
  const u = object(value, path, ['id', 'namespace', 'tenant', 'grants', 'roles', 'groups', 'departments'], ['id']);
  string(u.id, `${path}.id`);
  optionalString(u.namespace, `${path}.namespace`);
  optionalString(u.tenant, `${path}.tenant`);
  list(u.grants, `${path}.grants`, grant);
  for (const key of ['roles', 'groups', 'departments']) {
    list(u[key], `${path}.${key}`, string);
    // The emulator answers a tenant's own grants only, as GenAuth does: memberships there would grant nothing.
    if (u.tenant !== undefined && u[key] !== undefined) {
      throw new SeedError(`${path}.${key}`, `is not read inside a tenant (a tenant answers its own grants only): put ${key} on the user's entry without "tenant"`);
    }
  }
}

function resource(value: unknown, path: string): void {
  const r = object(value, path, ['code', 'type', 'name', 'description', 'actions', 'apiIdentifier', 'namespace'], ['code', 'type']);
  string(r.code, `${path}.code`);
  oneOf(r.type, RESOURCE_TYPES, `${path}.type`);
  for (const key of ['name', 'description', 'apiIdentifier', 'namespace']) optionalString(r[key], `${path}.${key}`);
  list(r.actions, `${path}.actions`, (a, p) => {
    const action = object(a, p, ['name', 'description'], ['name']);
    string(action.name, `${p}.name`);
    if (action.description !== undefined && typeof action.description !== 'string') throw new SeedError(`${p}.description`, 'must be a string');
  });
}

function authorization(value: unknown, path: string): void {
  const a = object(value, path, ['namespace', 'targetType', 'targetIdentifiers', 'resources'], ['targetType', 'targetIdentifiers', 'resources']);
  optionalString(a.namespace, `${path}.namespace`);
  if (!TARGET_TYPES.includes(a.targetType as string)) throw new SeedError(`${path}.targetType`, `must be one of ${TARGET_TYPES.join(', ')}`);
  list(a.targetIdentifiers, `${path}.targetIdentifiers`, string, { min: 1, max: 100 });
  list(a.resources, `${path}.resources`, (r, p) => {
    const item = object(r, p, ['code', 'actions', 'resourceType', 'effect'], ['code', 'actions', 'resourceType']);
    string(item.code, `${p}.code`);
    actions(item.actions, `${p}.actions`);
    oneOf(item.resourceType, RESOURCE_TYPES, `${p}.resourceType`);
    oneOf(item.effect, EFFECTS, `${p}.effect`);
  }, { min: 1 });
}

/** `emulator.jwksAlgorithms`, by startEmulator's own rule (testing/options.ts). */
function jwksAlgorithms(value: unknown, path: string): void {
  const problem = jwksAlgorithmsProblem(value);
  if (problem !== undefined) throw new SeedError(`${path}${problem.at}`, problem.problem);
}

/** Checks a parsed seed file; throws a {@link SeedError} at the first mistake. */
export function checkSeed(value: unknown): Seed {
  const seed = object(value, '$', ['$schema', 'emulator', 'namespaces', 'resources', 'users', 'authorizations']);
  if (seed.emulator !== undefined) {
    const emulator = object(seed.emulator, '$.emulator', ['userPoolId', 'accessKeyId', 'accessKeySecret', 'audience', 'jwksAlgorithms']);
    for (const key of Object.keys(emulator)) {
      if (key === 'jwksAlgorithms') jwksAlgorithms(emulator[key], `$.emulator.${key}`);
      else string(emulator[key], `$.emulator.${key}`);
    }
  }
  list(seed.namespaces, '$.namespaces', string);
  list(seed.resources, '$.resources', resource);
  list(seed.users, '$.users', user);
  list(seed.authorizations, '$.authorizations', authorization);
  // One entry per user in the pool and per tenant: a second would replace the first's grants.
  const entries = new Set<string>();
  (seed.users as SeedUser[] | undefined)?.forEach((u, i) => {
    const key = JSON.stringify([u.id, u.tenant ?? null]);
    if (entries.has(key)) throw new SeedError(`$.users[${i}].id`, `repeats "${u.id}"${u.tenant === undefined ? '' : ` in tenant "${u.tenant}"`}`);
    entries.add(key);
  });
  const { $schema: _schema, ...rest } = seed;
  return rest as Seed;
}

/** Runs one seeding helper; its refusal (a TypeError) becomes a SeedError at `path`. */
function at(path: string, apply: () => void): void {
  try {
    apply();
  } catch (error) {
    if (error instanceof TypeError) throw new SeedError(path, `was refused: ${error.message.replace(/^emulator: /, '')}`);
    throw error;
  }
}

/** The seeded users' ids, each once, in the order of the file (a user may have an entry per tenant). */
export function seedUserIds(seed: Seed): string[] {
  return [...new Set((seed.users ?? []).map((u) => u.id))];
}

/** Seeds the emulator: namespaces, resources, users (grants and memberships), then authorizations. */
export function applySeed(emulator: GenAuthEmulator, seed: Seed): void {
  seed.namespaces?.forEach((code, i) => at(`$.namespaces[${i}]`, () => emulator.createNamespace(code)));
  seed.resources?.forEach((definition, i) => at(`$.resources[${i}]`, () => emulator.createResource(definition)));
  seed.users?.forEach((u, i) => {
    const namespace = u.namespace === undefined ? {} : { namespace: u.namespace };
    const tenant = u.tenant === undefined ? {} : { tenant: u.tenant };
    at(`$.users[${i}]`, () => {
      emulator.addUser(u.id, tenant);
      if (u.grants !== undefined) emulator.setGrants(u.id, u.grants, { ...namespace, ...tenant });
      for (const role of u.roles ?? []) emulator.assignRole(u.id, role, namespace);
      for (const group of u.groups ?? []) emulator.addToGroup(u.id, group);
      for (const department of u.departments ?? []) emulator.addToDepartment(u.id, department);
    });
  });
  seed.authorizations?.forEach(({ namespace, ...item }, i) =>
    at(`$.authorizations[${i}]`, () => void emulator.authorizeResources([item], namespace === undefined ? undefined : { namespace })),
  );
}
