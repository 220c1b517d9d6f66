/**
 * DPoP at the resource server (RFC 9449 §7): a request with `Authorization: DPoP <token>` and a `DPoP` proof is
 * authenticated when the token verifies (cached or not), the proof verifies for this request (token/dpop-proof.ts),
 * the proof's key is the one the token is bound to (`cnf.jkt`, RFC 9449 §6), its nonce is current when nonces are
 * on (token/dpop-nonce.ts), and its `jti` was never seen (token/dpop-replay.ts). A bound token sent as `Bearer`
 * is refused (a stolen one would otherwise work without the key), and with `mode: 'required'` so is every bearer
 * token. Every refusal of a DPoP request is marked, so its challenge goes in the `DPoP` scheme
 * (resource-server/challenges.ts).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
 */
import { authInfoExtra, type AuthInfo } from '../auth-info.js'
import { McpAuthError } from '../errors.js'
import { forwardedParts } from '../http/public-url.js'
import type { RequestLike } from '../http/request-like.js'
import { pathOf } from '../http/request-path.js'
import { StoreUnavailableError } from '../store.js'
import type { DpopNonces } from './dpop-nonce.js'
import { DpopProofVerifier, type DpopProofRules } from './dpop-proof.js'
import type { DpopReplayStore } from './dpop-replay.js'
import { hashToken } from './hash.js'
import { challengeValue, scopeTokens } from './rfc6750.js'

/** `'allowed'`: bearer and DPoP-bound tokens; `'required'`: DPoP-bound tokens only. */
export type DpopMode = 'allowed' | 'required'

/** The resolved `dpop` option. */
export interface ResolvedDpop {
  mode: DpopMode
  rules: DpopProofRules
  replayStore: DpopReplayStore
  nonces: DpopNonces | undefined
}

/** What a DPoP refusal adds to its challenge: the scheme, and a fresh nonce for `use_dpop_nonce`. */
interface DpopRefusal {
  nonce?: string
}

const refusals = new WeakMap<McpAuthError, DpopRefusal>()

/** The DPoP details of a refusal, when it answers a DPoP request. */
export function dpopRefusal(err: McpAuthError): DpopRefusal | undefined {
  return refusals.get(err)
}

/**
 * `err` as the refusal of a DPoP request. A copy: a verification error may be shared (the inactive-token cache
 * hands one out again), and a later bearer request with the same token must not inherit the DPoP scheme.
 */
function asDpopRefusal(err: unknown, details: DpopRefusal = {}): unknown {
  if (!(err instanceof McpAuthError) || err.status >= 500) return err
  const own = refusals.has(err) ? err : new McpAuthError(err.code, err.description, {
    cause: err.cause ?? err,
    ...(err.scopes ? { scopes: err.scopes } : {}),
    ...(err.retryAfter !== undefined ? { retryAfter: err.retryAfter } : {}),
  })
  refusals.set(own, { ...refusals.get(own), ...details })
  return own
}

/** The key thumbprint a verified token is bound to (`cnf.jkt`), if any. */
export function boundKey(info: AuthInfo): string | undefined {
  const cnf = authInfoExtra(info).claims?.cnf as { jkt?: unknown } | undefined
  return typeof cnf === 'object' && cnf !== null && typeof cnf.jkt === 'string' ? cnf.jkt : undefined
}

/**
 * A token presented as `Bearer` must not be sender-constrained: any `cnf` (DPoP `jkt`, RFC 8705 `x5t#S256`, …) or an
 * introspection `token_type` of `DPoP` means the presenter has to prove a key, and a bearer request proves none.
 */
export function assertBearerUsable(info: AuthInfo, mode: DpopMode | false): AuthInfo {
  const claims = authInfoExtra(info).claims
  const tokenType = claims?.token_type
  if (claims?.cnf !== undefined || (typeof tokenType === 'string' && tokenType.toLowerCase() === 'dpop')) {
    throw new McpAuthError('ERR_TOKEN_TYPE', 'A sender-constrained token cannot be used as a bearer token')
  }
  if (mode === 'required') throw bearerNotAccepted()
  return info
}

export function bearerNotAccepted(): McpAuthError {
  return new McpAuthError('ERR_DPOP_BINDING', 'This resource accepts only DPoP-bound access tokens')
}

/** The DPoP stage of one resource server. */
export class DpopStage {
  readonly #proofs: DpopProofVerifier
  readonly #origin: string
  /** How long a `jti` is remembered: as long as a proof with it could still pass the `iat` check. */
  readonly #replayTtl: number

  constructor(readonly config: ResolvedDpop, resource: string, private readonly trustProxy: boolean, private readonly retryAfter: number) {
    this.#proofs = new DpopProofVerifier(config.rules)
    this.#origin = new URL(resource).origin
    this.#replayTtl = config.rules.maxAge + 2 * config.rules.clockTolerance
  }

  /**
   * Authenticate a DPoP request whose token is `token`; `verifyToken` verifies the token itself (cache, JWT,
   * introspection). Rejects with a marked McpAuthError, or with a store's error when the replay store is down.
   */
  async check(request: RequestLike, token: string, verifyToken: (token: string) => AuthInfo | Promise<AuthInfo>): Promise<AuthInfo> {
    const now = Math.floor(Date.now() / 1000)
    let info: AuthInfo
    let jkt: string
    let jti: string
    try {
      const proof = request.headers.get('dpop')
      if (proof === null || proof.trim() === '') throw new McpAuthError('ERR_DPOP_PROOF', 'A DPoP proof is required with the DPoP scheme')
      // Fetch Headers and the adapters join repeated fields with ", "; a compact JWS has neither.
      if (proof.includes(',')) throw new McpAuthError('ERR_DPOP_PROOF', 'More than one DPoP proof was sent')
      const verified = await this.#proofs.verify(proof.trim(), { method: request.method, htu: this.htu(request), accessToken: token, now })
      const nonces = this.config.nonces
      if (nonces && (verified.nonce === undefined || !(await nonces.valid(verified.nonce, now)))) {
        throw asDpopRefusal(new McpAuthError('ERR_DPOP_NONCE', verified.nonce === undefined
          ? 'This resource requires a nonce in the DPoP proof'
          : 'The DPoP proof nonce is not current'), { nonce: await nonces.current(now) })
      }
      const verifiedToken = verifyToken(token)
      info = verifiedToken instanceof Promise ? await verifiedToken : verifiedToken
      const bound = boundKey(info)
      if (bound === undefined) throw new McpAuthError('ERR_DPOP_BINDING', 'The access token is not DPoP-bound; send it with the Bearer scheme')
      if (bound !== verified.jkt) throw new McpAuthError('ERR_DPOP_BINDING', 'The DPoP proof key is not the key the access token is bound to')
      ;({ jkt, jti } = verified)
    } catch (err) {
      throw asDpopRefusal(err)
    }
    // Last, so that only a proof that passed every other check takes a place in the store.
    const id = hashToken(`${jkt}.${jti}`)
    let fresh: boolean
    try {
      fresh = await this.config.replayStore.firstSeen(typeof id === 'string' ? id : await id, this.#replayTtl)
    } catch (err) {
      // A store that cannot say whether the proof is new: 503, never an accepted proof, never a 401.
      const retryAfter = err instanceof StoreUnavailableError && err.retryAfter !== undefined ? err.retryAfter : this.retryAfter
      throw new McpAuthError('ERR_STORE_UNAVAILABLE', 'DPoP replay protection is temporarily unavailable', { cause: err, retryAfter })
    }
    if (!fresh) throw asDpopRefusal(new McpAuthError('ERR_DPOP_PROOF', 'The DPoP proof was already used'))
    return info
  }

  /** This request's URL as the client addressed it: the resource's origin (never a Host header), and the public path. */
  htu(request: RequestLike): string {
    const path = pathOf(request.url)
    const prefix = this.trustProxy ? forwardedParts(request).prefix : ''
    const url = new URL(`${this.#origin}${prefix}${path}`)
    return `${url.origin}${url.pathname}`
  }
}

/**
 * A `WWW-Authenticate: DPoP …` challenge (RFC 9449 §7.1): `algs` always; `error` and `error_description` when the
 * refusal answers a DPoP request (or only DPoP is accepted); `resource_metadata` and `scope` when it stands alone.
 */
export function buildDpopChallenge(params: {
  algorithms: readonly string[]
  error?: string
  description?: string
  resourceMetadata?: string
  scope?: readonly string[]
}): string {
  const parts: string[] = []
  if (params.error) parts.push(`error="${challengeValue(params.error)}"`)
  if (params.error && params.description) parts.push(`error_description="${challengeValue(params.description).replace(/=/g, '')}"`)
  if (params.resourceMetadata) parts.push(`resource_metadata="${challengeValue(params.resourceMetadata)}"`)
  const scope = params.scope ? scopeTokens(params.scope) : []
  if (scope.length > 0) parts.push(`scope="${scope.join(' ')}"`)
  parts.push(`algs="${params.algorithms.map(challengeValue).join(' ')}"`)
  return `DPoP ${parts.join(', ')}`
}
