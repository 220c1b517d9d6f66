/**
 * The session stage: a request naming an `Mcp-Session-Id` must come from the user the session was bound to
 * (mcp/session-binding.ts), and a response that creates a session binds it to the user of its request.
 */
import type { AuthInfo } from '../auth-info.js'
import { McpAuthError } from '../errors.js'
import type { EventSink } from '../events.js'
import { MemoryStore, StoreUnavailableError } from '../store.js'
import { KeyValueSessionStore, MemorySessionStore, bindingOf, sameBinding, type SessionBinding, type SessionStore } from './session-binding.js'

/** Could this body start a session? Unknown (not parsed by the host) counts as yes. */
export function mayInitialize(body: unknown): boolean {
  if (body === undefined) return true
  if (Array.isArray(body)) return body.some((m) => (m as { method?: unknown } | null)?.method === 'initialize')
  return (body as { method?: unknown } | null)?.method === 'initialize'
}

/** The id a store is asked for before a session starts: any answer (even none) proves it answers. */
const PROBE_ID = 'mcp-oauth:availability-probe'

export class SessionStage {
  /** False for the in-memory default, which cannot be down: no probe, no await beyond the lookup. */
  readonly #remote: boolean

  constructor(
    readonly store: SessionStore | undefined,
    private readonly options: { retryAfter: number; emit?: EventSink | undefined } = { retryAfter: 10 },
  ) {
    this.#remote = store !== undefined && !(store instanceof MemorySessionStore)
      && !(store instanceof KeyValueSessionStore && store.store instanceof MemoryStore)
  }

  /**
   * Throws ERR_SESSION_MISMATCH (answered 404) when `sessionId` is bound to another user, and
   * ERR_STORE_UNAVAILABLE (503 with Retry-After) when the store cannot say: an unanswered lookup is never
   * taken for "not bound". A store that answers synchronously (the in-memory default) is checked
   * synchronously: a Map lookup, no promise.
   */
  check(sessionId: string, info: AuthInfo): void | Promise<void> {
    let bound: SessionBinding | undefined | Promise<SessionBinding | undefined>
    try {
      bound = this.store!.get(sessionId)
    } catch (err) {
      throw this.#unavailable('get', err)
    }
    if (bound instanceof Promise) {
      return bound.then((b) => this.#compare(b, info), (err: unknown) => { throw this.#unavailable('get', err) })
    }
    this.#compare(bound, info)
  }

  #compare(bound: SessionBinding | undefined, info: AuthInfo): void {
    if (bound && !sameBinding(bound, bindingOf(info))) throw new McpAuthError('ERR_SESSION_MISMATCH', 'Session not found')
  }

  /**
   * Before a request that starts a session (its body is known to hold `initialize`): a shared store must
   * answer now, or the new session could not be bound and would later pass unchecked. 503 when it does not.
   */
  ensureAvailable(body: unknown): Promise<void> | undefined {
    // No promise (so no await in handle) for every request that does not start a session on a shared store.
    if (!this.#remote || body === undefined || !mayInitialize(body)) return undefined
    return this.#probe()
  }

  async #probe(): Promise<void> {
    try {
      await this.store!.get(PROBE_ID)
    } catch (err) {
      throw this.#unavailable('probe', err)
    }
  }

  /**
   * Remember that `sessionId` belongs to the user of `info`. Never fails the response (it is already being
   * written); a failure is reported as a `store_unavailable` event.
   */
  async bind(sessionId: string, info: AuthInfo): Promise<void> {
    try {
      await this.store?.set(sessionId, bindingOf(info))
    } catch (err) {
      this.#event('set', err)
    }
  }

  #unavailable(operation: 'get' | 'probe', err: unknown): McpAuthError {
    this.#event(operation, err)
    const retryAfter = err instanceof StoreUnavailableError && err.retryAfter !== undefined ? err.retryAfter : this.options.retryAfter
    return new McpAuthError('ERR_STORE_UNAVAILABLE', 'Session state is temporarily unavailable', { cause: err, retryAfter })
  }

  #event(operation: 'get' | 'set' | 'probe', err: unknown): void {
    const reason = (err instanceof Error ? err.message : String(err)).slice(0, 200)
    this.options.emit?.({ type: 'store_unavailable', what: 'session', operation, reason })
  }
}
