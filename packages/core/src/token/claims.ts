/**
 * Mapping claims (from a JWT or an introspection response) to {@link AuthInfo}, with the type checks that
 * make a malformed claim a refusal rather than a surprise.
 */
import type { AuthInfo } from '../auth-info.js'
import { McpAuthError } from '../errors.js'
import type { ResolvedIssuer } from '../options.js'

/**
 * Scopes from the issuer's scope claims: by default `scope` (a space-separated string, RFC 9068 §2.2.3 /
 * RFC 7662 — an array there is malformed) and `scp` (string or array, Entra/Okta). Profiles add others
 * (`permissions` for Auth0 RBAC, `roles` for Entra app roles), which may be strings or arrays.
 */
export function readScopes(claims: Record<string, unknown>, names: readonly string[] = ['scope', 'scp']): string[] {
  const out = new Set<string>()
  for (const name of names) {
    const value = claims[name]
    if (value === undefined) continue
    if (typeof value === 'string') {
      for (const s of value.split(' ')) if (s) out.add(s)
    } else if (name !== 'scope' && Array.isArray(value) && value.every((s) => typeof s === 'string')) {
      for (const s of value as string[]) if (s) out.add(s)
    } else {
      throw new McpAuthError('ERR_TOKEN_CLAIM', `The ${name} claim must be ${name === 'scope' ? 'a string' : 'a string or an array of strings'}`)
    }
  }
  return [...out]
}

export function optionalString(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new McpAuthError('ERR_TOKEN_CLAIM', `The ${name} claim must be a string`)
  return value
}

/** A NumericDate (RFC 7519 §2): a finite number. `1e400` parses to Infinity and must not mean "never expires". */
export function optionalNumericDate(claims: Record<string, unknown>, name: string): number | undefined {
  const value = claims[name]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new McpAuthError('ERR_TOKEN_CLAIM', `The ${name} claim must be a NumericDate`)
  }
  return value
}

/** `client_id` (RFC 9068 §2.2), else `azp` (OIDC), else empty; profiles name others (`appid`, `cid`). */
export function readClientId(claims: Record<string, unknown>, names: readonly string[] = ['client_id', 'azp']): string {
  for (const name of names) {
    const value = optionalString(claims, name)
    if (value !== undefined) return value
  }
  return ''
}

/** `aud` (or the claim named) as a list; a string or an array of strings, anything else is malformed. */
export function readAudience(claims: Record<string, unknown>, name = 'aud'): string[] | undefined {
  const aud = claims[name]
  if (aud === undefined) return undefined
  if (typeof aud === 'string') return [aud]
  if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) return aud as string[]
  throw new McpAuthError('ERR_TOKEN_CLAIM', `The ${name} claim must be a string or an array of strings`)
}

/**
 * A sender-constrained token must not be accepted as a plain bearer token: any `cnf` (RFC 7800) binds it to a key
 * the presenter must prove. The one proof this server checks is DPoP's (RFC 9449), so a `cnf` holding exactly a
 * `jkt` passes verification — and token/dpop.ts then demands the proof on every request, refusing it as `Bearer`
 * (cache hits included). Any other binding — a client certificate `x5t#S256` (RFC 8705 §3), a `jwk`/`kid` — is
 * refused here, or a stolen bound token would work as a bearer one.
 */
export function assertNotSenderConstrained(claims: Record<string, unknown>): void {
  const cnf = claims.cnf
  if (cnf === undefined) return
  const dpopBound = typeof cnf === 'object' && cnf !== null && !Array.isArray(cnf)
    && Object.keys(cnf).length === 1 && typeof (cnf as { jkt?: unknown }).jkt === 'string' && /^[A-Za-z0-9_-]{43}$/.test((cnf as { jkt: string }).jkt)
  if (!dpopBound) throw new McpAuthError('ERR_TOKEN_TYPE', 'A sender-constrained token cannot be used as a bearer token')
}

/** The {@link AuthInfo} of verified claims, with the issuer's required claims, scope claims and prefix applied. */
export function toAuthInfo(token: string, claims: Record<string, unknown>, issuer: ResolvedIssuer, verifiedBy: 'jwt' | 'introspection', resource: URL): AuthInfo {
  const exp = optionalNumericDate(claims, 'exp')
  for (const [name, value] of issuer.requiredClaims) {
    if (claims[name] !== value) throw new McpAuthError('ERR_TOKEN_CLAIM', `The ${name.replace(/[^\w-]/g, '')} claim does not have the value this server requires`)
  }
  const prefix = issuer.scopePrefix
  const scopes = readScopes(claims, issuer.scopeClaims)
  const info: AuthInfo = {
    token,
    clientId: readClientId(claims, issuer.clientIdClaims),
    scopes: prefix ? scopes.map((s) => (s.startsWith(prefix) ? s : prefix + s)) : scopes,
    resource,
    extra: { subject: optionalString(claims, 'sub'), issuer: issuer.issuer, claims, verifiedBy },
  }
  if (exp !== undefined) info.expiresAt = exp
  return info
}
