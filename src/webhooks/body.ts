/**
 * Reading a webhook body: `{ eventName, data }` as JSON, or form-encoded with `eventName` and `data`
 * as a JSON string (GenAuth's `contentType` setting). Raw bytes are preferred; a body a framework
 * already parsed (a JSON object, or the fields of a form) is read the same way. A body with no one
 * reading is refused as GenAuth's answers are (see genauth/duplicate-keys.ts): bytes, or a form
 * field's percent-escapes, that are not UTF-8 (a lossy decoding gives distinct bytes one U+FFFD), a
 * JSON text naming a key twice in one object (`JSON.parse` keeps the last), a form field the receiver
 * reads given twice. What a framework parsed before the receiver saw it is read as it left it.
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
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) return isObject(body) ? fields(body) : { status: 400 };
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
  const { eventName } = body;
  if (eventName !== undefined && (typeof eventName !== 'string' || eventName === '' || eventName.length > MAX_EVENT_NAME)) {
    return { status: 400 };
  }
  let data = body.data;
  if (typeof data === 'string') {
    data = parseUnambiguousJson(data);
    if (data === undefined) return { status: 400 };
  }
  if (data === undefined || data === null) data = {};
  if (!isObject(data)) return { status: 400 };
  return { eventName, data };
}
