/**
 * Reading a webhook body: `{ eventName, data }` as JSON, or form-encoded with `eventName` and `data`
 * as a JSON string (GenAuth's `contentType` setting). Raw bytes are preferred; a body a framework
 * already parsed (a JSON object, or the fields of a form) is read the same way.
 */

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
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { status: 400 };
  }
  return isObject(value) ? fields(value) : { status: 400 };
}

/** `eventName` and `data` of a form body; each at most once. */
function formFields(text: string): ParsedEvent | BodyProblem {
  const params = new URLSearchParams(text);
  if (params.getAll('eventName').length > 1 || params.getAll('data').length > 1) return { status: 400 };
  const body: Record<string, unknown> = {};
  const eventName = params.get('eventName');
  const data = params.get('data');
  if (eventName !== null) body.eventName = eventName;
  if (data !== null) body.data = data;
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
    try {
      data = JSON.parse(data);
    } catch {
      return { status: 400 };
    }
  }
  if (data === undefined || data === null) data = {};
  if (!isObject(data)) return { status: 400 };
  return { eventName, data };
}
