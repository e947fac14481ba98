// Express 4 is installed under the alias `express4` for tests; its API is typed like Express 5's.
declare module 'express4' {
  import express from 'express';
  export default express;
}

// Koa 2 is installed under the alias `koa2` for tests; its API is typed like Koa 3's.
declare module 'koa2' {
  import Koa from 'koa';
  export default Koa;
}
