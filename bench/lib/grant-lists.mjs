// Grant lists and heap readings shared by the memory benches (bench/memory.mjs, bench/heap-set.mjs).

/**
 * User `u`'s list of `count` grants: codes and API paths of its own, so no string is shared across
 * users' sets; every grant names the same three actions.
 */
export function distinctGrants(u, count) {
  return Array.from({ length: count }, (_, i) => ({
    resourceCode: `ecs:u${u}-server-${i}`,
    resourceType: 'API',
    apiIdentifier: `/api/v1/users/${u}/servers/${i}`,
    actions: ['ecs:Describe', 'ecs:Start', 'ecs:Stop'],
    effect: 'ALLOW',
    description: `Server ${i} of user ${u}`,
  }));
}

/** Full GCs until the heap settles (each after a turn of the event loop); resolves the heap used. Needs --expose-gc. */
export async function settledHeap() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}
