/**
 * Entries that stand in for an ALLOW dropped because its upstream entry spelt a documented field twice
 * (see entry-readings.ts): such a stand-in grants nothing, and is what tells the operator (a warning
 * when the set is indexed) and `explain` (the grant's `fieldSpeltTwice` note) that the ALLOW was
 * dropped. Kept aside, by entry, so the entries and grants of usual lists are untouched.
 */

/** The documented fields whose second spelling drops an ALLOW. */
export type SpeltField = 'effect' | 'actions' | 'resourceCode' | 'resourceType' | 'apiIdentifier';

const standIns = new WeakMap<object, SpeltField>();

/** Marks `entry` as the stand-in of an ALLOW dropped for `field` spelt twice; returns it. */
export function speltTwiceStandIn<T extends object>(entry: T, field: SpeltField): T {
  standIns.set(entry, field);
  return entry;
}

/** The field an entry's dropped ALLOW spelt twice, when the entry is such a stand-in; else undefined. */
export function speltTwiceField(entry: unknown): SpeltField | undefined {
  return typeof entry === 'object' && entry !== null ? standIns.get(entry) : undefined;
}
