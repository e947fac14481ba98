/**
 * Reading a webhook body: `{ eventName, data }` as JSON, or form-encoded with `eventName` and `data`
 * as a JSON string (GenAuth's `contentType` setting). Raw bytes are preferred; a body a framework
 * already parsed (a JSON object, or the fields of a form) is read the same way. A body with no one
 * reading is refused as GenAuth's answers are (see genauth/duplicate-keys.ts): bytes, or a form
 * field's percent-escapes, that are not UTF-8 (a lossy decoding gives distinct bytes one U+FFFD), a
 * JSON text naming a key twice in one object (`JSON.parse` keeps the last), a form field the receiver
 * reads given twice.
 *
 * A parsed body is held to what the raw path would have read: a content type the raw path takes, a
 * plain object all the way down holding only what JSON can (plain objects and arrays, strings, finite
 * numbers, booleans, null; own enumerable data properties; no prototype but `Object.prototype`, none
 * or an empty one), and, for a form, `eventName` and `data` as the strings a form carries (qs's `data[user]=...`
 * brackets make an object, which the raw path never reads as `data`). What a parser already decided
 * cannot be checked: which of two equal keys it kept, how it decoded bytes that are not UTF-8.
 */
import { parseUnambiguousJson } from '../genauth/duplicate-keys.js';

/** A body as it reaches the receiver. */
export type WebhookBody = Uint8Array | string | Record<string, unknown>;

/** A readable event (`eventName` undefined: a body without one, e.g. GenAuth's debug "test event"). */
export interface ParsedEvent {
  eventName: string | undefined;
  data: Record<string, unknown>;
}

/** The body could not be read: 400 (malformed) or 415 (a content type or encoding the receiver does not take). */
export interface BodyProblem {
  status: 400 | 415;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_EVENT_NAME = 200;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The media type, lower-cased, without parameters; '' when absent. */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function isJson(type: string): boolean {
  return type === '' || type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

const FORM = 'application/x-www-form-urlencoded';

/** Parses a body of the given `content-type`. */
export function parseWebhookBody(contentType: string | undefined, body: WebhookBody): ParsedEvent | BodyProblem {
  const type = mediaType(contentType);
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) return parsedFields(type, body);
  let text: string;
  try {
    text = typeof body === 'string' ? body : strictUtf8.decode(body);
  } catch {
    return { status: 400 };
  }
  if (type === FORM) return formFields(text);
  if (!isJson(type)) return { status: 415 };
  const value = parseUnambiguousJson(text);
  return isObject(value) ? fields(value) : { status: 400 };
}

/** The event of a body a framework parsed, held to what the raw path reads (see the top of this file). */
function parsedFields(type: string, body: unknown): ParsedEvent | BodyProblem {
  if (type !== FORM && !isJson(type)) return { status: 415 };
  if (!isObject(body) || !plainJson(body)) return { status: 400 };
  if (type === FORM && !['eventName', 'data'].every((name) => !Object.hasOwn(body, name) || typeof body[name] === 'string')) return { status: 400 };
  return fields(body);
}

/**
 * True when `root` is what `JSON.parse` could have made: plain objects (prototype `Object.prototype`,
 * none, or empty ones; own enumerable data properties named by strings) and arrays (no holes), strings, finite
 * numbers, booleans and null, each object reached once. Walked without recursion.
 */
function plainJson(root: unknown): boolean {
  const pending: unknown[] = [root];
  const seen = new WeakSet<object>();
  while (pending.length > 0) {
    const value = pending.pop();
    if (value === null || typeof value === 'string' || typeof value === 'boolean') continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return false;
      continue;
    }
    if (typeof value !== 'object' || seen.has(value)) return false;
    seen.add(value);
    const proto: unknown = Object.getPrototypeOf(value);
    if (Array.isArray(value)) {
      if (proto !== Array.prototype) return false;
      for (let i = 0; i < value.length; i++) {
        if (!Object.hasOwn(value, i)) return false;
        pending.push(value[i]);
      }
      continue;
    }
    if (!emptyPrototypes(proto)) return false;
    for (const key of Reflect.ownKeys(value)) {
      const property = Object.getOwnPropertyDescriptor(value, key);
      if (typeof key !== 'string' || property === undefined || !property.enumerable || !('value' in property)) return false;
      pending.push(property.value);
    }
  }
  return true;
}

/**
 * True when a plain object's prototype chain gives it nothing of its own making: `Object.prototype`,
 * none, or prototypes holding no property at all (fast-querystring's, Fastify's form parser, is an
 * empty object without a prototype).
 */
function emptyPrototypes(proto: unknown): boolean {
  for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (typeof p !== 'object' || Reflect.ownKeys(p as object).length > 0) return false;
  }
  return true;
}

/** A form name or value decoded: `+` is a space, percent-escapes must be UTF-8 (else it throws a URIError). */
const formDecode = (text: string): string => decodeURIComponent(text.replaceAll('+', ' '));

/**
 * `eventName` and `data` of a form body; each at most once. Split as `URLSearchParams` splits, but
 * strictly: `URLSearchParams` decodes percent-escapes that are not UTF-8 to U+FFFD and keeps a
 * malformed one (`%zz`) as written, and either is refused here.
 */
function formFields(text: string): ParsedEvent | BodyProblem {
  const body: Record<string, unknown> = {};
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = formDecode(equals === -1 ? pair : pair.slice(0, equals));
      value = equals === -1 ? '' : formDecode(pair.slice(equals + 1));
    } catch {
      return { status: 400 };
    }
    if (name !== 'eventName' && name !== 'data') continue;
    if (Object.hasOwn(body, name)) return { status: 400 };
    body[name] = value;
  }
  return fields(body);
}

/**
 * The event of a body's fields. `data` may be an object, or the JSON text of one (a form field);
 * absent or null reads as `{}`. A present `eventName` must be a short non-empty string.
 */
function fields(body: Record<string, unknown>): ParsedEvent | BodyProblem {
  // Own fields only: nothing is read from a prototype.
  const eventName = Object.hasOwn(body, 'eventName') ? body.eventName : undefined;
  if (eventName !== undefined && (typeof eventName !== 'string' || eventName === '' || eventName.length > MAX_EVENT_NAME)) {
    return { status: 400 };
  }
  let data = Object.hasOwn(body, 'data') ? body.data : undefined;
  if (typeof data === 'string') {
    data = parseUnambiguousJson(data);
    if (data === undefined) return { status: 400 };
  }
  if (data === undefined || data === null) data = {};
  if (!isObject(data)) return { status: 400 };
  return { eventName, data };
}
