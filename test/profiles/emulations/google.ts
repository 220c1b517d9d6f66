/**
 * Google as its documentation shows it: `https://accounts.google.com/.well-known/openid-configuration` (PKCE
 * `plain` and `S256`, no registration endpoint; `/.well-known/oauth-authorization-server` is 404), opaque
 * `ya29.…` access tokens, and the tokeninfo endpoint (GET `?access_token=` or a POST form) answering with
 * `aud`/`azp` = the OAuth client, `scope`, `sub` and `email` when the token has those scopes, and `exp` and
 * `expires_in` as *strings*; unknown or expired tokens get 400 `invalid_token` "Invalid Value". ID tokens are
 * RS256 JWTs with `aud` = the client, `at_hash`, `nonce`.
 *
 * Sources: developers.google.com/identity/openid-connect/openid-connect (discovery document, ID tokens),
 * developers.google.com/identity/sign-in/web/backend-auth (tokeninfo), …/protocols/oauth2/native-app.
 */
import { now, random, sign, signingKey, startEmulation, type Emulation } from './emulation.js'

interface GrantedToken {
  azp: string
  aud: string
  sub: string
  scope: string
  exp: number
  email?: string
}

export interface GoogleEmulation {
  emulation: Emulation
  issuer: string
  tokeninfoEndpoint: string
  clientId: string
  /** Requests that reached tokeninfo. */
  tokeninfoCalls: number
  /** Answer tokeninfo with this status (e.g. 503) instead. */
  failWith: number | undefined
  accessToken(opts?: { clientId?: string; scope?: string; ttl?: number }): string
  idToken(): Promise<string>
  close(): Promise<void>
}

export async function startGoogle(): Promise<GoogleEmulation> {
  const emulation = await startEmulation()
  const key = await signingKey('RS256')
  const origin = emulation.origin
  const clientId = '407408718192-3p6v0tcsfuvq5hvr1e1mbd0l6l4q1n0h.apps.googleusercontent.com'
  const tokens = new Map<string, GrantedToken>()
  const metadata = {
    issuer: origin,
    authorization_endpoint: `${origin}/o/oauth2/v2/auth`,
    device_authorization_endpoint: `${origin}/device/code`,
    token_endpoint: `${origin}/token`,
    userinfo_endpoint: `${origin}/v1/userinfo`,
    revocation_endpoint: `${origin}/revoke`,
    jwks_uri: `${origin}/oauth2/v3/certs`,
    response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token', 'none'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'profile'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    claims_supported: ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'picture', 'sub'],
    code_challenge_methods_supported: ['plain', 'S256'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
  }
  const g: GoogleEmulation = {
    emulation,
    issuer: origin,
    tokeninfoEndpoint: `${origin}/tokeninfo`,
    clientId,
    tokeninfoCalls: 0,
    failWith: undefined,
    accessToken: ({ clientId: cid = clientId, scope = 'openid https://www.googleapis.com/auth/userinfo.email', ttl = 3599 } = {}) => {
      const token = `ya29.a0${random(120)}`
      tokens.set(token, { azp: cid, aud: cid, sub: '110248495921238986420', scope, exp: now() + ttl, email: 'alice@gmail.com' })
      return token
    },
    idToken: () => {
      const t = now()
      return sign(key, { typ: 'JWT' }, {
        iss: origin, azp: clientId, aud: clientId, sub: '110248495921238986420', email: 'alice@gmail.com', email_verified: true,
        at_hash: random(), nonce: random(), name: 'Alice Doe', iat: t, exp: t + 3600,
      })
    },
    close: () => emulation.close(),
  }
  const tokeninfo: Parameters<Emulation['route']>[2] = (req, res, body, url) => {
    g.tokeninfoCalls++
    if (g.failWith !== undefined) return void res.writeHead(g.failWith, { 'content-type': 'text/html' }).end('<html>Error</html>')
    const form = req.method === 'POST' ? new URLSearchParams(body) : url.searchParams
    const granted = tokens.get(form.get('access_token') ?? '')
    if (!granted || granted.exp <= now()) return emulation.json(res, 400, { error: 'invalid_token', error_description: 'Invalid Value' })
    const { exp, email, ...rest } = granted
    emulation.json(res, 200, {
      ...rest, exp: String(exp), expires_in: String(exp - now()),
      ...(email && / (?:email|https:\/\/www\.googleapis\.com\/auth\/userinfo\.email)\b/.test(` ${granted.scope}`) ? { email, email_verified: 'true' } : {}),
      access_type: 'online',
    })
  }
  emulation.route('GET', '/.well-known/openid-configuration', (_req, res) => emulation.json(res, 200, metadata))
  emulation.route('GET', '/oauth2/v3/certs', (_req, res) => emulation.json(res, 200, { keys: [{ ...key.publicJwk, alg: 'RS256', use: 'sig' }] }))
  emulation.route('GET', '/tokeninfo', tokeninfo)
  emulation.route('POST', '/tokeninfo', tokeninfo)
  emulation.fallback = (_req, res) => void res.writeHead(404, { 'content-type': 'text/html; charset=UTF-8' }).end('<!DOCTYPE html><title>Error 404 (Not Found)!!1</title>')
  return g
}
