/**
 * What the hostile battery needs around each case: the trusted test issuer, an "attacker" server whose URL the
 * hostile tokens and documents point at (it must never be asked anything), a recording `fetch` that lets no
 * request leave loopback, and forging helpers for tokens no real IdP would issue.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { base64url, type JWTPayload } from 'jose'
import type { McpAuthOptions } from '@mcp-oauth/core'
import type { TestIssuer } from '../helpers/test-issuer.js'

export const RESOURCE = 'https://mcp.example.com/mcp'
export const METADATA_URL = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'
/** An https host the hostile documents name; the recording fetch refuses it without a DNS lookup. */
export const FAR_HOST = 'https://keys.example.net'

/** A server standing for everything an attacker controls. Every request it sees is a failed invariant. */
export interface Attacker {
  origin: string
  /** Requests received since start. */
  count: number
  paths: string[]
  close(): Promise<void>
}

export async function startAttacker(): Promise<Attacker> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const attacker: Attacker = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: 0,
    paths: [],
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
  server.on('request', (req, res) => {
    attacker.count++
    attacker.paths.push(req.url ?? '')
    // Answer like a plausible IdP, so that a request that did go out would also succeed and be noticed.
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[],"active":true}')
  })
  return attacker
}

/** A `fetch` for `McpAuthOptions.fetch` that records every URL and lets nothing leave 127.0.0.1. */
export interface RecordingFetch {
  fetch: typeof fetch
  urls: string[]
}

export function recordingFetch(): RecordingFetch {
  const urls: string[] = []
  return {
    urls,
    fetch: async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
      urls.push(url)
      if (new URL(url).hostname !== '127.0.0.1') throw new TypeError('fetch failed (the battery lets no request leave loopback)')
      return globalThis.fetch(input, init)
    },
  }
}

/** One hostile request, in raw form: the path is sent byte for byte, header arrays become repeated fields. */
export interface HostileRequest {
  method?: string
  path?: string
  headers?: Record<string, string | string[]>
}

/** How a case answers at the introspection endpoint or a metadata URL. */
export type Answer =
  | { json: unknown; status?: number; contentType?: string }
  | { text: string; status?: number; contentType?: string }
  | { redirect: string }
  | { hang: true }
  | { bytes: number }

export interface HostileContext {
  idp: TestIssuer
  attacker: Attacker
  resource: string
  /** Seconds, fixed when the case starts. */
  now: number
  /** A correctly signed access token for this resource; `claims` override the defaults (`undefined` removes one). */
  token(claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>
  /** Sign exact header and payload (objects or JSON text) with the issuer's ES256 key. */
  raw(header: Record<string, unknown> | string, payload: Record<string, unknown> | string): Promise<string>
  /** Sign exact bytes (for encodings JSON.stringify cannot produce). */
  rawBytes(header: Uint8Array | string, payload: Uint8Array | string): Promise<string>
  /** The default claims of an access token, as an object to edit. */
  claims(extra?: Record<string, unknown>): Record<string, unknown>
  /** An `Authorization: Bearer …` request to the resource. */
  bearer(token: string, path?: string): HostileRequest
  /** Answer the introspection endpoint this way for this case. */
  introspection(answer: Answer): void
  /** Answer the issuer's metadata URL this way for this case. */
  metadata(answer: Answer): void
  /** Answer the issuer's JWKS URL this way for this case. */
  jwks(answer: Answer): void
}

function write(res: ServerResponse, req: IncomingMessage, answer: Answer): void {
  req.resume()
  if ('hang' in answer) return
  if ('redirect' in answer) {
    res.writeHead(302, { location: answer.redirect }).end()
  } else if ('bytes' in answer) {
    res.writeHead(200, { 'content-type': 'application/json' })
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    res.write('{"active":true,"keys":[],"pad":"')
    let left = answer.bytes
    const pump = (): void => {
      while (left > 0) {
        left -= chunk.length
        if (!res.write(chunk)) {
          res.once('drain', pump)
          return
        }
      }
      res.end('"}')
    }
    res.on('error', () => {})
    pump()
  } else {
    const body = 'json' in answer ? JSON.stringify(answer.json) : answer.text
    res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? 'application/json' }).end(body)
  }
}

const enc = (v: Uint8Array | string): string => base64url.encode(v)

export function makeContext(idp: TestIssuer, attacker: Attacker): HostileContext {
  const now = Math.floor(Date.now() / 1000)
  const routes = new Map<string, Answer>()
  idp.route = (req, res, path) => {
    const wellKnown = path.startsWith('/.well-known/')
    const answer = routes.get(wellKnown ? 'metadata' : path)
    if (!answer) return false
    write(res, req, answer)
    return true
  }
  const key = idp.keys.find((k) => k.alg === 'ES256')!
  const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    iss: idp.issuer, aud: RESOURCE, exp: now + 300, iat: now, sub: 'user-1', client_id: 'client-1', scope: 'mcp:tools', ...extra,
  })
  const rawBytes = async (header: Uint8Array | string, payload: Uint8Array | string): Promise<string> => {
    const input = `${enc(header)}.${enc(payload)}`
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, new TextEncoder().encode(input))
    return `${input}.${enc(new Uint8Array(sig))}`
  }
  return {
    idp,
    attacker,
    resource: RESOURCE,
    now,
    claims,
    token: (extra = {}, header = {}) => idp.sign(claims(extra) as JWTPayload, { header, key }),
    raw: (header, payload) => rawBytes(typeof header === 'string' ? header : JSON.stringify(header), typeof payload === 'string' ? payload : JSON.stringify(payload)),
    rawBytes,
    bearer: (token, path = '/mcp') => ({ method: 'POST', path, headers: { authorization: `Bearer ${token}` } }),
    introspection: (answer) => routes.set('/introspect', answer),
    metadata: (answer) => routes.set('metadata', answer),
    jwks: (answer) => routes.set('/jwks', answer),
  }
}

/** The options every case starts from. */
export function baseOptions(idp: TestIssuer, fetch: typeof globalThis.fetch): McpAuthOptions {
  return { resource: RESOURCE, issuer: idp.issuer, scopesSupported: ['mcp:tools'], timeout: 1000, fetch }
}

/** Options that add RFC 7662 introspection (opaque tokens, `tokenFormat: 'auto'`), never caching a refusal. */
export const INTROSPECTION: Partial<McpAuthOptions> = {
  introspection: { clientId: 'mcp-resource-server', clientSecret: 'rs-secret', inactiveCacheTtl: 0 },
}

/** base64url of a JSON value, for hand-built compact serializations. */
export const b64json = (v: unknown): string => enc(JSON.stringify(v))
export { enc as b64 }
