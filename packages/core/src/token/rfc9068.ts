/**
 * JWT access tokens (RFC 9068) checked with the JWT best current practices (RFC 8725): keys only from the
 * issuer's JWKS, an asymmetric allow-list, exact `iss`, `aud` containing this resource, `exp` required and
 * finite, `nbf` and `iat` not in the future, and an ID token never accepted as an access token.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068
 * @see https://www.rfc-editor.org/rfc/rfc8725
 */
import { errors, jwtVerify, type FlattenedJWSInput, type JWSHeaderParameters, type JWTPayload } from 'jose'
import { decodeJsonObject } from './base64url.js'
import { isWeakRsaKey, verifyJwsNative, type VerifyPath } from './jws-node.js'
import { McpAuthError } from '../errors.js'
import { IdpUnavailable } from '../http/idp-fetch.js'
import { KeyNotFound } from './jwks.js'
import { assertNotSenderConstrained, optionalNumericDate, optionalString, readAudience } from './claims.js'

/** The unverified parts of a compact JWS, enough to choose the issuer and refuse cheaply. */
export interface PeekedJwt {
  header: Record<string, unknown>
  payload: Record<string, unknown>
}

const B64URL = /^[A-Za-z0-9_-]*$/

/**
 * Decode a compact JWS without verifying it. `undefined` when the token is not shaped like one (three
 * base64url parts whose first two are JSON objects): in `auto` mode such a token is opaque.
 */
export function peekJwt(token: string): PeekedJwt | undefined {
  const first = token.indexOf('.')
  const second = first < 0 ? -1 : token.indexOf('.', first + 1)
  if (second < 0 || token.indexOf('.', second + 1) >= 0) return undefined
  // RFC 7515 §2: no padding. jose's decoder would accept "sig==", giving one token many spellings (and cache keys).
  if (!B64URL.test(token.slice(second + 1))) return undefined
  const header = decodeJsonObject(token.slice(0, first))
  if (!header || typeof header.alg !== 'string') return undefined
  const payload = decodeJsonObject(token.slice(first + 1, second))
  if (!payload) return undefined
  return { header, payload }
}

/**
 * Is the token shaped like compact JOSE — a JWS or a JWE (RFC 7515 §7.1, RFC 7516 §7.1): a dot after a first
 * segment that is base64url of a JSON object (the protected header)? Such a token is judged locally in `auto`
 * mode, never sent to introspection, whatever else is wrong with it: oidc-provider, for one, refuses every
 * such token there (`unsupported_token_type`), and a forger's tokens must not cost IdP requests.
 */
export function isCompactJose(token: string): boolean {
  const dot = token.indexOf('.')
  return dot > 0 && decodeJsonObject(token.slice(0, dot)) !== undefined
}

/** `typ` values of access tokens: RFC 9068 `at+jwt`, and the plain `JWT` (or none) many IdPs still send. */
const ACCESS_TOKEN_TYP = new Set(['at+jwt', 'application/at+jwt', 'jwt', 'application/jwt'])

/** Refuse what is not an access token before any signature work. */
export function assertAccessTokenShape(peeked: PeekedJwt, algorithms: readonly string[]): void {
  const { header, payload } = peeked
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
    throw new McpAuthError('ERR_TOKEN_ALGORITHM', 'The token is signed with an algorithm that is not allowed')
  }
  const typ = header.typ
  if (typ !== undefined && (typeof typ !== 'string' || !ACCESS_TOKEN_TYP.has(typ.toLowerCase()))) {
    throw new McpAuthError('ERR_TOKEN_TYPE', 'The token is not an access token')
  }
  const isAtJwt = typeof typ === 'string' && typ.toLowerCase().endsWith('at+jwt')
  // An OIDC ID token carries nonce / at_hash / c_hash; an access token has no use for them (RFC 9068 §5).
  if (!isAtJwt && (payload.nonce !== undefined || payload.at_hash !== undefined || payload.c_hash !== undefined)) {
    throw new McpAuthError('ERR_TOKEN_TYPE', 'An ID token is not an access token')
  }
  if (header.kid !== undefined && typeof header.kid !== 'string') {
    // RFC 7515 §4.1.4: a kid is a string; a number or an object names no key.
    throw new McpAuthError('ERR_TOKEN_KEY_NOT_FOUND', 'No key of the issuer matches the token')
  }
  if (header.crit !== undefined) {
    throw new McpAuthError('ERR_TOKEN_MALFORMED', 'The token has critical header parameters this server does not understand')
  }
}

export interface JwtCheck {
  issuer: string
  audiences: readonly string[]
  /** Where the audience is; `aud` unless a profile says otherwise. */
  audienceClaim?: string
  algorithms: readonly string[]
  clockTolerance: number
  resolveKey: Parameters<typeof jwtVerify>[1]
  /** `false`: always verify through jose (WebCrypto), even where Node's crypto is available. */
  native?: boolean
  /** Where Node's crypto checks the signature (token/jws-node.ts); default `auto`. */
  path?: VerifyPath
}

/**
 * Verify signature and claims. Returns the payload, or throws a coded {@link McpAuthError}. With `peeked` (the
 * token already decoded by {@link peekJwt}) and Node's crypto available, the signature is checked natively and
 * the registered claims here, in the order and with the outcomes of jose's `jwtVerify`; otherwise jose does both.
 */
export async function verifyJwtAccessToken(token: string, check: JwtCheck, nowSeconds: number, peeked?: PeekedJwt): Promise<JWTPayload> {
  let payload: JWTPayload | undefined
  let resolveKey = check.resolveKey
  if (peeked && verifyJwsNative && check.native !== false) {
    const first = token.indexOf('.')
    const second = token.indexOf('.', first + 1)
    const input = { protected: token.slice(0, first), payload: token.slice(first + 1, second), signature: token.slice(second + 1) }
    let key: unknown
    try {
      key = await (check.resolveKey as (h: JWSHeaderParameters, t: FlattenedJWSInput) => Promise<unknown>)(peeked.header as JWSHeaderParameters, input)
    } catch (err) {
      throw mapJoseError(err)
    }
    if (isCryptoKey(key)) {
      if (isWeakRsaKey(key)) {
        // jose refuses such keys with a TypeError, which becomes the same "cannot validate" answer.
        throw new McpAuthError('ERR_IDP_UNAVAILABLE', 'The token could not be validated', { cause: new TypeError('RSA key under 2048 bits') })
      }
      if (!(await verifyJwsNative(peeked.header.alg as string, key, token.slice(0, second), input.signature, check.path))) {
        throw new McpAuthError('ERR_TOKEN_SIGNATURE', 'The token signature is invalid')
      }
      payload = peeked.payload as JWTPayload
      checkRegisteredClaims(payload, check, nowSeconds)
    } else {
      // Not a WebCrypto key (a resolver of another kind): let jose verify with the key already resolved.
      resolveKey = (async () => key) as unknown as JwtCheck['resolveKey']
    }
  }
  if (payload === undefined) {
    try {
      ;({ payload } = await jwtVerify(token, resolveKey as Parameters<typeof jwtVerify>[1] & ((...args: never[]) => unknown), {
        issuer: check.issuer,
        ...(check.audienceClaim && check.audienceClaim !== 'aud' ? {} : { audience: check.audiences as string[] }),
        algorithms: check.algorithms as string[],
        clockTolerance: check.clockTolerance,
        requiredClaims: ['exp'],
        currentDate: new Date(nowSeconds * 1000),
      }))
    } catch (err) {
      throw mapJoseError(err)
    }
  }
  const exp = optionalNumericDate(payload, 'exp')
  if (exp === undefined) throw new McpAuthError('ERR_TOKEN_CLAIM', 'The token has no exp claim')
  const iat = optionalNumericDate(payload, 'iat')
  if (iat !== undefined && iat > nowSeconds + check.clockTolerance) {
    throw new McpAuthError('ERR_TOKEN_NOT_YET_VALID', 'The token was issued in the future')
  }
  optionalNumericDate(payload, 'nbf')
  optionalString(payload, 'sub')
  optionalString(payload, 'jti')
  readAudience(payload)
  if (check.audienceClaim && check.audienceClaim !== 'aud') {
    const values = readAudience(payload, check.audienceClaim)
    if (!values?.some((v) => check.audiences.includes(v))) throw new McpAuthError('ERR_TOKEN_AUDIENCE', 'The token was not issued for this resource')
  }
  assertNotSenderConstrained(payload)
  return payload
}

function isCryptoKey(key: unknown): key is CryptoKey {
  return typeof key === 'object' && key !== null && 'algorithm' in key && 'type' in key
}

/**
 * The registered-claim checks of jose's `jwtVerify` with `{ issuer, audience, requiredClaims: ['exp'],
 * clockTolerance }`, in its order, mapped to the same codes as {@link mapJoseError} gives for jose's errors:
 * presence (exp, aud, iss), then iss, aud, the types of iat and nbf, nbf, and exp.
 */
function checkRegisteredClaims(payload: JWTPayload, check: JwtCheck, now: number): void {
  const byAud = !check.audienceClaim || check.audienceClaim === 'aud'
  if (payload.exp === undefined) throw new McpAuthError('ERR_TOKEN_CLAIM', 'The exp claim is missing or invalid')
  if (byAud && payload.aud === undefined) throw new McpAuthError('ERR_TOKEN_AUDIENCE', 'The token was not issued for this resource')
  if (payload.iss === undefined || payload.iss !== check.issuer) throw new McpAuthError('ERR_TOKEN_ISSUER', 'The token issuer is not trusted')
  if (byAud) {
    const aud = payload.aud as unknown
    const ok = typeof aud === 'string' ? check.audiences.includes(aud) : Array.isArray(aud) && aud.some((a) => check.audiences.includes(a as string))
    if (!ok) throw new McpAuthError('ERR_TOKEN_AUDIENCE', 'The token was not issued for this resource')
  }
  if (payload.iat !== undefined && typeof payload.iat !== 'number') throw new McpAuthError('ERR_TOKEN_CLAIM', 'The iat claim is missing or invalid')
  if (payload.nbf !== undefined) {
    if (typeof payload.nbf !== 'number') throw new McpAuthError('ERR_TOKEN_CLAIM', 'The nbf claim must be a NumericDate')
    if (payload.nbf > now + check.clockTolerance) throw new McpAuthError('ERR_TOKEN_NOT_YET_VALID', 'The token is not valid yet')
  }
  if (typeof payload.exp !== 'number') throw new McpAuthError('ERR_TOKEN_CLAIM', 'The exp claim is missing or invalid')
  if (payload.exp <= now - check.clockTolerance) throw new McpAuthError('ERR_TOKEN_EXPIRED', 'The access token expired')
}

function mapJoseError(err: unknown): McpAuthError {
  if (err instanceof McpAuthError) return err
  if (err instanceof IdpUnavailable) {
    return new McpAuthError('ERR_IDP_UNAVAILABLE', 'The authorization server cannot be reached to validate the token', { cause: err })
  }
  if (err instanceof KeyNotFound) return new McpAuthError('ERR_TOKEN_KEY_NOT_FOUND', 'No key of the issuer matches the token', { cause: err })
  if (err instanceof errors.JWTExpired) return new McpAuthError('ERR_TOKEN_EXPIRED', 'The access token expired', { cause: err })
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'iss':
        return new McpAuthError('ERR_TOKEN_ISSUER', 'The token issuer is not trusted', { cause: err })
      case 'aud':
        return new McpAuthError('ERR_TOKEN_AUDIENCE', 'The token was not issued for this resource', { cause: err })
      case 'nbf':
        // jose reports a non-numeric nbf under the same claim, with reason "invalid".
        if (err.reason !== 'check_failed') return new McpAuthError('ERR_TOKEN_CLAIM', 'The nbf claim must be a NumericDate', { cause: err })
        return new McpAuthError('ERR_TOKEN_NOT_YET_VALID', 'The token is not valid yet', { cause: err })
      default:
        return new McpAuthError('ERR_TOKEN_CLAIM', `The ${err.claim.replace(/[^a-z_]/gi, '')} claim is missing or invalid`, { cause: err })
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new McpAuthError('ERR_TOKEN_SIGNATURE', 'The token signature is invalid', { cause: err })
  if (err instanceof errors.JOSEAlgNotAllowed) return new McpAuthError('ERR_TOKEN_ALGORITHM', 'The token is signed with an algorithm that is not allowed', { cause: err })
  if (err instanceof errors.JOSEError) return new McpAuthError('ERR_TOKEN_MALFORMED', 'The access token is malformed', { cause: err })
  return new McpAuthError('ERR_IDP_UNAVAILABLE', 'The token could not be validated', { cause: err })
}
