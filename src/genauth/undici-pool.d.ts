// undici's Pool alone (undici has no exports map): its index loads every client, fetch, WebSocket and
// the cache stores, 2.9 MB of heap that every mark-compact marks again (docs/bench.md, "Hot path").
declare module 'undici/lib/dispatcher/pool.js' {
  import { Pool } from 'undici';
  export default Pool;
}
