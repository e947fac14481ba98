/**
 * Cleartext HTTP/2 (prior knowledge) with request header blocks written byte for byte: any name case,
 * repeats, pseudo-headers missing or odd, trailers. Node's client opens the connection and the stream and
 * decodes the answer (HPACK, flow control); between it and the server, the header block of its request
 * (and of its trailers) is swapped for one encoded here, as literals that touch no HPACK table. One
 * request per connection, so nothing the client's encoder indexed is ever referred to.
 */
import http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** A header field as sent: name and value bytes exactly as given (latin1). */
export type RawField = [name: string, value: string];

export interface RawH2Request {
  /** The request's header block, pseudo-headers included, in order. */
  headers: RawField[];
  body?: string;
  /** A trailing header block (sent after the body, ending the stream). */
  trailers?: RawField[];
}

export interface H2Answer {
  /** The `:status`, or 0 when the server reset the stream or the connection instead. */
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
  /** The RST_STREAM or GOAWAY error code when the server refused the stream (1 = PROTOCOL_ERROR). */
  refused?: number;
}

const HEADERS = 0x1;
const CONTINUATION = 0x9;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PREFACE_LENGTH = 24;

/** HPACK integer (RFC 7541 section 5.1) with an `n`-bit prefix under the `flags` bits. */
function hpackInteger(value: number, n: number, flags: number): number[] {
  const max = (1 << n) - 1;
  if (value < max) return [flags | value];
  const bytes = [flags | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([Buffer.from(hpackInteger(bytes.length, 7, 0)), bytes]);
}

/** A header block of literals without indexing, new names (RFC 7541 section 6.2.2): no table is touched. */
export function encodeBlock(fields: RawField[]): Buffer {
  return Buffer.concat(fields.flatMap(([name, value]) => [Buffer.from([0x00]), hpackString(name), hpackString(value)]));
}

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/**
 * Sits between Node's client and the socket: passes every frame on, except the client's header blocks,
 * whose frames are replaced by one HEADERS frame carrying `blocks` in turn (its END_STREAM kept).
 */
class SwappingPipe extends Duplex {
  private pending = Buffer.alloc(0);
  private prefaceSeen = false;
  private skippingContinuation = false;

  constructor(
    private readonly socket: Socket,
    private readonly blocks: Buffer[],
  ) {
    super();
    socket.on('data', (chunk: Buffer) => this.push(chunk));
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    if (!this.prefaceSeen) {
      if (this.pending.length < PREFACE_LENGTH) return done();
      out.push(this.pending.subarray(0, PREFACE_LENGTH));
      this.pending = this.pending.subarray(PREFACE_LENGTH);
      this.prefaceSeen = true;
    }
    while (this.pending.length >= 9) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < 9 + length) break;
      const whole = this.pending.subarray(0, 9 + length);
      this.pending = this.pending.subarray(9 + length);
      const type = whole.readUInt8(3);
      const flags = whole.readUInt8(4);
      const stream = whole.readUInt32BE(5) & 0x7fffffff;
      if (type === HEADERS) {
        const block = this.blocks.shift();
        if (block === undefined) return done(new Error('more header blocks than given'));
        out.push(frame(HEADERS, (flags & END_STREAM) | END_HEADERS, stream, block));
        this.skippingContinuation = (flags & END_HEADERS) === 0;
      } else if (type === CONTINUATION && this.skippingContinuation) {
        this.skippingContinuation = (flags & END_HEADERS) === 0;
      } else {
        out.push(whole);
      }
    }
    if (out.length === 0) return done();
    this.socket.write(Buffer.concat(out), done);
  }

  override _final(done: () => void): void {
    this.socket.end(done);
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void): void {
    this.socket.destroy();
    done(error);
  }
}

/** Sends one request on its own connection and reads the answer, or the server's refusal of it. */
export function h2Send(port: number, request: RawH2Request, timeoutMs = 5000): Promise<H2Answer> {
  const blocks = [encodeBlock(request.headers), ...(request.trailers ? [encodeBlock(request.trailers)] : [])];
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`, {
      createConnection: () => new SwappingPipe(connect({ host: '127.0.0.1', port }), blocks) as unknown as Socket,
    });
    let settled = false;
    const finish = (answer: H2Answer | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      if (answer instanceof Error) reject(answer);
      else resolve(answer);
    };
    const timer = setTimeout(() => finish(new Error('no answer in time')), timeoutMs);
    session.on('error', () => {});
    session.on('goaway', (code: number) => finish({ status: 0, headers: {}, body: '', refused: code }));
    // Placeholders only: what reaches the server is `request.headers` (the client's block is swapped).
    // HEAD kept, so the client expects no body after the answer's content-length.
    const head = request.headers.some(([name, value]) => name === ':method' && value === 'HEAD');
    const hasBody = request.body !== undefined || request.trailers !== undefined;
    const stream = session.request({ ':method': head ? 'HEAD' : 'POST', ':path': '/' }, { endStream: !hasBody, waitForTrailers: request.trailers !== undefined });
    if (request.trailers) stream.on('wantTrailers', () => stream.sendTrailers({ 'x-placeholder': '1' }));
    if (hasBody) stream.end(request.body ?? '');
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (answer) => {
      status = Number(answer[':status']);
      headers = answer;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => {});
    stream.on('close', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (status === 0) finish({ status, headers, body, refused: stream.rstCode ?? -1 });
      else finish({ status, headers, body });
    });
  });
}
