// Express 4 is installed under the alias `express4` for tests; its API is typed like Express 5's.
declare module 'express4' {
  import express from 'express';
  export default express;
}
