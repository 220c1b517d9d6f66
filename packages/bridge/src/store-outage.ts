/**
 * A store outage (RedisStore's `StoreUnavailableError`, code `ERR_STORE_UNAVAILABLE`, or any store error carrying
 * that code) is a 503 with `Retry-After`, never a 500: the store calls of a request are watched, and when one failed
 * with an outage the 5xx oidc-provider (or a bridge page) is about to send becomes a 503 `temporarily_unavailable`.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { ServerResponse } from 'node:http'
import { errorPage, PAGE_HEADERS } from './pages.js'
import type { BridgeStore } from './store.js'

interface RequestState {
  /** Seconds for Retry-After once an outage was seen in this request. */
  retryAfter?: number
}

const requests = new AsyncLocalStorage<RequestState>()
const DEFAULT_RETRY_AFTER = 5

export function isStoreUnavailable(err: unknown): err is { code: 'ERR_STORE_UNAVAILABLE'; retryAfter?: number } {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ERR_STORE_UNAVAILABLE'
}

function noted(err: unknown): never {
  if (isStoreUnavailable(err)) {
    const state = requests.getStore()
    if (state) state.retryAfter = typeof err.retryAfter === 'number' && err.retryAfter > 0 ? err.retryAfter : DEFAULT_RETRY_AFTER
  }
  throw err
}

/** The store, with every outage noted on the current request. */
export function watchedStore(store: BridgeStore): BridgeStore {
  const watched: BridgeStore = {
    get: (kind, id) => store.get(kind, id).catch(noted),
    set: (kind, id, value, ttl) => store.set(kind, id, value, ttl).catch(noted),
    delete: (kind, id) => store.delete(kind, id).catch(noted),
    take: (kind, id) => store.take(kind, id).catch(noted),
  }
  if (store.indexAdd && store.indexTake) {
    const indexAdd = store.indexAdd.bind(store)
    const indexTake = store.indexTake.bind(store)
    watched.indexAdd = (kind, id, member, ttl) => indexAdd(kind, id, member, ttl).catch(noted)
    watched.indexTake = (kind, id) => indexTake(kind, id).catch(noted)
  }
  return watched
}

const DESCRIPTION = 'the sign-in service cannot reach its store right now; try again shortly'

/** Run one request with outage watching: a 5xx after an outage is answered as 503 with Retry-After. */
export function withOutageWatch<T>(res: ServerResponse, run: () => Promise<T>): Promise<T> {
  const state: RequestState = {}
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
  res.end = ((...args: unknown[]) => {
    if (state.retryAfter !== undefined && res.statusCode >= 500 && !res.headersSent) {
      const html = /html/i.test(String(res.getHeader('content-type') ?? ''))
      const body = html ? errorPage('temporarily_unavailable', DESCRIPTION) : JSON.stringify({ error: 'temporarily_unavailable', error_description: DESCRIPTION })
      res.statusCode = 503
      if (html) for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value)
      else res.setHeader('content-type', 'application/json; charset=utf-8')
      res.setHeader('cache-control', 'no-store')
      res.setHeader('retry-after', String(state.retryAfter))
      res.setHeader('content-length', Buffer.byteLength(body))
      return end(body)
    }
    return end(...args)
  }) as typeof res.end
  return requests.run(state, run)
}
