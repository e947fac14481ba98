/** Resolves the `conditions` group: what policy conditions are evaluated against. */
import { fail, positiveNumber, strictObject } from './checks.js';
import { OPTION_KEYS } from './keys.js';
import type { ResolvedConditionOptions } from './resolved.js';
import type { ConditionOptions } from './types.js';

/** `conditions` with its defaults; throws a TypeError naming the option on a mistake. */
export function resolveConditions(value: unknown): ResolvedConditionOptions {
  const input = value === undefined ? {} : strictObject(value, OPTION_KEYS.conditions, 'conditions');
  if (input.context !== undefined && typeof input.context !== 'function') fail('conditions.context', 'must be a function');
  return Object.freeze({
    trustProxy: Math.floor(positiveNumber(input.trustProxy, 'conditions.trustProxy', 0, true)),
    context: input.context as ConditionOptions['context'],
  });
}
