export { RedisStore, FAIL_FAST, hashId } from './redis-store.js'
export type { RedisStoreOptions, RedisStoreEvent } from './redis-store.js'
export { StoreUnavailableError } from './contract.js'
export type { KeyValueStore } from './contract.js'
