/** Resolves the `conditions` group: what policy conditions are evaluated against. */
import { fail, oneOf, positiveNumber, strictObject, timerDuration } from './checks.js';
import { OPTION_KEYS } from './keys.js';
import type { ResolvedConditionOptions } from './resolved.js';
import type { ConditionOptions } from './types.js';

/** How several conditions may combine: both readings (AND and OR), AND, OR. */
const COMBINES: readonly NonNullable<ConditionOptions['combine']>[] = ['unknown', 'all', 'any'];

/** A UTC offset as ISO 8601 writes it: hours 00-23, minutes 00-59, or Z. */
const UTC_OFFSET = /^(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** `conditions` with its defaults; throws a TypeError naming the option on a mistake. */
export function resolveConditions(value: unknown): ResolvedConditionOptions {
  const input = value === undefined ? {} : strictObject(value, OPTION_KEYS.conditions, 'conditions');
  if (input.context !== undefined && typeof input.context !== 'function') fail('conditions.context', 'must be a function');
  const offset = input.timeZoneOffset;
  if (offset !== undefined && (typeof offset !== 'string' || !UTC_OFFSET.test(offset))) {
    fail('conditions.timeZoneOffset', "must be a UTC offset such as '+08:00', '-05:30' or 'Z'");
  }
  return Object.freeze({
    trustProxy: Math.floor(positiveNumber(input.trustProxy, 'conditions.trustProxy', 0, true)),
    timeZoneOffset: offset as string | undefined,
    context: input.context as ConditionOptions['context'],
    timeoutDuration: timerDuration(input.timeoutDuration, 'conditions.timeoutDuration', 5_000),
    combine: oneOf(input.combine, COMBINES, 'conditions.combine', 'unknown'),
  });
}
