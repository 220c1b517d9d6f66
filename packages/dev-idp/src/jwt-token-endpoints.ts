import type { IncomingMessage, ServerResponse } from 'node:http'
import * as jose from 'jose'
import type { Provider } from 'oidc-provider'
import { sendJson } from './http.js'
import { SIGNING_ALGS, type KeyRing } from './keys.js'
import { sameSecret } from './secret.js'

// oidc-provider refuses structured (JWT) tokens at introspection and revocation, because it does not
// store them. Resource servers configured for introspection still meet JWTs from this IdP, so the front
// layer answers for JWTs itself: same client authentication, signature/issuer/typ/exp checks against
// our own keys, and a revocation list of jti values.

export function isJwtShaped(token: string): boolean {
  try {
    jose.decodeProtectedHeader(token)
    return token.split('.').length === 3
  } catch {
    return false
  }
}

export interface JwtTokenEndpointsDeps {
  provider: () => Provider
  issuer: string
  keys: KeyRing
  resourceServerClientId: string
  accessTokenTtl: number
}

export class JwtTokenEndpoints {
  private readonly revoked = new Map<string, number>() // jti -> exp (seconds)

  constructor(private readonly deps: JwtTokenEndpointsDeps) {}

  /** Answer POST /token/introspection or /token/revocation (`rel`) for a JWT `token`. */
  async handle(rel: string, req: IncomingMessage, res: ServerResponse, form: URLSearchParams, token: string): Promise<void> {
    const clientId = await this.authenticateClient(req, form)
    if (!clientId) {
      sendJson(
        res,
        401,
        { error: 'invalid_client', error_description: 'client authentication failed' },
        req.headers.authorization ? { 'www-authenticate': `Basic realm="${this.deps.issuer}"` } : {},
      )
      return
    }
    const payload = await this.verify(token)
    if (rel === '/token/introspection') {
      sendJson(res, 200, payload ? { ...payload, active: true, token_type: 'Bearer' } : { active: false })
      return
    }
    if (payload && typeof payload.jti === 'string') {
      if (payload['client_id'] !== clientId && clientId !== this.deps.resourceServerClientId) {
        sendJson(res, 400, { error: 'invalid_request', error_description: 'client is not authorized to revoke the presented token' })
        return
      }
      const now = Math.floor(Date.now() / 1000)
      for (const [jti, exp] of this.revoked) if (exp < now) this.revoked.delete(jti)
      this.revoked.set(payload.jti, payload.exp ?? now + this.deps.accessTokenTtl)
    }
    res.writeHead(200, { 'cache-control': 'no-store', 'content-length': '0' }).end()
  }

  private async authenticateClient(req: IncomingMessage, form: URLSearchParams): Promise<string | undefined> {
    let id: string | null = null
    let secret: string | null = null
    const header = req.headers.authorization
    if (header) {
      const m = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(header)
      if (!m?.[1]) return undefined
      const decoded = Buffer.from(m[1], 'base64').toString('utf8')
      const i = decoded.indexOf(':')
      if (i === -1) return undefined
      try {
        id = decodeURIComponent(decoded.slice(0, i).replace(/\+/g, '%20'))
        secret = decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, '%20'))
      } catch {
        return undefined
      }
    } else {
      id = form.get('client_id')
      secret = form.get('client_secret')
    }
    if (!id || !secret) return undefined
    const client = await this.deps.provider().Client.find(id).catch(() => undefined)
    if (!client?.clientSecret || client.clientAuthMethod === 'none') return undefined
    return sameSecret(client.clientSecret, secret) ? client.clientId : undefined
  }

  private async verify(token: string): Promise<jose.JWTPayload | undefined> {
    try {
      const jwks = jose.createLocalJWKSet({ keys: this.deps.keys.publicJwks() })
      const { payload } = await jose.jwtVerify(token, jwks, {
        issuer: this.deps.issuer,
        typ: 'at+jwt',
        algorithms: [...SIGNING_ALGS],
        requiredClaims: ['exp'],
      })
      if (typeof payload.jti === 'string' && this.revoked.has(payload.jti)) return undefined
      return payload
    } catch {
      return undefined
    }
  }
}
