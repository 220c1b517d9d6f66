// The `express4` alias (npm:express@4) has no types of its own; Express 4's API is a subset of 5's for what the tests use.
declare module 'express4' {
  import express from 'express'
  export default express
}
