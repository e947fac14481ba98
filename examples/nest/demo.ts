// `npm run demo:nest`: the Nest example on the embedded GenAuth emulator. Seeds alice (may start server 1)
// and bob (may not), prints tokens and curl lines. PLATFORM=fastify for @nestjs/platform-fastify.
// In your app: import { startEmulator } from 'genauth-guard/testing';
import { startEmulator } from '../../src/testing/index.js';
import { createApp, type Platform } from './main.js';

const emulator = await startEmulator();
emulator.setGrants('alice', [{ resourceCode: 'ecs:1', actions: ['ecs:Start'] }]);
emulator.setGrants('bob', [{ resourceCode: 'servers', actions: ['ecs:List'] }]);
const options = emulator.guardOptions();
Object.assign(process.env, {
  GENAUTH_HOST: options.genauth.host,
  GENAUTH_USER_POOL_ID: options.genauth.userPoolId,
  GENAUTH_ACCESS_KEY_ID: options.genauth.accessKeyId,
  GENAUTH_ACCESS_KEY_SECRET: options.genauth.accessKeySecret,
  GENAUTH_JWKS_URI: options.jwt.jwksUri,
  GENAUTH_ISSUER: options.jwt.issuer,
  GENAUTH_AUDIENCE: options.jwt.audience,
});

const platform = (process.env.PLATFORM ?? 'express') as Platform;
const app = await createApp(platform);
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
const alice = await emulator.mintToken('alice', { expiresIn: 3600 });
const bob = await emulator.mintToken('bob', { expiresIn: 3600 });

console.log(`genauth-guard NestJS demo (${platform}): API on ${base}, GenAuth emulator on ${emulator.url}

# 200: alice starts server 1
curl -i -X POST ${base}/api/servers/1/start -H 'Authorization: Bearer ${alice}'
# 401: no token
curl -i -X POST ${base}/api/servers/1/start
# 403: bob lacks ecs:Start
curl -i -X POST ${base}/api/servers/1/start -H 'Authorization: Bearer ${bob}'

Press Ctrl+C to stop.`);

const stop = async () => {
  await app.close();
  await emulator.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
