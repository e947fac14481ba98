/**
 * The tier's Lua scripts. A user's entry and mark share a hash slot (see keys.ts), so each script is
 * atomic on Redis and on a Redis Cluster. A mark is a random token, never a counter: a mark that
 * expired, was evicted or was lost in a restart comes back as a new token, so a load that read the
 * old one can never match it again (no counter that restarts at 0 and repeats).
 */

/**
 * Reads a user: their mark (created when absent, its life extended) and their entry when it is a
 * string no longer than the byte bound. KEYS: entry, mark. ARGV: max bytes, a fresh token, mark ttl ms.
 * Returns `{mark, 'none'}`, `{mark, 'foreign'}` (not a string), `{mark, 'oversized'}` or `{mark, 'entry', value}`.
 */
export const READ_USER = `
local mark = redis.call('GET', KEYS[2])
if mark then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
else
  mark = ARGV[2]
  redis.call('SET', KEYS[2], mark, 'PX', ARGV[3])
end
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'none' then return {mark, 'none'} end
if kind ~= 'string' then return {mark, 'foreign'} end
if redis.call('STRLEN', KEYS[1]) > tonumber(ARGV[1]) then return {mark, 'oversized'} end
return {mark, 'entry', redis.call('GET', KEYS[1])}
`;

/** The scope's global mark (or its epoch), created when absent. KEYS: global mark. ARGV: a fresh token. */
export const READ_GLOBAL = `
local mark = redis.call('GET', KEYS[1])
if mark then return mark end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`;

/**
 * Compare-and-set: stores the entry only while the user's mark is still the one the load read, so a
 * load begun before an invalidation never writes its answer back. KEYS: entry, mark. ARGV: the mark
 * read, the entry, its life in ms. Returns 1 when stored, 0 when the mark moved.
 */
export const WRITE_USER = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

/** Invalidates a user: a new mark, the entry gone, in one step. KEYS: entry, mark. ARGV: new token, mark ttl ms. */
export const INVALIDATE_USER = `
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[1])
return 1
`;

/** Invalidates the scope: a new global mark (entries loaded under the old one are ignored). KEYS: global mark. ARGV: new token. */
export const INVALIDATE_ALL = `
redis.call('SET', KEYS[1], ARGV[1])
return 1
`;

/**
 * Revokes a user: the record keeps the later of the stored and the given time (a late or repeated
 * revocation never moves it back) and lives `ttl` from now; the user's grants are invalidated as by
 * INVALIDATE_USER. KEYS: revoked, entry, mark. ARGV: at (ms), record ttl ms, new mark token, mark ttl ms.
 * Returns the recorded time as a string.
 */
export const REVOKE_USER = `
local at = tonumber(ARGV[1])
local old = tonumber(redis.call('GET', KEYS[1]) or '')
if old and old > at then at = old end
local text = string.format('%.0f', at)
redis.call('SET', KEYS[1], text, 'PX', ARGV[2])
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
redis.call('DEL', KEYS[2])
return text
`;

/**
 * Records a revocation again that this instance holds and Redis lost (a restart): sets the record
 * only when none is stored or the stored time is earlier, for the instance's remaining `ttl`. Grants
 * are left alone (a lost Redis holds none of them to invalidate). KEYS: revoked. ARGV: at (ms), ttl ms.
 * Returns 1 when it set the record, 0 when Redis already held it (or a later time).
 */
export const RESTORE_REVOKED = `
local at = tonumber(ARGV[1])
local old = tonumber(redis.call('GET', KEYS[1]) or '')
if old and old >= at then return 0 end
redis.call('SET', KEYS[1], string.format('%.0f', at), 'PX', ARGV[2])
return 1
`;
