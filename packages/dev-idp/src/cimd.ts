import type { AdapterPayload } from 'oidc-provider'

/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document) the dev IdP resolves
 * itself: plain http on loopback, and https ids mapped to a local origin by `mapClientMetadataHost()`.
 * Every other https client_id is left to oidc-provider's own `clientIdMetadataDocument` feature.
 */
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

/**
 * The Client adapter's fallback for unknown ids: resolve loopback http ids and mapped https ids
 * (`mapHost`, as if an /etc/hosts entry pointed the host at a local TLS-terminated origin); leave
 * anything else to oidc-provider. Document errors become the given `invalidClient` error.
 */
export function createCimdClientResolver(invalidClient: (message: string) => Error): {
  resolveClient: (id: string) => Promise<AdapterPayload | undefined>
  mapHost: (host: string, origin: string) => void
} {
  const cimd = createLoopbackCimdResolver()
  const hosts = new Map<string, string>()
  const mappedFetchUrl = (id: string): string | undefined => {
    if (!id.startsWith('https://')) return undefined
    try {
      const url = new URL(id)
      const origin = hosts.get(url.host)
      return origin && url.href === id ? `${origin}${url.pathname}${url.search}` : undefined
    } catch {
      return undefined
    }
  }
  return {
    async resolveClient(id) {
      const mapped = mappedFetchUrl(id)
      if (!mapped && !isLoopbackHttpClientId(id)) return undefined
      try {
        return await cimd.resolve(id, mapped)
      } catch (err) {
        if (err instanceof CimdError) throw invalidClient(err.message)
        throw err
      }
    },
    mapHost(host, origin) {
      hosts.set(host.toLowerCase(), origin.replace(/\/$/, ''))
    },
  }
}
