/**
 * Binding MCP sessions to the user who created them (MCP security best practices: "session IDs SHOULD be
 * bound to user-specific information"). A session created under one (issuer, subject, client id) cannot be
 * used with a token of another: the request is answered 404 "Session not found", the answer the transport
 * gives for an unknown session, so a stolen or guessed id reveals nothing and the client simply starts anew.
 */
import { LRUCache } from 'lru-cache'
import { authInfoExtra, type AuthInfo } from '../auth-info.js'
import type { KeyValueStore } from '../store.js'

/** Who a session belongs to. */
export interface SessionBinding {
  issuer: string | undefined
  subject: string | undefined
  clientId: string
}

/** Where bindings live. The default is in memory and bounded; implement this for several instances (e.g. Redis). */
export interface SessionStore {
  get(sessionId: string): SessionBinding | undefined | Promise<SessionBinding | undefined>
  set(sessionId: string, binding: SessionBinding): void | Promise<void>
}

/** In-memory, LRU-bounded (default 10,000 sessions, 24 h idle). */
export class MemorySessionStore implements SessionStore {
  readonly #lru: LRUCache<string, SessionBinding>
  constructor(options: { max?: number; ttlSeconds?: number } = {}) {
    this.#lru = new LRUCache({ max: options.max ?? 10_000, ttl: (options.ttlSeconds ?? 86_400) * 1000, updateAgeOnGet: true })
  }
  get(sessionId: string): SessionBinding | undefined {
    return this.#lru.get(sessionId)
  }
  set(sessionId: string, binding: SessionBinding): void {
    this.#lru.set(sessionId, binding)
  }
  get size(): number {
    return this.#lru.size
  }
}

/** Bindings on a shared {@link KeyValueStore} (kind `session`, JSON), each kept `ttlSeconds` after its last use. */
export class KeyValueSessionStore implements SessionStore {
  constructor(readonly store: KeyValueStore, readonly ttlSeconds = 86_400) {}
  async get(sessionId: string): Promise<SessionBinding | undefined> {
    const value = await this.store.get('session', sessionId, { ttlSeconds: this.ttlSeconds })
    if (value === undefined) return undefined
    const b = JSON.parse(value) as { iss?: string; sub?: string; cid: string }
    return { issuer: b.iss, subject: b.sub, clientId: b.cid }
  }
  async set(sessionId: string, binding: SessionBinding): Promise<void> {
    const value = JSON.stringify({ iss: binding.issuer, sub: binding.subject, cid: binding.clientId })
    await this.store.set('session', sessionId, value, this.ttlSeconds)
  }
}

export function bindingOf(auth: AuthInfo): SessionBinding {
  const extra = authInfoExtra(auth)
  return { issuer: extra.issuer, subject: extra.subject, clientId: auth.clientId }
}

export function sameBinding(a: SessionBinding, b: SessionBinding): boolean {
  return a.issuer === b.issuer && a.subject === b.subject && a.clientId === b.clientId
}
