/**
 * The emulator's option checks, through the guard's helpers and in its one message format
 * (`genauth-guard: option "startEmulator.port" ...`): a wrong key or value fails before a server
 * starts or a token is signed.
 */
import { KeyObject } from 'node:crypto';
import { fail, nonEmptyString, oneOf, optionalString, positiveInteger, positiveNumber, strictObject } from '../options/checks.js';
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm, type MintAlgorithm, type MintOptions } from './mint-types.js';
import type { EmulatorOptions } from './types.js';

const EMULATOR_KEYS: ReadonlyArray<keyof EmulatorOptions> = [
  'userPoolId', 'accessKeyId', 'accessKeySecret', 'audience', 'hs256Secret', 'managementTokenTtl',
  'managementTokenPoolId', 'signatureClockSkew', 'unknownUser', 'deniedRows', 'tenantHeaders', 'nonMemberStatusCode', 'jwksAlgorithms', 'port',
];
/** The tenant headers GenAuth's SDKs send (GENAUTH-PROTOCOL 1.3); which one GenAuth reads is not documented. */
export const DEFAULT_TENANT_HEADERS: readonly string[] = ['x-authing-tenant-id', 'x-authing-app-tenant-id', 'x-genauth-tenant-id', 'x-genauth-app-tenant-id'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MINT_KEYS: ReadonlyArray<keyof MintOptions> = ['alg', 'expiresIn', 'issuer', 'audience', 'claims', 'kid', 'key', 'notBefore', 'jti', 'scope'];
const MINT_ALGORITHMS: readonly MintAlgorithm[] = ['RS256', 'HS256', 'ES256', 'PS256', 'EdDSA'];

/** `startEmulator`'s options with their defaults. */
export interface ResolvedEmulatorOptions {
  userPoolId: string;
  accessKeyId: string;
  accessKeySecret: string;
  audience: string;
  hs256Secret: string | undefined;
  managementTokenTtl: number;
  /** The management tokens' `scoped_userpool_id`; `null`: no such claim. */
  managementTokenPoolId: string | null;
  signatureClockSkew: number;
  unknownUser: 'not-found' | 'empty';
  deniedRows: 'served' | 'omitted';
  /** Lower case. */
  tenantHeaders: readonly string[];
  nonMemberStatusCode: number;
  jwksAlgorithms: readonly AsymmetricAlgorithm[];
  port: number;
}

/** `startEmulator`'s options with their defaults; throws a TypeError naming the option on a mistake. */
export function resolveEmulatorOptions(value: unknown): ResolvedEmulatorOptions {
  const input = strictObject(value, EMULATOR_KEYS, 'startEmulator') as Partial<Record<keyof EmulatorOptions, unknown>>;
  const userPoolId = optionalString(input.userPoolId, 'startEmulator.userPoolId', 'emulator-pool');
  const port = positiveInteger(input.port, 'startEmulator.port', 0, true);
  if (port > 65_535) fail('startEmulator.port', 'must be an integer from 0 to 65535');
  return {
    userPoolId,
    accessKeyId: optionalString(input.accessKeyId, 'startEmulator.accessKeyId', userPoolId),
    accessKeySecret: optionalString(input.accessKeySecret, 'startEmulator.accessKeySecret', 'emulator-secret'),
    audience: optionalString(input.audience, 'startEmulator.audience', 'emulator-app'),
    hs256Secret: optionalString(input.hs256Secret, 'startEmulator.hs256Secret'),
    managementTokenTtl: positiveNumber(input.managementTokenTtl, 'startEmulator.managementTokenTtl', 7200),
    managementTokenPoolId: input.managementTokenPoolId === null ? null : optionalString(input.managementTokenPoolId, 'startEmulator.managementTokenPoolId', userPoolId),
    signatureClockSkew: positiveNumber(input.signatureClockSkew, 'startEmulator.signatureClockSkew', 15 * 60_000, true),
    unknownUser: oneOf(input.unknownUser, ['not-found', 'empty'] as const, 'startEmulator.unknownUser', 'not-found'),
    deniedRows: oneOf(input.deniedRows, ['served', 'omitted'] as const, 'startEmulator.deniedRows', 'served'),
    tenantHeaders: tenantHeaders(input.tenantHeaders),
    nonMemberStatusCode: nonMemberStatusCode(input.nonMemberStatusCode),
    jwksAlgorithms: jwksAlgorithms(input.jwksAlgorithms),
    port,
  };
}

/** `tenantHeaders`: a non-empty array of header names, lower-cased (Node lower-cases the names it receives). */
function tenantHeaders(value: unknown): readonly string[] {
  if (value === undefined) return DEFAULT_TENANT_HEADERS;
  if (!Array.isArray(value) || value.length === 0) fail('startEmulator.tenantHeaders', 'must be a non-empty array of header names');
  return value.map((name: unknown, index) => {
    if (typeof name !== 'string' || !HEADER_NAME.test(name)) fail(`startEmulator.tenantHeaders[${index}]`, 'must be an HTTP header name');
    return name.toLowerCase();
  });
}

/**
 * `jwksAlgorithms`: distinct asymmetric algorithms, RS256 among them (GenAuth's access tokens and the
 * emulator's management tokens are RS256).
 */
function jwksAlgorithms(value: unknown): readonly AsymmetricAlgorithm[] {
  if (value === undefined) return ['RS256'];
  const problem = jwksAlgorithmsProblem(value);
  if (problem !== undefined) fail(`startEmulator.jwksAlgorithms${problem.at}`, problem.problem);
  return [...(value as AsymmetricAlgorithm[])];
}

/**
 * What is wrong with a `jwksAlgorithms` list, if anything: `at` is '' or the index (`[1]`) of the
 * item at fault. The one rule for `startEmulator.jwksAlgorithms` and the seed file's
 * `emulator.jwksAlgorithms`, each of which throws its own error.
 */
export function jwksAlgorithmsProblem(value: unknown): { at: string; problem: string } | undefined {
  const names = ASYMMETRIC_ALGORITHMS.map((alg) => `"${alg}"`).join(', ');
  if (!Array.isArray(value) || value.length === 0) return { at: '', problem: `must be a non-empty array of ${names}` };
  const wrong = value.findIndex((alg: unknown) => !ASYMMETRIC_ALGORITHMS.includes(alg as AsymmetricAlgorithm));
  if (wrong !== -1) return { at: `[${wrong}]`, problem: `must be one of ${names}` };
  if (new Set(value).size !== value.length) return { at: '', problem: 'must not name an algorithm twice' };
  if (!value.includes('RS256')) return { at: '', problem: 'must include "RS256" (GenAuth\'s access tokens and the management tokens are RS256)' };
  return undefined;
}

/** `nonMemberStatusCode`: a failure class of GenAuth's envelope (400 to 699), never 200. */
function nonMemberStatusCode(value: unknown): number {
  if (value === undefined) return 403;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 400 || value > 699) fail('startEmulator.nonMemberStatusCode', 'must be an integer from 400 to 699');
  return value;
}

/** A finite number, or `null` where the option allows leaving the claim out. */
function finiteOrNull(value: unknown, path: string): void {
  if (value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'must be a finite number or null');
}

/** Checks `mintToken`'s options (their defaults are the emulator's, filled where the token is built). */
export function checkMintOptions(value: unknown): MintOptions {
  const input = strictObject(value, MINT_KEYS, 'mintToken') as Partial<Record<keyof MintOptions, unknown>>;
  oneOf(input.alg, MINT_ALGORITHMS, 'mintToken.alg');
  if (input.expiresIn !== undefined) finiteOrNull(input.expiresIn, 'mintToken.expiresIn');
  if (input.issuer !== undefined && input.issuer !== null && typeof input.issuer !== 'string') fail('mintToken.issuer', 'must be a string or null');
  if (input.audience !== undefined && input.audience !== null) {
    const list = typeof input.audience === 'string' ? [input.audience] : input.audience;
    if (!Array.isArray(list) || list.some((entry) => typeof entry !== 'string')) fail('mintToken.audience', 'must be a string, an array of strings or null');
  }
  if (input.claims !== undefined && (typeof input.claims !== 'object' || input.claims === null || Array.isArray(input.claims))) {
    fail('mintToken.claims', 'must be an object');
  }
  if (input.kid !== undefined) nonEmptyString(input.kid, 'mintToken.kid');
  for (const name of ['jti', 'scope'] as const) {
    const claim = input[name];
    if (claim !== undefined && claim !== null && (typeof claim !== 'string' || claim === '')) fail(`mintToken.${name}`, 'must be a non-empty string or null');
  }
  if (input.notBefore !== undefined && (typeof input.notBefore !== 'number' || !Number.isFinite(input.notBefore))) {
    fail('mintToken.notBefore', 'must be a finite number (seconds since the epoch)');
  }
  if (input.key !== undefined && !(input.key instanceof Uint8Array || input.key instanceof KeyObject || isCryptoKey(input.key))) {
    fail('mintToken.key', 'must be a CryptoKey, a KeyObject or a Uint8Array');
  }
  return input as MintOptions;
}

function isCryptoKey(key: unknown): boolean {
  const CryptoKeyClass = (globalThis as { CryptoKey?: abstract new () => unknown }).CryptoKey;
  return CryptoKeyClass !== undefined && key instanceof CryptoKeyClass;
}
