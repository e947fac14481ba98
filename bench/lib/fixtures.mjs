// Deterministic authorization data shared by the upstream process, the servers and the micro-benchmark.
// In every data set the grant that allows the request under test is the LAST entry, so linear
// matchers (casbin's policy loop, a naive list scan) pay their worst case, the same as a deny.
import { ACTION, ALLOWED_USER, RESOURCE_OF, TARGET_ID } from './common.mjs';

/** n grants as the emulator's `setGrants` takes them (GenAuth's AuthorizedResourceDto shape). */
export function grantList(n) {
  const list = [];
  for (let i = 0; i < n - 1; i++) {
    list.push({
      resourceCode: `ecs:decoy-${i}`,
      description: `Server ${i}`,
      resourceType: 'API',
      apiIdentifier: `/api/v1/decoys/${i}`,
      actions: ['ecs:Describe', 'ecs:Start', 'ecs:Stop'],
      effect: 'ALLOW',
    });
  }
  list.push({
    resourceCode: RESOURCE_OF(TARGET_ID),
    description: 'Server under test',
    resourceType: 'API',
    apiIdentifier: `/api/v1/servers/${TARGET_ID}`,
    actions: ['ecs:Describe', 'ecs:Start', 'ecs:Stop'],
    effect: 'ALLOW',
  });
  return list;
}

/** The naive matcher a user writes from the docs: scan the list for resource + action + ALLOW. */
export function naiveAllows(list, resource, action = ACTION) {
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    if (r.resourceCode === resource && r.effect === 'ALLOW' && r.actions.includes(action)) return true;
  }
  return false;
}

// --- casbin: RBAC with keyMatch2 path patterns (the model from casbin's own examples) ---------
export const CASBIN_MODEL = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && keyMatch2(r.obj, p.obj) && r.act == p.act
`;

/** A casbin enforcer with n policies for role `ops` (only the last matches) and ALLOWED_USER in it. */
export async function makeEnforcer(n) {
  const { newEnforcer, newModelFromString } = await import('casbin');
  const e = await newEnforcer(newModelFromString(CASBIN_MODEL));
  const policies = [];
  for (let i = 0; i < n - 1; i++) policies.push(['ops', `/api/v1/svc${i}/servers/:id`, 'GET']);
  policies.push(['ops', '/api/v1/servers/:id', 'GET']);
  await e.addPolicies(policies);
  await e.addGroupingPolicy(ALLOWED_USER, 'ops');
  return e;
}
