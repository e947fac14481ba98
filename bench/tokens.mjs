// Never-seen tokens under a JWKS: 10,000 distinct RS256 and 10,000 distinct ES256 tokens, each
// verified once, by the guard (`authenticate()`: bearer, signature, claims, identity, token cache) and by
// jose alone (`jwtVerify` with `createRemoteJWKSet`, the same options). One process, no HTTP: the
// HTTP rows cannot separate a few microseconds per request from the machine's drift.
//
// Paired passes: package and jose alternate, the order swapped each pair, so both sides of a pair see
// the same machine; the ratio of a pair is jose's time over the package's, and the report gives each
// pair and the median. Every pass uses a fresh guard (its token cache empty: no token was seen) and a
// fresh jose key set, each warmed by two tokens outside the timing (the first loads the key set).
// Every token is checked: a refusal or a wrong user fails the run.
import { constants, createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { createServer } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createGuard } from '../dist/index.js';
import { startEmulator } from '../dist/testing.js';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 10_000);
const PAIRS = Number(process.env.BENCH_TOKEN_PAIRS ?? 5);
const ISSUER = 'https://issuer.bench.local/';
const AUDIENCE = 'https://api.bench.local';

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const KEYS = {
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
};
const SIGN = {
  RS256: (key, data) => sign('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }),
  ES256: (key, data) => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }),
};
const jwks = Object.entries(KEYS).map(([alg, { publicKey }]) => ({ ...publicKey.export({ format: 'jwk' }), kid: `bench-${alg}`, alg, use: 'sig' }));

// The key set, as an identity provider serves it. Each fetch on its own connection: a kept-alive one
// can be closed by the server just as the next pass reuses it ("fetch failed").
const keyServer = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ keys: jwks })));
await new Promise((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
const jwksUri = `http://127.0.0.1:${keyServer.address().port}/jwks.json`;
const emulator = await startEmulator();

/** `count` distinct tokens of `alg`, each for its own user, valid for an hour. */
function mint(alg, count, prefix) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64({ alg, typ: 'JWT', kid: `bench-${alg}` });
  return Array.from({ length: count }, (_, i) => {
    const input = `${header}.${b64({ sub: `${prefix}-${i}`, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 3600, jti: createHmac('sha256', 'jti').update(`${prefix}${i}`).digest('hex') })}`;
    return `${input}.${SIGN[alg](KEYS[alg].privateKey, Buffer.from(input)).toString('base64url')}`;
  });
}

const request = (token) => ({ method: 'GET', url: '/', headers: { authorization: `Bearer ${token}` } });

async function packagePass(alg, tokens, warm) {
  const guard = createGuard({
    genauth: emulator.guardOptions().genauth,
    jwt: { jwksUri, algorithms: [alg], issuer: ISSUER, audience: AUDIENCE },
    logger: false,
  });
  for (const token of warm) await guard.authenticate(request(token));
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < tokens.length; i++) {
    const identity = await guard.authenticate(request(tokens[i]));
    if (identity.userId !== `u-${i}`) throw new Error(`package ${alg}: token ${i} gave ${identity.userId}`);
  }
  const result = perToken(start, cpu, tokens.length);
  await guard.close();
  return result;
}

async function josePass(alg, tokens, warm) {
  const set = createRemoteJWKSet(new URL(jwksUri));
  const options = { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE };
  for (const token of warm) await jwtVerify(token, set, options);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < tokens.length; i++) {
    const { payload } = await jwtVerify(tokens[i], set, options);
    if (payload.sub !== `u-${i}`) throw new Error(`jose ${alg}: token ${i} gave ${payload.sub}`);
  }
  return perToken(start, cpu, tokens.length);
}

/** µs per token: wall time, and CPU time of the whole process (WebCrypto's worker threads included). */
function perToken(start, cpu, count) {
  const wall = Number(process.hrtime.bigint() - start) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  return { wall: wall / count, cpu: (user + system) / count };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const lines = [
  `## Never-seen tokens under a JWKS (${TOKENS.toLocaleString('en-US')} distinct tokens per pass, ${PAIRS} paired passes)`,
  '',
  '| alg | time | guard authenticate() µs/token | jose jwtVerify µs/token | jose / guard, each pair | median ratio |',
  '|---|---|---|---|---|---|',
];
let failed = false;
try {
  for (const alg of ['RS256', 'ES256']) {
    const tokens = mint(alg, TOKENS, 'u');
    const warm = mint(alg, 2, 'warm');
    // One unmeasured pass each: V8 compiles both paths before the first pair.
    await packagePass(alg, tokens.slice(0, 1000), warm);
    await josePass(alg, tokens.slice(0, 1000), warm);
    const pkg = [];
    const jose = [];
    for (let pair = 0; pair < PAIRS; pair++) {
      if (pair % 2 === 0) {
        pkg.push(await packagePass(alg, tokens, warm));
        jose.push(await josePass(alg, tokens, warm));
      } else {
        jose.push(await josePass(alg, tokens, warm));
        pkg.push(await packagePass(alg, tokens, warm));
      }
    }
    for (const measure of ['cpu', 'wall']) {
      const ratios = pkg.map((p, i) => jose[i][measure] / p[measure]);
      const cells = [median(pkg.map((p) => p[measure])).toFixed(1), median(jose.map((j) => j[measure])).toFixed(1), ratios.map((r) => r.toFixed(2)).join(', ')];
      lines.push(`| ${alg} | ${measure} | ${cells.join(' | ')} | **${median(ratios).toFixed(2)}x** |`);
    }
  }
} catch (error) {
  failed = true;
  lines.push('', `failed: ${error.message}`);
} finally {
  keyServer.close();
  await emulator.close();
}
process.stdout.write(`${lines.join('\n')}\n`);
if (failed) process.exitCode = 1;
