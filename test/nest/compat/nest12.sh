#!/bin/sh
# Checks genauth-guard/nest against Nest 12 (ESM-only) in a separate install, since an npm alias cannot
# stand in for Nest: @nestjs/core imports '@nestjs/common' by name and would load the repo's Nest 11.
# Runs test/nest (from source, both platforms) and the built ESM and CJS smoke apps (needs `npm run build`).
# Usage: sh test/nest/compat/nest12.sh [workdir]   (downloads Nest 12 from the npm registry)
set -eu
repo=$(cd "$(dirname "$0")/../../.." && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work" && cd "$work"
echo '{"name":"nest12-check","private":true,"type":"module"}' > package.json
deps=$(node -e "const d=require('$repo/package.json').dependencies; console.log(Object.entries(d).map(([k,v])=>k+'@'+v).join(' '))")
npm install --no-audit --no-fund @nestjs/common@12 @nestjs/core@12 @nestjs/platform-express@12 @nestjs/platform-fastify@12 \
  @nestjs/testing@12 reflect-metadata rxjs vitest@4.1 supertest express@5 redis@6 $deps
rm -rf src test node_modules/genauth-guard
cp -r "$repo/src" . && mkdir -p test node_modules/genauth-guard
# The shared fixtures the Nest tests import (the emulator helpers; failed-init's Redis harness).
cp -r "$repo/test/nest" "$repo/test/ambient.d.ts" "$repo/test/fixtures.ts" test/ && mkdir -p test/redis
cp "$repo/test/redis/harness.ts" "$repo/test/redis/server.ts" test/redis/ && cp "$repo/tsconfig.json" "$repo/vitest.config.ts" .
rm -f test/nest/example.test.ts test/nest/built.test.ts
cp -r "$repo/dist" "$repo/package.json" node_modules/genauth-guard/
node -e "console.log('Nest', require('./node_modules/@nestjs/core/package.json').version)"
npx vitest run test/nest
node test/nest/built/smoke.mjs
node test/nest/built/smoke.cjs
