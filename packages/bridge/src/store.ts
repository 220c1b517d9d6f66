/**
 * The bridge's storage: one small key-value contract, the same shape as the shared store of
 * @mcp-oauth/redis (`RedisStore` implements it as is), so several bridge instances can share state.
 *
 * Entries are addressed by (kind, id): `kind` is a short fixed name (`bridge-txn`, `bridge-oidc-Session`, …;
 * letters, digits, `-`, `_`), `id` any non-empty string. Every write carries a TTL: nothing the bridge writes
 * lives forever. Values are strings (JSON, or AES-GCM sealed upstream tokens).
 *
 * What goes in: oidc-provider's models (registered clients, interactions, sessions, grants, authorization codes,
 * refresh tokens and device codes — under a SHA-256 of the credential —), consent CSRF tokens, upstream
 * transactions (state, PKCE verifier, nonce), one-time tickets, accounts, and the sealed upstream tokens.
 */

export interface BridgeStore {
  /** The value, or undefined when absent or expired. */
  get(kind: string, id: string): Promise<string | undefined>
  /** Store a value that expires after `ttlSeconds` (> 0). */
  set(kind: string, id: string, value: string, ttlSeconds: number): Promise<void>
  delete(kind: string, id: string): Promise<void>
  /**
   * Atomically read and delete: of two concurrent takes of one entry, exactly one gets the value. One-time
   * artefacts (upstream `state`, consent CSRF tokens, tickets) are redeemed with it.
   */
  take(kind: string, id: string): Promise<string | undefined>
  /**
   * Optional: add `member` to the set (kind, id), extending its expiry to at least `ttlSeconds`, atomically.
   * Without it the bridge keeps the set as a JSON list (read-modify-write: two instances adding to one set
   * at the same instant can lose a member, so revocation could miss a token until that token expires).
   */
  indexAdd?(kind: string, id: string, member: string, ttlSeconds: number): Promise<void>
  /** Optional, with indexAdd: read and delete the set (kind, id) in one step. */
  indexTake?(kind: string, id: string): Promise<string[]>
}

interface Entry {
  value: string
  expiresAt: number
}

/**
 * The in-memory default: one process, lost on restart (development, tests, single-instance servers).
 * Expired entries are dropped when read and swept every 1000 writes.
 */
export class MemoryBridgeStore implements BridgeStore {
  readonly #entries = new Map<string, Entry>()
  readonly #indexes = new Map<string, { members: Set<string>; expiresAt: number }>()
  #writes = 0

  async get(kind: string, id: string): Promise<string | undefined> {
    return this.#live(`${kind}\u0000${id}`)?.value
  }

  async set(kind: string, id: string, value: string, ttlSeconds: number): Promise<void> {
    if (!(typeof ttlSeconds === 'number' && ttlSeconds > 0)) throw new TypeError('MemoryBridgeStore: ttlSeconds must be > 0 (every entry expires)')
    this.#entries.set(`${kind}\u0000${id}`, { value, expiresAt: Date.now() + ttlSeconds * 1000 })
    if (++this.#writes % 1000 === 0) this.sweep()
  }

  async delete(kind: string, id: string): Promise<void> {
    this.#entries.delete(`${kind}\u0000${id}`)
  }

  async take(kind: string, id: string): Promise<string | undefined> {
    // One synchronous step: nothing can run between the read and the delete.
    const key = `${kind}\u0000${id}`
    const entry = this.#live(key)
    this.#entries.delete(key)
    return entry?.value
  }

  async indexAdd(kind: string, id: string, member: string, ttlSeconds: number): Promise<void> {
    // A Set, not a JSON list: a grant's index grows with every rotated refresh token.
    const key = `${kind}\u0000${id}`
    const live = this.#liveIndex(key)
    const index = live ?? { members: new Set<string>(), expiresAt: 0 }
    index.members.add(member)
    index.expiresAt = Math.max(index.expiresAt, Date.now() + ttlSeconds * 1000)
    this.#indexes.set(key, index)
  }

  async indexTake(kind: string, id: string): Promise<string[]> {
    const key = `${kind}\u0000${id}`
    const index = this.#liveIndex(key)
    this.#indexes.delete(key)
    return index ? [...index.members] : []
  }

  #liveIndex(key: string): { members: Set<string>; expiresAt: number } | undefined {
    const index = this.#indexes.get(key)
    if (index && index.expiresAt <= Date.now()) {
      this.#indexes.delete(key)
      return undefined
    }
    return index
  }

  /** Drop every expired entry. */
  sweep(): void {
    const now = Date.now()
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key)
    for (const [key, index] of this.#indexes) if (index.expiresAt <= now) this.#indexes.delete(key)
  }

  /** How many live entries of each kind (after a sweep): for tests and diagnostics; ids and values stay inside. */
  countByKind(): Record<string, number> {
    this.sweep()
    const counts: Record<string, number> = {}
    for (const key of [...this.#entries.keys(), ...this.#indexes.keys()]) {
      const kind = key.slice(0, key.indexOf('\u0000'))
      counts[kind] = (counts[kind] ?? 0) + 1
    }
    return counts
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key)
      return undefined
    }
    return entry
  }
}
