/** `genauth-guard explain`: why a user is allowed or refused, from the tenant's grants (guard.explain()). */
import { createGuard } from '../core/guard.js';
import type { ExplainInput } from '../core/explain.js';
import { RESOURCE_TYPES, type ResourceType } from '../wire.js';
import { stringFlag, stringsFlag } from './args.js';
import type { Command, Values } from './command.js';
import { genauthFromEnv, unusedJwt } from './env.js';
import { EXIT, UsageError } from './exit-codes.js';
import { shownUrl, toJson, type Io } from './io.js';
import { explainTable } from './explain-table.js';
import { upstreamFailure } from './upstream.js';

function explainInput(values: Values): ExplainInput {
  const userId = stringFlag(values, 'user');
  if (userId === undefined || userId === '') throw new UsageError('"explain" needs --user ID');
  const resource = stringFlag(values, 'resource');
  const actions = stringsFlag(values, 'action');
  const method = stringFlag(values, 'method');
  const path = stringFlag(values, 'path');
  const resourceType = stringFlag(values, 'resource-type');
  const publicPaths = stringsFlag(values, 'public-path');
  if (method !== undefined || path !== undefined) {
    if (resource !== undefined || actions.length > 0 || resourceType !== undefined || values.any === true) {
      throw new UsageError('give either --method and --path (API mode) or --resource and --action, not both');
    }
    if (method === undefined || path === undefined) throw new UsageError('API mode needs both --method and --path');
    return { userId, method, path, ...(publicPaths.length === 0 ? {} : { api: { publicPaths } }) };
  }
  if (publicPaths.length > 0) throw new UsageError('--public-path goes with --method and --path');
  if (resource === undefined || actions.length === 0) throw new UsageError('"explain" needs --resource CODE and --action NAME (or --method and --path)');
  if (resourceType !== undefined && !(RESOURCE_TYPES as readonly string[]).includes(resourceType)) {
    throw new UsageError(`--resource-type must be one of ${RESOURCE_TYPES.join(', ')}`);
  }
  const requirement = values.any === true ? { anyOf: actions } : { allOf: actions };
  return { userId, resource, ...requirement, ...(resourceType === undefined ? {} : { resourceType: resourceType as ResourceType }) };
}

export const explainCommand: Command = {
  name: 'explain',
  summary: "Explains a permission decision from the user's grants in GenAuth (or the emulator): the verdict and what every grant did.",
  usage: 'genauth-guard explain --user ID (--resource CODE --action NAME... | --method METHOD --path PATH) [--emulator URL] [--json]',
  flags: {
    user: { type: 'string', help: '--user ID            the user id (as the identity claim gives it)' },
    resource: { type: 'string', help: '--resource CODE      the resource code asked for (e.g. ecs:1)' },
    action: { type: 'string', multiple: true, help: '--action NAME        an action needed; repeat for several (all needed)' },
    any: { type: 'boolean', help: '--any                any one of the --action values suffices' },
    'resource-type': { type: 'string', help: '--resource-type T    only grants of this type count (DATA, API, MENU, BUTTON, UI)' },
    method: { type: 'string', help: '--method METHOD      API mode: the request method' },
    path: { type: 'string', help: '--path PATH          API mode: the request target (/path?query)' },
    'public-path': { type: 'string', multiple: true, help: "--public-path PATH   API mode: a path of api({ publicPaths }); repeatable" },
    emulator: { type: 'string', help: '--emulator URL       ask a running emulator instead of the tenant in GENAUTH_*' },
    'max-response-bytes': { type: 'string', help: "--max-response-bytes N  genauth.maxResponseBytes: the most of GenAuth's answer read (default 8 MiB)" },
    json: { type: 'boolean', help: '--json               print the explanation object as JSON' },
  },
  positionals: { min: 0, max: 0 },
  details: [
    'Credentials come from GENAUTH_HOST, GENAUTH_USER_POOL_ID, GENAUTH_ACCESS_KEY_ID, GENAUTH_ACCESS_KEY_SECRET',
    'and GENAUTH_NAMESPACE, a tenant from GENAUTH_TENANT_ID (and GENAUTH_TENANT_HEADER); with --emulator, the',
    'emulator\'s defaults fill what is unset. No token is read.',
    '',
    'Exit codes: 0 allowed, 1 denied (or credentials refused, or a set-up mistake such as a namespace the pool',
    'does not have, a user disabled or outside the tenant, an answer past --max-response-bytes, a partial',
    'list), 2 usage error, 3 GenAuth unreachable (no connection, a timeout, a 5xx or 429).',
    '',
    'Example: genauth-guard explain --user alice --resource ecs:1 --action ecs:Start',
  ].join('\n'),
  async run(values, _positionals, io: Io) {
    const input = explainInput(values);
    const emulator = stringFlag(values, 'emulator');
    const maxResponseBytes = stringFlag(values, 'max-response-bytes');
    if (maxResponseBytes !== undefined && !/^[1-9]\d*$/.test(maxResponseBytes)) throw new UsageError('--max-response-bytes must be a positive integer (bytes)');
    const genauth = { ...genauthFromEnv(process.env, emulator), ...(maxResponseBytes === undefined ? {} : { maxResponseBytes: Number(maxResponseBytes) }) };
    let guard: ReturnType<typeof createGuard>;
    try {
      guard = createGuard({ genauth, jwt: unusedJwt(), cache: false, retryAfter: 1, logger: { warn: (message) => io.error(message) } });
    } catch (error) {
      // A bad GENAUTH_* value or --emulator URL: the resolver's message names the option.
      if (error instanceof TypeError) throw new UsageError(error.message);
      throw error;
    }
    io.progress(`loading ${input.userId}'s grants from ${genauth.host === undefined ? 'GenAuth' : shownUrl(genauth.host)}`);
    try {
      const explanation = await guard.explain(input).catch((error: unknown) => {
        const limit = { bytes: guard.options.genauth.maxResponseBytes, raise: 'raise it with --max-response-bytes N' };
        throw upstreamFailure(error, `loading ${input.userId}'s grants`, { limit, tenant: genauth.tenantId !== undefined });
      });
      if (values.json === true) io.out(toJson(explanation));
      else for (const line of explainTable(explanation)) io.out(line);
      return explanation.allowed ? EXIT.OK : EXIT.FAILED;
    } finally {
      await guard.close();
    }
  },
};
