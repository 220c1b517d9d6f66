/** The store contract is the core's: RedisStore implements it, and its outage error is the one the core answers 503 for. */
export { StoreUnavailableError } from '@mcp-oauth/core'
export type { KeyValueStore } from '@mcp-oauth/core'
