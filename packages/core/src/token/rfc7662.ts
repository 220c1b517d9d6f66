/**
 * Token introspection (RFC 7662), with client authentication by `client_secret_basic`, `client_secret_post`
 * or `private_key_jwt` (RFC 7523), and JWT responses (RFC 9701) when the authorization server sends them.
 *
 * Only `active === true` (the JSON boolean) is active. An error answer about the token (`invalid_token`,
 * `unsupported_token_type`, …) counts as `active: false`. Our own credentials refused, and every failure to get a
 * clear answer (network, timeout, 5xx, malformed body), is "cannot validate", which the caller turns into 503 and
 * never caches.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7662
 * @see https://www.rfc-editor.org/rfc/rfc9701
 */
import { SignJWT, decodeProtectedHeader, importJWK, jwtVerify } from 'jose'
import { McpAuthError } from '../errors.js'
import { IdpUnavailable, idpFetch, parseJsonObject, type IdpFetchOptions } from '../http/idp-fetch.js'
import type { ResolvedIntrospection } from '../options.js'
import { assertNotSenderConstrained, optionalNumericDate, optionalString, readAudience } from './claims.js'
import type { JwtCheck } from './rfc9068.js'

const JWT_RESPONSE_TYPE = 'application/token-introspection+jwt'

export interface IntrospectionTarget {
  issuer: string
  endpoint: string
  settings: ResolvedIntrospection
  audiences: readonly string[]
  audienceClaim?: string
  /** For RFC 9701 signed responses: the issuer's keys. */
  resolveKey: JwtCheck['resolveKey']
  algorithms: readonly string[]
}

function basicCredentials(id: string, secret: string): string {
  // RFC 6749 §2.3.1: form-urlencode each part before base64.
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')
  const bytes = new TextEncoder().encode(`${enc(id)}:${enc(secret)}`)
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return `Basic ${btoa(binary)}`
}

let signingKeys = new WeakMap<object, Promise<CryptoKey | Uint8Array>>()

async function clientAssertion(target: IntrospectionTarget): Promise<string> {
  const pk = target.settings.privateKey
  if (!pk) throw new IdpUnavailable('private_key_jwt without a key')
  const alg = ('key' in pk ? pk.alg : pk.alg) as string
  const kid = 'key' in pk ? pk.kid : (pk as { kid?: string }).kid
  let key = signingKeys.get(pk)
  if (!key) {
    key = 'key' in pk ? Promise.resolve(pk.key) : importJWK(pk as Parameters<typeof importJWK>[0], alg)
    signingKeys.set(pk, key)
  }
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({})
    .setProtectedHeader({ alg, ...(kid ? { kid } : {}) })
    .setIssuer(target.settings.clientId)
    .setSubject(target.settings.clientId)
    .setAudience(target.issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .setJti(crypto.randomUUID())
    .sign(await key)
}

/** For tests that swap keys. */
export function resetClientAssertionKeys(): void {
  signingKeys = new WeakMap()
}

/**
 * Ask the introspection endpoint about a token. Returns the response object when active, throws
 * `ERR_TOKEN_INACTIVE` (or another `invalid_token` code) when not, and {@link IdpUnavailable} when there is no
 * trustworthy answer.
 */
export async function introspect(token: string, target: IntrospectionTarget, fetchOptions: IdpFetchOptions, nowSeconds: number, clockTolerance: number): Promise<Record<string, unknown>> {
  const { settings } = target
  const body = new URLSearchParams({ token, token_type_hint: 'access_token' })
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: `application/json, ${JWT_RESPONSE_TYPE};q=0.9`,
  }
  if (settings.authMethod === 'client_secret_basic') {
    headers.authorization = basicCredentials(settings.clientId, settings.clientSecret ?? '')
  } else if (settings.authMethod === 'client_secret_post') {
    body.set('client_id', settings.clientId)
    body.set('client_secret', settings.clientSecret ?? '')
  } else {
    body.set('client_id', settings.clientId)
    body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
    body.set('client_assertion', await clientAssertion(target))
  }
  const { response, body: text } = await idpFetch(target.endpoint, { method: 'POST', headers, body: body.toString() }, fetchOptions)
  if (response.status !== 200) throw introspectionErrorAnswer(response.status, text)
  const contentType = (response.headers.get('content-type') ?? '').toLowerCase()
  const result = contentType.startsWith(JWT_RESPONSE_TYPE)
    ? await verifyJwtResponse(text, target, nowSeconds, clockTolerance)
    : parseJsonObject(text, target.endpoint)
  return checkIntrospectionResponse(result, target, nowSeconds, clockTolerance)
}

/** OAuth errors (RFC 6749 §5.2, RFC 7662 §2.3, RFC 6750 §3.1) that say our client was not accepted. */
const CLIENT_ERRORS = new Set(['invalid_client', 'unauthorized_client'])
/** OAuth errors that are about the token itself. */
const TOKEN_ERRORS = new Set(['invalid_token', 'unsupported_token_type'])

/**
 * What a non-200 introspection answer means. Our credentials refused (401, 403, `invalid_client`,
 * `unauthorized_client`) → {@link IdpUnavailable} whose reason says so (a 503, never the token's fault); a 4xx whose OAuth error is about the token
 * (`invalid_token`, `unsupported_token_type` — oidc-provider's answer for a JWT —, or `invalid_request` whose
 * description names the token) → `ERR_TOKEN_INACTIVE`, as if `active: false`; anything else (5xx, other 4xx,
 * no OAuth error) → {@link IdpUnavailable}.
 */
export function introspectionErrorAnswer(status: number, body: string): McpAuthError | IdpUnavailable {
  let error: string | undefined
  let description = ''
  try {
    const json: unknown = JSON.parse(body)
    if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
      const { error: e, error_description: d } = json as Record<string, unknown>
      if (typeof e === 'string') error = e
      if (typeof d === 'string') description = d
    }
  } catch {
    // Not JSON: no OAuth error to read.
  }
  const answer = `HTTP ${status}${error ? ` ${error.slice(0, 40).replace(/[^\x21-\x7e]/g, '?')}` : ''}`
  if (status === 401 || status === 403 || (error !== undefined && CLIENT_ERRORS.has(error))) {
    return new IdpUnavailable(`introspection client credentials refused (${answer}): check introspection.clientId and its secret or key`)
  }
  if (status >= 400 && status < 500 && error !== undefined) {
    const aboutToken = TOKEN_ERRORS.has(error) || (error === 'invalid_request' && /\btoken\b/i.test(description) && !/\bclient/i.test(description))
    if (aboutToken) return new McpAuthError('ERR_TOKEN_INACTIVE', 'The authorization server does not accept the access token')
  }
  return new IdpUnavailable(`introspection answered ${answer}`)
}

/** RFC 9701 §5: a JWT signed by the AS, `aud` = our client id, the answer in `token_introspection`. */
async function verifyJwtResponse(jwt: string, target: IntrospectionTarget, nowSeconds: number, clockTolerance: number): Promise<Record<string, unknown>> {
  try {
    const header = decodeProtectedHeader(jwt.trim())
    if (typeof header.typ !== 'string' || !header.typ.toLowerCase().endsWith('token-introspection+jwt')) {
      throw new IdpUnavailable('signed introspection response has the wrong typ')
    }
    const { payload } = await jwtVerify(jwt.trim(), target.resolveKey as never, {
      issuer: target.issuer,
      audience: target.settings.clientId,
      algorithms: target.algorithms as string[],
      clockTolerance,
      currentDate: new Date(nowSeconds * 1000),
    })
    const inner = payload.token_introspection
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) throw new IdpUnavailable('signed introspection response has no token_introspection object')
    return inner as Record<string, unknown>
  } catch (err) {
    if (err instanceof IdpUnavailable) throw err
    throw new IdpUnavailable(`signed introspection response did not verify: ${(err as Error).message}`)
  }
}

/** The checks RFC 7662 leaves to the resource server. */
export function checkIntrospectionResponse(result: Record<string, unknown>, target: IntrospectionTarget, nowSeconds: number, clockTolerance: number): Record<string, unknown> {
  if (typeof result.active !== 'boolean') throw new IdpUnavailable('introspection response has no boolean "active"')
  if (result.active !== true) throw new McpAuthError('ERR_TOKEN_INACTIVE', 'The access token is not active')
  const exp = optionalNumericDate(result, 'exp')
  if (exp !== undefined && exp <= nowSeconds - clockTolerance) throw new McpAuthError('ERR_TOKEN_EXPIRED', 'The access token expired')
  const nbf = optionalNumericDate(result, 'nbf')
  if (nbf !== undefined && nbf > nowSeconds + clockTolerance) throw new McpAuthError('ERR_TOKEN_NOT_YET_VALID', 'The token is not valid yet')
  const iss = optionalString(result, 'iss')
  if (iss !== undefined && iss !== target.issuer) throw new McpAuthError('ERR_TOKEN_ISSUER', 'The token issuer is not trusted')
  const aud = readAudience(result, target.audienceClaim)
  if (aud !== undefined && !aud.some((a) => target.audiences.includes(a))) {
    throw new McpAuthError('ERR_TOKEN_AUDIENCE', 'The token was not issued for this resource')
  }
  const tokenType = optionalString(result, 'token_type')
  if (tokenType !== undefined && !['bearer', 'access_token', 'dpop'].includes(tokenType.toLowerCase())) {
    // A refresh token is "active" too. A DPoP token (RFC 9449 §6.2) passes here; token/dpop.ts demands its proof.
    throw new McpAuthError('ERR_TOKEN_TYPE', 'The token is not a bearer access token')
  }
  assertNotSenderConstrained(result)
  optionalString(result, 'sub')
  optionalString(result, 'jti')
  return result
}
