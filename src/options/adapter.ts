/** An adapter's options: the guard's keys plus the adapter's own, split apart. */
import { optionObject, refuseUnknownKeys } from './checks.js';
import { GROUP_KEYS, OPTION_KEYS } from './keys.js';
import type { GuardOptions } from './types.js';

/**
 * Checks an adapter's options: the guard's keys plus `adapterKeys`, nothing else. Returns the guard's
 * part (for resolveOptions) and the adapter's own part, unchecked beyond its keys.
 * @throws TypeError naming the option, as every option check.
 */
export function splitAdapterOptions<K extends string>(
  value: unknown,
  adapterKeys: readonly K[],
): { guard: GuardOptions; own: Partial<Record<K, unknown>> } {
  const input = optionObject(value, 'options');
  refuseUnknownKeys(input, [...OPTION_KEYS.guard, ...adapterKeys], '', GROUP_KEYS);
  const guard: Record<string, unknown> = {};
  const own: Partial<Record<K, unknown>> = {};
  for (const [key, entry] of Object.entries(input)) {
    if ((adapterKeys as readonly string[]).includes(key)) own[key as K] = entry;
    else guard[key] = entry;
  }
  return { guard: guard as unknown as GuardOptions, own };
}
