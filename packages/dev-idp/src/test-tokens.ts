import { randomBytes } from 'node:crypto'
import * as jose from 'jose'
import type { Provider } from 'oidc-provider'
import type { KeyRing } from './keys.js'
import type { Settings } from './provider-config.js'
import { basicAuth } from './secret.js'
import type { IssueAccessTokenOptions } from './types.js'

export interface TestTokenDeps {
  settings: Settings
  issuer: string
  keys: KeyRing
  provider: Provider
}

/** issueAccessToken(): an RFC 9068 JWT signed with the current key, or an opaque token saved in the store. */
export async function issueAccessToken(deps: TestTokenDeps, opts: IssueAccessTokenOptions): Promise<string> {
  const s = deps.settings
  const tokenScopes = opts.scopes ?? s.resourceScopes
  const subject = opts.subject ?? s.users.first.id
  const clientId = opts.clientId ?? s.publicClient.clientId
  const ttl = opts.ttl ?? s.accessTokenTtl
  const format = opts.format ?? (opts.resource ? 'jwt' : 'opaque')
  if (!Number.isFinite(ttl)) throw new TypeError('dev-idp: ttl must be a number of seconds')
  if (format === 'jwt') {
    if (!opts.resource) throw new TypeError('dev-idp: a JWT access token needs a resource (its audience)')
    return signJwtAccessToken(deps, { ...opts, resource: opts.resource }, { tokenScopes, subject, clientId, ttl })
  }
  return saveOpaqueAccessToken(deps.provider, opts, { tokenScopes, subject, clientId, ttl })
}

interface Resolved {
  tokenScopes: string[]
  subject: string
  clientId: string
  ttl: number
}

async function signJwtAccessToken(deps: TestTokenDeps, opts: IssueAccessTokenOptions & { resource: string }, r: Resolved): Promise<string> {
  const key = deps.keys.current()
  const now = Math.floor(Date.now() / 1000)
  const payload: Record<string, unknown> = {
    iss: deps.issuer,
    sub: r.subject,
    aud: opts.resource,
    client_id: r.clientId,
    iat: now,
    exp: now + r.ttl,
    jti: randomBytes(16).toString('base64url'),
  }
  if (r.tokenScopes.length) payload['scope'] = r.tokenScopes.join(' ')
  Object.assign(payload, opts.extraClaims)
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k]
  return new jose.SignJWT(payload as jose.JWTPayload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
    .sign(await jose.importJWK(key.privateJwk, key.alg))
}

async function saveOpaqueAccessToken(provider: Provider, opts: IssueAccessTokenOptions, r: Resolved): Promise<string> {
  const client = await provider.Client.find(r.clientId)
  if (!client) throw new Error(`dev-idp: unknown client "${r.clientId}" (opaque tokens need a client registered at the IdP)`)
  if (!(r.ttl > 0)) throw new TypeError('dev-idp: opaque tokens need a positive ttl')
  const scope = r.tokenScopes.join(' ')
  const grant = new provider.Grant({ accountId: r.subject, clientId: r.clientId })
  if (scope) {
    if (opts.resource) grant.addResourceScope(opts.resource, scope)
    else grant.addOIDCScope(scope)
  }
  const grantId = await grant.save()
  const AccessToken = provider.AccessToken as unknown as new (init: Record<string, unknown>) => {
    aud?: string
    extra?: Record<string, unknown>
    save(): Promise<string>
  }
  const token = new AccessToken({
    accountId: r.subject,
    client,
    grantId,
    gty: 'authorization_code',
    scope: scope || undefined,
    expiresIn: Math.floor(r.ttl),
  })
  if (opts.resource) token.aud = opts.resource
  if (opts.extraClaims) token.extra = { ...opts.extraClaims }
  return token.save()
}

/** Client credentials grant through the real token endpoint, as the service client. */
export async function clientCredentials(
  issuer: string,
  client: { clientId: string; clientSecret: string },
  opts: { resource?: string; scope?: string },
): Promise<{ access_token: string; token_type: string; expires_in: number; scope?: string }> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' })
  if (opts.resource) form.set('resource', opts.resource)
  if (opts.scope) form.set('scope', opts.scope)
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: basicAuth(client.clientId, client.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: form,
  })
  const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined
  if (!res.ok || typeof json?.['access_token'] !== 'string') {
    throw new Error(
      `dev-idp: client_credentials failed: HTTP ${res.status} ${String(json?.['error'] ?? '')} ${String(json?.['error_description'] ?? '')}`.trim(),
    )
  }
  return json as { access_token: string; token_type: string; expires_in: number; scope?: string }
}

/** Revoke through the real revocation endpoint, as the resource server client. */
export async function revoke(issuer: string, client: { clientId: string; clientSecret: string }, token: string): Promise<void> {
  const res = await fetch(`${issuer}/token/revocation`, {
    method: 'POST',
    headers: {
      authorization: basicAuth(client.clientId, client.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`dev-idp: revocation failed: HTTP ${res.status} ${text.slice(0, 200)}`)
}
