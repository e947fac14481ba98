import { expect, it } from 'vitest';

// CI runs the suite once per supported Node major and says which one it meant (.ci/run): this proves
// the run really happened on that version, not on a `node` found earlier on the PATH.
it('runs on the Node version CI asked for', () => {
  const expected = process.env.EXPECT_NODE_MAJOR;
  const major = process.versions.node.split('.')[0];
  if (expected !== undefined) expect(major).toBe(expected);
  expect(Number(major)).toBeGreaterThanOrEqual(20);
});
