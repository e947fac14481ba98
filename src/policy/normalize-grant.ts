/** One upstream entry read into a {@link Grant}: effect, actions, conditions and type, failing closed. */
import { beyondAscii, foldKey } from '../key-fold.js';
import { RESOURCE_TYPES, type AuthorizedResource, type Effect, type PolicyCondition, type ResourceType } from '../wire.js';
import { foldCase } from './actions.js';
import { denyReadings, namesNoAction, widenedStars } from './deny-readings.js';
import { frozenCopy, frozenList, readOnlySet } from './read-only.js';
import { speltTwiceField, type SpeltField } from './spelt-twice.js';

/**
 * One grant, normalized and ready to match. Read-only all the way down (frozen, its Set refusing
 * writes): a grant is shared by every decision made from its set, and a cached set by every user whose
 * GenAuth list is the same, so `decision.grant` is never the app's to change. Writing to it throws.
 */
export interface Grant {
  readonly code: string;
  /**
   * Null for a type the guard does not know (or none): such an ALLOW counts only where no type is asked
   * for (never in API mode); such a DENY counts wherever a grant of any type would (fail closed).
   */
  readonly type: ResourceType | null;
  /** `ALLOW` only for a plain `ALLOW`; anything else, a missing effect included, is `DENY`. */
  readonly effect: Effect;
  /** The actions the grant covers (an unreadable or empty DENY: `['*']`; an ALLOW that grants nothing: `[]`). */
  readonly actions: readonly string[];
  readonly apiIdentifier: string | null;
  /** The conditions, all of which must hold (a single `condition` object is a list of one). */
  readonly conditions: readonly PolicyCondition[];
  /** True when the grant holds `*`. */
  readonly anyAction: boolean;
  /** Exact action names; for a DENY, every reading of its actions (see deny-readings.ts), case-folded (with `foldCase`). */
  readonly actionSet: ReadonlySet<string>;
  /** Prefixes of `<resource>:*` actions, e.g. `ecs:`; case-folded for a DENY. */
  readonly actionPrefixes: readonly string[];
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(RESOURCE_TYPES);
const ASCII_LETTERS = /^[A-Za-z]+$/;

/** What normalization had to assume about an entry (fail closed): the notes `explain` shows on a grant. */
export interface GrantNotes {
  /** The effect was missing or not `ALLOW`/`DENY`: counted as DENY. */
  readonly effectAssumed?: true;
  /** `condition` was malformed (a condition with a key but param, operator, value included): an ALLOW grants nothing, a DENY applies unconditionally. */
  readonly conditionsMalformed?: true;
  /**
   * The entry had a key other than `condition` naming a condition (`conditions`, `Condition`,
   * `policyCondition`, ...; any own key whose name holds `condition` in any case, key-fold.ts): conditions the guard does not read, so an
   * ALLOW grants nothing and a DENY applies unconditionally, as for a malformed `condition`.
   */
  readonly conditionKeyUnknown?: true;
  /**
   * The upstream entry spelt a documented field twice, in two cases (`Actions` beside `actions`,
   * `Effect` beside `effect`): it has no one meaning, so only its DENY readings count and this ALLOW,
   * one of its readings, grants nothing (its actions are `[]`). See entry-readings.ts.
   */
  readonly fieldSpeltTwice?: true;
  /** `actions` was unreadable or empty: a DENY covers every action, an ALLOW none. */
  readonly actionsUnreadable?: true;
  /**
   * `apiIdentifier` was present but not a string (a number, a list, an object): `apiIdentifier` is
   * null, and in API mode such a DENY covers every path, such an ALLOW none.
   */
  readonly apiIdentifierUnreadable?: true;
  /** A DENY's `resourceCode` was missing, empty or not a string: it covers every code (`code` is `*`). */
  readonly codeUnreadable?: true;
}

// Kept aside, and only for odd entries, so the Grant objects of the hot path keep one shape.
const notes = new WeakMap<Grant, GrantNotes>();

/** What normalization assumed about this grant's entry (fail closed), or undefined when nothing. */
export function grantNotes(grant: Grant): GrantNotes | undefined {
  return notes.get(grant);
}

const NO_CONDITIONS: readonly PolicyCondition[] = Object.freeze([]);

/**
 * `actions` is documented as an array; a JSON-encoded string is accepted too. Returns the non-empty
 * action names, or null when the value is unreadable.
 */
function readActions(value: unknown): string[] | null {
  let list = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (!Array.isArray(list) || !list.every((a) => typeof a === 'string')) return null;
  return list.includes('') ? list.filter((a) => a !== '') : (list as string[]);
}

/** The type an entry's `resourceType` field counts as: one the guard knows, in any case, else null. */
export function readResourceType(value: unknown): ResourceType | null {
  // Any case of ASCII letters only: upper-casing other text is wider than a case-insensitive match ('apı' would read as API).
  const type = typeof value === 'string' && ASCII_LETTERS.test(value) ? value.toUpperCase() : '';
  return KNOWN_TYPES.has(type) ? (type as ResourceType) : null;
}

/** The effect an entry's `effect` field counts as. */
export function readEffect(value: unknown): Effect {
  // Only a plain ALLOW allows. Anything else, a missing effect included (GenAuth marks it required),
  // is treated as DENY: fail closed.
  return typeof value === 'string' && value.toUpperCase() === 'ALLOW' ? 'ALLOW' : 'DENY';
}

/**
 * An object with no key but `param`, `operator` and `value` (GenAuth's PolicyCondition). Any other key
 * (`negate`, `ifExists`, `Value` beside `value`) may change what the condition means: such a condition
 * cannot be read, so the grant's conditions are malformed (an ALLOW grants nothing, a DENY applies).
 */
function isConditionObject(value: unknown): value is PolicyCondition {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const key in value) if (Object.hasOwn(value, key) && key !== 'param' && key !== 'operator' && key !== 'value') return false;
  return true;
}

/**
 * `condition` is documented as an array; GenAuth's own example shows one object. Absent, null or `[]`:
 * no conditions; one object: a list of one; a list of objects: itself. Anything else (a string, a
 * number, a list holding a non-object, a condition with another key) is malformed: null. The grant index and normalization both read
 * conditions through here, so the index's `hasConditions` never disagrees with a grant's conditions.
 */
export function readConditions(value: unknown): readonly PolicyCondition[] | null {
  if (value === undefined || value === null) return NO_CONDITIONS;
  if (Array.isArray(value)) {
    if (value.length === 0) return NO_CONDITIONS;
    return value.every(isConditionObject) ? value : null;
  }
  return isConditionObject(value) ? [value] : null;
}

/** Without the `u` flag, `i` folds ASCII letters only: no dotless ı or long ſ stands for `i` or `s`. */
const CONDITION_WORD = /condition/i;

/** A key GenAuth documents for an entry (compared one by one: cheaper than a Set for JSON.parse's internalized keys). */
function documentedKey(key: string): boolean {
  return (
    key === 'resourceCode' || key === 'actions' || key === 'effect' || key === 'condition' || key === 'resourceType' || key === 'apiIdentifier' || key === 'description'
  );
}

/**
 * The entry's first own key, other than `condition`, whose name holds `condition` in any case
 * (`conditions`, `Condition`, `policyCondition`, `conditionList`, `condıtion`: see key-fold.ts),
 * whatever its value; else undefined.
 * GenAuth documents conditions under `condition` only: what such a key holds cannot be evaluated, so
 * the entry is read as carrying conditions the guard does not understand (protocol notes: deny them).
 * Run once per entry when a grant set is indexed, never per request (about 15 ns an entry).
 */
export function strayConditionKey(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  for (const key in entry) {
    if (documentedKey(key) || !(CONDITION_WORD.test(key) || (beyondAscii(key) && CONDITION_WORD.test(foldKey(key))))) continue;
    if (Object.hasOwn(entry, key)) return key;
  }
  return undefined;
}

/** The entry's `resourceCode` when it is a non-empty string, else null. */
function readableCode(entry: AuthorizedResource): string | null {
  const code = entry.resourceCode as unknown;
  return typeof code === 'string' && code !== '' ? code : null;
}

/**
 * The code an entry is indexed and matched by: its `resourceCode` when that is a non-empty string.
 * An entry (an object, not a list) that is not a plain ALLOW and whose code cannot be read (missing,
 * null, empty, not a string) is a DENY of unknown scope: `*`, every code (fail closed; API mode matches
 * it by its `apiIdentifier` as any DENY). Null, skipped: such an ALLOW, and anything that is no entry.
 */
export function usableCode(entry: AuthorizedResource): string | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return null;
  return readableCode(entry) ?? (readEffect(entry.effect) === 'DENY' ? '*' : null);
}

const ANY_ACTION: readonly string[] = Object.freeze(['*']);
const NO_ACTIONS: readonly string[] = Object.freeze([]);

/** The action part of a grant, which grants with the same effect and actions can share. */
type ActionShape = Pick<Grant, 'actions' | 'anyAction' | 'actionSet' | 'actionPrefixes'>;

/**
 * Shapes already built for a grant list, by effect and actions: a list where many grants name the same
 * actions (a role's grants usually do) holds one Set and one prefix list for them, not one per grant.
 */
export type ActionShapes = Map<string, ActionShape>;

/**
 * `*:*`, `*:*:*`, ...: GenAuth's documented spellings of "all" (protocol notes §3.9). A DENY written so
 * covers every code or action; an ALLOW is not widened: it keeps the literal reading (`*:` as a prefix).
 */
export function isAllStars(text: string): boolean {
  return /^\*(?::\*)+$/.test(text);
}

/**
 * The names a grant's actions are matched by: an ALLOW's as written; a DENY's every way each may be
 * meant (trimmed, split at commas, a `*` inside a segment widened: see deny-readings.ts).
 */
function matchedActions(actions: readonly string[], deny: boolean): readonly string[] {
  if (!deny) return actions;
  const names: string[] = [];
  for (const action of actions) for (const reading of denyReadings(action)) names.push(widenedStars(reading));
  return names;
}

/** Built once per shape, read-only (see {@link Grant}): copies, so the entry's own array is never frozen. */
function actionShape(actions: readonly string[], deny: boolean): ActionShape {
  const exact: string[] = [];
  const prefixes: string[] = [];
  let anyAction = false;
  for (const action of matchedActions(actions, deny)) {
    if (action === '*' || (deny && isAllStars(action))) anyAction = true;
    else if (action.endsWith(':*') && action.length > 2) prefixes.push(deny ? foldCase(action.slice(0, -1)) : action.slice(0, -1));
    else exact.push(deny ? foldCase(action) : action);
  }
  return { actions: frozenList(actions), anyAction, actionSet: readOnlySet(exact), actionPrefixes: Object.freeze(prefixes) };
}

/** The shape from `shapes` when one with this effect and these actions was built, else a new one (kept there). */
function sharedShape(actions: readonly string[], deny: boolean, shapes: ActionShapes | undefined): ActionShape {
  if (shapes === undefined) return actionShape(actions, deny);
  const key = (deny ? 'D' : 'A') + JSON.stringify(actions);
  let shape = shapes.get(key);
  if (shape === undefined) shapes.set(key, (shape = actionShape(actions, deny)));
  return shape;
}

/**
 * Normalizes one upstream entry; returns null for an entry with no usable resource code (see
 * {@link usableCode}: a DENY whose code cannot be read covers every code). `shapes`,
 * when given, lets grants of one list share their action sets (see {@link ActionShapes}).
 * `conditionKey` is the entry's {@link strayConditionKey}, and `speltTwice` its {@link speltTwiceField},
 * when the caller has read them already.
 */
export function normalizeGrant(
  entry: AuthorizedResource,
  shapes?: ActionShapes,
  conditionKey: string | undefined = strayConditionKey(entry),
  speltTwice: SpeltField | undefined = speltTwiceField(entry),
): Grant | null {
  const code = usableCode(entry);
  if (code === null) return null;
  const effect = readEffect(entry.effect);
  const deny = effect === 'DENY';
  let conditions = readConditions(entry.condition);
  let actions: readonly string[] | null = readActions(entry.actions);
  const malformed = conditions === null;
  const keyUnknown = conditionKey !== undefined;
  // The stand-in of an ALLOW dropped for a field spelt twice (entry-readings.ts): it grants nothing.
  const spelt = speltTwice !== undefined && !deny;
  // A DENY whose every action may be read as blank names no action (as an empty list).
  if (deny && actions !== null && namesNoAction(actions)) actions = [];
  const unreadable = actions === null || actions.length === 0;
  if (conditions === null || keyUnknown || spelt) {
    // Conditions it cannot read (malformed, or under a key it does not know), or an entry with no one
    // meaning (a field spelt twice): an ALLOW grants nothing,
    // a DENY applies whatever they meant (unconditionally, its readable `condition` too: how the two
    // combine is unknown).
    conditions = NO_CONDITIONS;
    if (!deny) actions = NO_ACTIONS;
  }
  // A DENY that names no readable action denies every action on its code; such an ALLOW grants nothing.
  if (actions === null || actions.length === 0) actions = deny ? ANY_ACTION : NO_ACTIONS;
  const shape = sharedShape(actions, deny, shapes);
  // Absent (undefined, null) or empty: no identifier. Present but not a string: unreadable (noted).
  const identifier = entry.apiIdentifier as unknown;
  const identifierUnreadable = identifier !== undefined && identifier !== null && typeof identifier !== 'string';
  // Frozen with its conditions copied (the entry's own objects are left as they are): see Grant.
  const grant: Grant = Object.freeze({
    code,
    type: readResourceType(entry.resourceType),
    effect,
    actions: shape.actions,
    apiIdentifier: typeof entry.apiIdentifier === 'string' && entry.apiIdentifier !== '' ? entry.apiIdentifier : null,
    conditions: conditions.length === 0 ? NO_CONDITIONS : frozenCopy(conditions),
    anyAction: shape.anyAction,
    actionSet: shape.actionSet,
    actionPrefixes: shape.actionPrefixes,
  });
  // usableCode stood in `*` for a DENY's code it could not read.
  const codeUnreadable = code !== entry.resourceCode;
  if (!entryNamesEffect(entry.effect) || malformed || keyUnknown || spelt || unreadable || identifierUnreadable || codeUnreadable) {
    const note: { -readonly [K in keyof GrantNotes]: GrantNotes[K] } = {};
    if (!entryNamesEffect(entry.effect)) note.effectAssumed = true;
    if (malformed) note.conditionsMalformed = true;
    if (keyUnknown) note.conditionKeyUnknown = true;
    if (spelt) note.fieldSpeltTwice = true;
    if (unreadable) note.actionsUnreadable = true;
    if (identifierUnreadable) note.apiIdentifierUnreadable = true;
    if (codeUnreadable) note.codeUnreadable = true;
    notes.set(grant, note);
  }
  return grant;
}

function entryNamesEffect(value: unknown): boolean {
  return typeof value === 'string' && (value.toUpperCase() === 'ALLOW' || value.toUpperCase() === 'DENY');
}
