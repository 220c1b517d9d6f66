/**
 * A small real issuer for core tests: a node:http server on 127.0.0.1:0 serving RFC 8414 metadata and a JWKS,
 * with keys generated per run, and a signer that can forge any header and claims (that is the point: the
 * hostile battery needs tokens no real IdP would issue). End-to-end tests use @mcp-oauth/dev-idp instead.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT, base64url, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose'

export type Alg = 'RS256' | 'ES256' | 'EdDSA' | 'PS256' | 'ES384'

export interface TestKey {
  kid: string
  alg: Alg
  privateKey: CryptoKey
  publicJwk: JWK
}

export interface TestIssuer {
  issuer: string
  origin: string
  jwksUri: string
  keys: TestKey[]
  counts: { metadata: number; jwks: number; introspection: number; total: number }
  /** Override how a route answers: return true when handled. */
  route: ((req: IncomingMessage, res: ServerResponse, path: string) => boolean) | undefined
  /** Metadata served (edit to break it). */
  metadata: Record<string, unknown>
  /** JWKS served; default the public keys. */
  jwks: () => unknown
  sign(claims: JWTPayload, opts?: { header?: Record<string, unknown>; key?: TestKey }): Promise<string>
  /** Sign exact header and payload text with an ES256 key, bypassing every check jose does when signing. */
  signRaw(header: Record<string, unknown> | string, payload: Record<string, unknown> | string, key?: TestKey): Promise<string>
  addKey(alg?: Alg, kid?: string): Promise<TestKey>
  close(): Promise<void>
}

export async function makeKey(alg: Alg = 'ES256', kid = `k-${Math.random().toString(36).slice(2, 10)}`): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, privateKey, publicJwk }
}

export async function startTestIssuer(opts: { path?: string; alg?: Alg } = {}): Promise<TestIssuer> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const path = opts.path ?? ''
  const issuer = `${origin}${path}`
  const first = await makeKey(opts.alg ?? 'ES256')
  const t: TestIssuer = {
    issuer,
    origin,
    jwksUri: `${origin}/jwks`,
    keys: [first],
    counts: { metadata: 0, jwks: 0, introspection: 0, total: 0 },
    route: undefined,
    metadata: {
      issuer,
      jwks_uri: `${origin}/jwks`,
      introspection_endpoint: `${origin}/introspect`,
      token_endpoint: `${origin}/token`,
      code_challenge_methods_supported: ['S256'],
    },
    jwks: () => ({ keys: t.keys.map((k) => k.publicJwk) }),
    async sign(claims, o = {}) {
      const key = o.key ?? t.keys[0]!
      const now = Math.floor(Date.now() / 1000)
      return new SignJWT({ iss: issuer, iat: now, exp: now + 300, sub: 'user-1', client_id: 'client-1', ...claims })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...o.header } as never)
        .sign(key.privateKey)
    },
    async signRaw(header, payload, key = t.keys.find((k) => k.alg === 'ES256')) {
      if (!key) throw new Error('signRaw needs an ES256 key')
      const enc = (v: Record<string, unknown> | string) => base64url.encode(typeof v === 'string' ? v : JSON.stringify(v))
      const input = `${enc(header)}.${enc(payload)}`
      const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, new TextEncoder().encode(input))
      return `${input}.${base64url.encode(new Uint8Array(sig))}`
    },
    async addKey(alg = 'ES256', kid) {
      const k = await makeKey(alg, kid)
      t.keys.unshift(k)
      return k
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
  const wellKnown = path
    ? [`/.well-known/oauth-authorization-server${path}`]
    : ['/.well-known/oauth-authorization-server']
  server.on('request', (req, res) => {
    const p = (req.url ?? '/').split('?')[0]!
    t.counts.total++
    if (t.route?.(req, res, p)) return
    if (wellKnown.includes(p)) {
      t.counts.metadata++
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(t.metadata))
    } else if (p === '/jwks') {
      t.counts.jwks++
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(t.jwks()))
    } else if (p === '/introspect') {
      // Like a real IdP for a token it does not know (RFC 7662 §2.2); tests that need more set `route`.
      t.counts.introspection++
      req.resume()
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"active":false}')
    } else {
      res.writeHead(404).end()
    }
  })
  return t
}
