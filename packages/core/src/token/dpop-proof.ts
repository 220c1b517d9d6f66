/**
 * Checking one DPoP proof (RFC 9449 §4.3) as a resource server: a single compact JWS with `typ: dpop+jwt`, an
 * asymmetric `alg` from the allow-list, an embedded public `jwk` (never a private or symmetric key), a valid
 * signature by that key, `htm`/`htu` equal to this request, a recent `iat`, and `ath` = SHA-256 of the access
 * token presented with it (§7). The result names the key (its RFC 7638 thumbprint, compared with the token's
 * `cnf.jkt` by the caller) and the `jti` (the caller's replay store decides whether it was seen before).
 *
 * Nothing here fetches anything: the key is the one in the proof, which is why the binding to the token's
 * `cnf.jkt` is what makes it mean anything.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.3
 */
import { calculateJwkThumbprint, compactVerify, importJWK, type JWK } from 'jose'
import { LRUCache } from 'lru-cache'
import { McpAuthError } from '../errors.js'
import { decodeJson as decodeSegment } from './base64url.js'
import { hashToken } from './hash.js'
import { isWeakRsaKey, verifyJwsNative } from './jws-node.js'

/** The proof algorithms accepted by default: every asymmetric JWS algorithm (RFC 9449 §11.6: never `none` or a MAC). */
export const DPOP_ALGORITHMS: readonly string[] = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519']

/** The key type (and curve) each algorithm needs: a P-384 key can never sign an ES256 proof. */
const KEY_OF_ALG: Record<string, { kty: string; crv?: string }> = {
  ES256: { kty: 'EC', crv: 'P-256' }, ES384: { kty: 'EC', crv: 'P-384' }, ES512: { kty: 'EC', crv: 'P-521' },
  PS256: { kty: 'RSA' }, PS384: { kty: 'RSA' }, PS512: { kty: 'RSA' },
  RS256: { kty: 'RSA' }, RS384: { kty: 'RSA' }, RS512: { kty: 'RSA' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' }, Ed25519: { kty: 'OKP', crv: 'Ed25519' },
}

/** Members of a private (or symmetric) JWK: a proof that carries one has published its key (RFC 9449 §4.2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

const B64URL = /^[A-Za-z0-9_-]+$/
const MAX_JTI = 512

export interface DpopProofRules {
  /** Accepted proof algorithms (a subset of {@link DPOP_ALGORITHMS}). */
  algorithms: readonly string[]
  /** Seconds a proof is accepted after its `iat`. */
  maxAge: number
  /** Seconds of clock skew allowed either way. */
  clockTolerance: number
  /** Longest `DPoP` header accepted, in characters. */
  maxLength: number
  /** Check signatures with node:crypto where it exists (as for tokens); otherwise through jose/WebCrypto. */
  native: boolean
}

/** What the proof must match: this request and the token sent with it. */
export interface DpopProofTarget {
  method: string
  /** This request's URL as the client addressed it: origin and path, no query or fragment. */
  htu: string
  accessToken: string
  /** Seconds since the epoch. */
  now: number
}

export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key (what `cnf.jkt` must equal). */
  jkt: string
  jti: string
  iat: number
  nonce: string | undefined
}

function invalid(description: string): McpAuthError {
  return new McpAuthError('ERR_DPOP_PROOF', description)
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  const value = decodeSegment(part)
  if (value === undefined) throw invalid(`The DPoP proof ${what} is not base64url-encoded JSON`)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`The DPoP proof ${what} is not a JSON object`)
  return value as Record<string, unknown>
}

/** The members RFC 7638 hashes, in its order: also the only ones imported, so extra members cannot change the key. */
function requiredMembers(jwk: Record<string, unknown>, alg: string): Record<string, string> {
  const expected = KEY_OF_ALG[alg]!
  if (jwk.kty !== expected.kty) throw invalid(`The DPoP proof key is not a ${expected.kty} key, as ${alg} needs`)
  for (const member of PRIVATE_MEMBERS) {
    if (jwk[member] !== undefined) throw invalid('The DPoP proof key must be a public key')
  }
  const names = expected.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : expected.kty === 'RSA' ? ['e', 'kty', 'n'] : ['crv', 'kty', 'x']
  const out: Record<string, string> = {}
  for (const name of names) {
    const value = jwk[name]
    if (typeof value !== 'string' || (name !== 'kty' && name !== 'crv' && !B64URL.test(value))) throw invalid('The DPoP proof key is malformed')
    out[name] = value
  }
  if (expected.crv !== undefined && out.crv !== expected.crv) throw invalid(`The DPoP proof key is not on the curve ${alg} needs`)
  return out
}

/** The URL a proof's `htu` names, normalised the way RFC 9449 §4.3 asks (RFC 3986 §6.2.2–6.2.3), without query and fragment. */
export function normalizeHtu(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') return undefined
  return `${url.origin}${url.pathname}`
}

/**
 * Verifies DPoP proofs against the request they came with. Imported proof keys are kept (bounded, keyed by their
 * public members), so a client's second request costs one signature check, not a key import and a thumbprint.
 */
export class DpopProofVerifier {
  /** Made on first use, like the replay store's. */
  #keys: LRUCache<string, { key: CryptoKey; jkt: string }> | undefined

  constructor(private readonly rules: DpopProofRules) {}

  /** Check `proof` against `target`; throws `ERR_DPOP_PROOF` (401 `invalid_dpop_proof`) naming the first check that failed. */
  async verify(proof: string, target: DpopProofTarget): Promise<VerifiedDpopProof> {
    const rules = this.rules
    if (proof.length > rules.maxLength) throw invalid('The DPoP proof is too large')
    const parts = proof.split('.')
    if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) throw invalid('The DPoP proof is not a compact JWS')
    const [headerPart, payloadPart, signature] = parts as [string, string, string]
    const header = decodeJson(headerPart, 'header')
    if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') throw invalid('The DPoP proof must have typ "dpop+jwt"')
    const alg = header.alg
    if (typeof alg !== 'string' || !rules.algorithms.includes(alg)) {
      throw invalid(`The DPoP proof algorithm is not accepted; use one of ${rules.algorithms.join(' ')}`)
    }
    // No extension is understood here, so none may be critical (RFC 7515 §4.1.11).
    if (header.crit !== undefined || header.b64 !== undefined) throw invalid('The DPoP proof uses a JWS extension this server does not support')
    const jwk = header.jwk
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalid('The DPoP proof must carry its public key in "jwk"')
    const { key, jkt } = await this.key(requiredMembers(jwk as Record<string, unknown>, alg), alg)

    const signingInput = `${headerPart}.${payloadPart}`
    const valid = rules.native && verifyJwsNative
      ? await verifyJwsNative(alg, key, signingInput, signature)
      : await compactVerify(proof, key, { algorithms: [alg] }).then(() => true, () => false)
    if (!valid) throw invalid('The DPoP proof signature is invalid')

    const payload = decodeJson(payloadPart, 'payload')
    const { jti, htm, htu, iat, ath, nonce } = payload
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI) throw invalid('The DPoP proof must have a jti')
    if (htm !== target.method) throw invalid('The DPoP proof was made for another HTTP method')
    if (typeof htu !== 'string' || normalizeHtu(htu) !== target.htu) throw invalid('The DPoP proof was made for another URL')
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('The DPoP proof must have a numeric iat')
    if (iat > target.now + rules.clockTolerance) throw invalid('The DPoP proof was issued in the future')
    if (iat < target.now - rules.maxAge - rules.clockTolerance) throw invalid('The DPoP proof is too old')
    if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length === 0)) throw invalid('The DPoP proof nonce must be a string')
    if (typeof ath !== 'string') throw invalid('The DPoP proof must have ath, the hash of the access token')
    const hashed = hashToken(target.accessToken)
    if (ath !== (typeof hashed === 'string' ? hashed : await hashed)) throw invalid('The DPoP proof was made for another access token')
    return { jkt, jti, iat, nonce }
  }

  async key(members: Record<string, string>, alg: string): Promise<{ key: CryptoKey; jkt: string }> {
    const id = `${alg}:${JSON.stringify(members)}`
    const keys = (this.#keys ??= new LRUCache({ max: 1000 }))
    const known = keys.get(id)
    if (known) return known
    let key: CryptoKey
    try {
      const imported = await importJWK({ ...members, ext: true } as JWK, alg)
      if (imported instanceof Uint8Array || imported.type !== 'public') throw new TypeError('not a public key')
      key = imported
    } catch {
      throw invalid('The DPoP proof key cannot be used')
    }
    if (isWeakRsaKey(key)) throw invalid('The DPoP proof key is an RSA key under 2048 bits')
    const entry = { key, jkt: await calculateJwkThumbprint(members as JWK, 'sha256') }
    keys.set(id, entry)
    return entry
  }
}
