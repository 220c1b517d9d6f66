import type { Adapter, AdapterPayload } from 'oidc-provider'

/**
 * Per-instance in-memory storage for oidc-provider (replaces its process-global, 1000-entry quick-start
 * adapter, so several dev IdPs in one process never share or evict each other's tokens).
 *
 * The store outlives the provider's configuration: key rotation keeps the same provider instance, so
 * grants, sessions, registered clients and opaque tokens all survive `rotateKeys()`.
 *
 * The `Client` model falls back to a `ClientResolver` for ids it has not stored (Client ID Metadata
 * Documents, see cimd.ts).
 */

interface Entry {
  payload: AdapterPayload
  expiresAt: number | undefined
}

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
])

export class MemoryStore {
  private readonly entries = new Map<string, Entry>()
  private readonly grants = new Map<string, Set<string>>()
  private readonly sessionUids = new Map<string, string>()
  private readonly userCodes = new Map<string, string>()
  private writes = 0

  get(key: string): AdapterPayload | undefined {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.entries.delete(key)
      return undefined
    }
    return entry.payload
  }

  set(key: string, payload: AdapterPayload, expiresIn: number | undefined): void {
    const expiresAt = typeof expiresIn === 'number' && expiresIn > 0 ? Date.now() + expiresIn * 1000 : undefined
    this.entries.set(key, { payload, expiresAt })
    if (++this.writes % 500 === 0) this.sweep()
  }

  delete(key: string): void {
    this.entries.delete(key)
  }

  addGrantMember(grantId: string, key: string): void {
    let members = this.grants.get(grantId)
    if (!members) {
      members = new Set()
      this.grants.set(grantId, members)
    }
    members.add(key)
  }

  revokeGrant(grantId: string): void {
    const members = this.grants.get(grantId)
    if (!members) return
    for (const key of members) this.entries.delete(key)
    this.grants.delete(grantId)
  }

  indexSessionUid(uid: string, id: string): void {
    this.sessionUids.set(uid, id)
  }

  sessionIdByUid(uid: string): string | undefined {
    return this.sessionUids.get(uid)
  }

  indexUserCode(userCode: string, id: string): void {
    this.userCodes.set(userCode, id)
  }

  idByUserCode(userCode: string): string | undefined {
    return this.userCodes.get(userCode)
  }

  /** Drop expired entries and index rows pointing at nothing (keeps memory bounded in long runs). */
  sweep(): void {
    const now = Date.now()
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.entries.delete(key)
    }
    for (const [grantId, members] of this.grants) {
      for (const key of members) if (!this.entries.has(key)) members.delete(key)
      if (members.size === 0) this.grants.delete(grantId)
    }
    for (const [uid, id] of this.sessionUids) if (!this.entries.has(`Session:${id}`)) this.sessionUids.delete(uid)
    for (const [code, id] of this.userCodes) if (!this.entries.has(`DeviceCode:${id}`)) this.userCodes.delete(code)
  }
}

export type ClientResolver = (id: string) => Promise<AdapterPayload | undefined>

export function createAdapterFactory(
  store: MemoryStore,
  resolveClient: ClientResolver,
): (model: string) => Adapter {
  return (model: string): Adapter => {
    const key = (id: string) => `${model}:${id}`
    return {
      async upsert(id, payload, expiresIn) {
        const k = key(id)
        if (model === 'Session' && typeof payload.uid === 'string') store.indexSessionUid(payload.uid, id)
        if (GRANTABLE.has(model) && typeof payload.grantId === 'string') store.addGrantMember(payload.grantId, k)
        if (typeof payload.userCode === 'string') store.indexUserCode(payload.userCode, id)
        // A registered client may ask for any scope the IdP knows, not only those it registered with: MCP
        // clients register with the first challenge's scope and must be able to step up later.
        if (model === 'Client' && 'scope' in payload) delete (payload as { scope?: unknown }).scope
        store.set(k, payload, expiresIn)
      },
      async find(id) {
        const found = store.get(key(id))
        if (found || model !== 'Client') return found
        return resolveClient(id)
      },
      async findByUid(uid) {
        const id = store.sessionIdByUid(uid)
        return id === undefined ? undefined : store.get(key(id))
      },
      async findByUserCode(userCode) {
        const id = store.idByUserCode(userCode)
        return id === undefined ? undefined : store.get(key(id))
      },
      async consume(id) {
        const payload = store.get(key(id))
        if (payload) payload.consumed = Math.floor(Date.now() / 1000)
      },
      async destroy(id) {
        store.delete(key(id))
      },
      async revokeByGrantId(grantId) {
        store.revokeGrant(grantId)
      },
    }
  }
}
