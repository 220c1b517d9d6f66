import type { Adapter, AdapterPayload } from 'oidc-provider'

/**
 * Per-instance in-memory storage for oidc-provider (replaces its process-global, 1000-entry quick-start
 * adapter, so several dev IdPs in one process never share or evict each other's tokens).
 *
 * The store outlives the provider's configuration: key rotation keeps the same provider instance, so
 * grants, sessions, registered clients and opaque tokens all survive `rotateKeys()`.
 *
 * The `Client` model additionally resolves Client ID Metadata Documents served over plain http on a
 * loopback host (see `resolveLoopbackClient`); https client_id URLs are left to oidc-provider's own
 * `clientIdMetadataDocument` feature.
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

// ---------------------------------------------------------------------------------------------
// Client ID Metadata Documents on loopback http
// ---------------------------------------------------------------------------------------------

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])
const CIMD_TIMEOUT_MS = 5_000
const CIMD_MAX_BYTES = 64 * 1024
const CIMD_DEFAULT_CACHE_MS = 5_000
const CIMD_MAX_CACHE_MS = 300_000

/**
 * draft-ietf-oauth-client-id-metadata-document requires client_id URLs to be https. For local
 * development and tests we ALSO accept plain http, but only on loopback hosts (127.0.0.1, localhost,
 * [::1]): that traffic never leaves the machine, and it lets tests serve a metadata document from a
 * throw-away node:http server. Any other http client_id is not a metadata document URL. The URL must
 * already be in normalized form (no credentials, fragment or dot segments; it must equal its own href).
 */
export function isLoopbackHttpClientId(id: string): boolean {
  if (!id.startsWith('http://')) return false
  let url: URL
  try {
    url = new URL(id)
  } catch {
    return false
  }
  return (
    url.protocol === 'http:' &&
    LOOPBACK_HOSTS.has(url.hostname) &&
    !url.username &&
    !url.password &&
    !url.hash &&
    url.pathname.length > 1 &&
    url.href === id
  )
}

/** Metadata members copied from a document; anything else is ignored. */
const CIMD_MEMBERS = [
  'client_name',
  'client_uri',
  'logo_uri',
  'policy_uri',
  'tos_uri',
  'contacts',
  'redirect_uris',
  'post_logout_redirect_uris',
  'grant_types',
  'response_types',
  'scope',
  'application_type',
  'software_id',
  'software_version',
] as const

export class CimdError extends Error {
  override readonly name = 'CimdError'
}

export function createLoopbackCimdResolver(): {
  resolve: (id: string, fetchUrl?: string) => Promise<AdapterPayload>
  clear: () => void
} {
  const cache = new Map<string, { payload: AdapterPayload; until: number }>()
  const pending = new Map<string, Promise<AdapterPayload>>()

  async function fetchDocument(id: string, fetchUrl: string): Promise<{ payload: AdapterPayload; cacheMs: number }> {
    let res: Response
    try {
      res = await fetch(fetchUrl, {
        redirect: 'manual',
        signal: AbortSignal.timeout(CIMD_TIMEOUT_MS),
        headers: { accept: 'application/json' },
      })
    } catch (cause) {
      throw new CimdError(`client_id metadata document fetch failed: ${(cause as Error).message}`)
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {})
      throw new CimdError(`client_id metadata document fetch failed: unexpected response status ${res.status}`)
    }
    const text = await readCapped(res, CIMD_MAX_BYTES)
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch {
      throw new CimdError('client_id metadata document is not valid JSON')
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw new CimdError('client_id metadata document is not a JSON object')
    }
    const props = doc as Record<string, unknown>
    if (props['client_id'] !== id) {
      throw new CimdError('client_id metadata document client_id does not match the URL it was fetched from')
    }
    if ('client_secret' in props || 'client_secret_expires_at' in props) {
      throw new CimdError('client_id metadata document must not contain client_secret or client_secret_expires_at')
    }
    const method = props['token_endpoint_auth_method']
    if (method !== undefined && method !== 'none') {
      throw new CimdError(
        'client_id metadata document clients are public clients here: token_endpoint_auth_method must be "none" or absent',
      )
    }
    const payload: Record<string, unknown> = { client_id: id, token_endpoint_auth_method: 'none' }
    for (const member of CIMD_MEMBERS) if (props[member] !== undefined) payload[member] = props[member]
    if (payload['grant_types'] === undefined) payload['grant_types'] = ['authorization_code', 'refresh_token']

    return { payload: payload as AdapterPayload, cacheMs: cacheDuration(res.headers.get('cache-control')) }
  }

  async function resolve(id: string, fetchUrl = id): Promise<AdapterPayload> {
    const hit = cache.get(id)
    if (hit && hit.until > Date.now()) return structuredClone(hit.payload)
    let request = pending.get(id)
    if (!request) {
      request = fetchDocument(id, fetchUrl).then(({ payload, cacheMs }) => {
        if (cacheMs > 0) cache.set(id, { payload, until: Date.now() + cacheMs })
        return payload
      })
      pending.set(id, request)
      request.finally(() => pending.delete(id)).catch(() => {})
    }
    return structuredClone(await request)
  }

  return { resolve, clear: () => cache.clear() }
}

function cacheDuration(cacheControl: string | null): number {
  if (!cacheControl) return CIMD_DEFAULT_CACHE_MS
  if (/(?:^|,)\s*(?:no-store|no-cache)\b/i.test(cacheControl)) return 0
  const m = /(?:^|,)\s*max-age\s*=\s*(\d+)/i.exec(cacheControl)
  if (!m?.[1]) return CIMD_DEFAULT_CACHE_MS
  return Math.min(Number(m[1]) * 1000, CIMD_MAX_CACHE_MS)
}

async function readCapped(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => {})
    throw new CimdError(`client_id metadata document is larger than ${max} bytes`)
  }
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > max) {
      await reader.cancel().catch(() => {})
      throw new CimdError(`client_id metadata document is larger than ${max} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
