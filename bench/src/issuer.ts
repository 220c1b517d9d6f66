/**
 * A small local issuer for the distinct-token pools: a node:http server on 127.0.0.1:0 serving RFC 8414 and
 * OIDC discovery documents and a JWKS with one RS256, one ES256 and one EdDSA key. Tokens are signed here
 * with node:crypto (minting 10,000s through oidc-provider would take minutes); for a verifier they are the
 * same thing as tokens from a real IdP: a JWS whose key it fetches from the issuer's `jwks_uri`.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'

export type Alg = 'RS256' | 'ES256' | 'EdDSA'
export const ALGS: readonly Alg[] = ['RS256', 'ES256', 'EdDSA']

/** A signing key in a form that crosses to a worker thread. */
export interface SigningKeyExport {
  alg: Alg
  kid: string
  /** PKCS#8 PEM. */
  pem: string
}

interface SigningKey {
  alg: Alg
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
}

export interface LocalIssuer {
  issuer: string
  jwksUri: string
  /** Requests served per path, to show each server fetched discovery and the JWKS once. */
  counts: Map<string, number>
  /** `n` distinct valid access tokens for `audience`, signed with the `alg` key. */
  mint(alg: Alg, n: number, audience: string): Promise<string[]>
  /** The public key of `alg`, for the raw `crypto.verify` loop. */
  publicKey(alg: Alg): KeyObject
  /** The private key of `alg`, for minting in another thread. */
  exportKey(alg: Alg): SigningKeyExport
  close(): Promise<void>
}

function generate(alg: Alg): SigningKey {
  const pair = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('ed25519')
  return { alg, kid: `bench-${alg.toLowerCase()}`, ...pair }
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

function signAsync(alg: Alg, privateKey: KeyObject, input: Buffer): Promise<Buffer> {
  // The callback form runs on the libuv thread pool, so minting RS256 pools uses both cores.
  const digest = alg === 'EdDSA' ? null : 'sha256'
  const key = alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' as const } : privateKey
  return new Promise((resolve, reject) => sign(digest, input, key, (err, sig) => (err ? reject(err) : resolve(sig))))
}

/**
 * `n` distinct RFC 9068 access tokens, as an IdP issues them to many users (distinct `sub` and `jti`), the
 * same claims for every algorithm, valid for an hour.
 */
export async function mintTokens(key: SigningKeyExport | SigningKey, issuer: string, n: number, audience: string): Promise<string[]> {
  const privateKey = 'pem' in key ? createPrivateKey(key.pem) : key.privateKey
  const header = b64({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
  const now = Math.floor(Date.now() / 1000)
  const out: string[] = new Array(n)
  const batch = 256
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, async (_, j) => {
      const payload = b64({
        iss: issuer, sub: `user-${i + j}`, aud: audience, client_id: 'bench-client', scope: 'mcp:tools',
        iat: now, exp: now + 3600, jti: randomUUID(),
      })
      const input = `${header}.${payload}`
      out[i + j] = `${input}.${(await signAsync(key.alg, privateKey, Buffer.from(input))).toString('base64url')}`
    }))
  }
  return out
}

export async function startLocalIssuer(): Promise<LocalIssuer> {
  const keys = new Map(ALGS.map((alg) => [alg, generate(alg)]))
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const jwksUri = `${origin}/jwks`
  const metadata = JSON.stringify({
    issuer: origin,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    registration_endpoint: `${origin}/register`,
    jwks_uri: jwksUri,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...ALGS],
    scopes_supported: ['openid', 'mcp:tools'],
  })
  const jwks = JSON.stringify({
    keys: [...keys.values()].map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg: k.alg, use: 'sig' })),
  })
  const counts = new Map<string, number>()
  server.on('request', (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    counts.set(path, (counts.get(path) ?? 0) + 1)
    if (path === '/.well-known/oauth-authorization-server' || path === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(metadata)
    } else if (path === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks)
    } else {
      res.writeHead(404).end()
    }
  })

  return {
    issuer: origin,
    jwksUri,
    counts,
    publicKey: (alg) => keys.get(alg)!.publicKey,
    mint: (alg, n, audience) => mintTokens(keys.get(alg)!, origin, n, audience),
    exportKey: (alg) => {
      const k = keys.get(alg)!
      return { alg, kid: k.kid, pem: k.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string }
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
