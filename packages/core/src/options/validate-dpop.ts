/**
 * The `dpop` option (RFC 9449), checked at creation: the mode, the proof algorithms, the proof age, the replay
 * store and the nonce secret.
 */
import { DpopNonces } from '../token/dpop-nonce.js'
import { DPOP_ALGORITHMS } from '../token/dpop-proof.js'
import { MemoryDpopReplayStore, isDpopReplayStore } from '../token/dpop-replay.js'
import type { DpopMode, ResolvedDpop } from '../token/dpop.js'
import type { DpopOptions } from '../options.js'
import { checkKeys, fail, seconds, stringList } from './validate.js'

const DPOP_KEYS = new Set(['mode', 'algorithms', 'maxAge', 'clockTolerance', 'maxProofLength', 'replayStore', 'nonce'])
const NONCE_KEYS = new Set(['secret', 'lifetime'])

export function resolveDpop(value: DpopMode | DpopOptions | false | undefined, clockTolerance: number, nativeCrypto: boolean): ResolvedDpop | false {
  if (value === false) return false
  const options: DpopOptions = value === undefined ? {} : typeof value === 'string' ? { mode: value } : value
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail('dpop', 'must be "allowed", "required", false, or { mode, algorithms, maxAge, replayStore, nonce }.')
  }
  checkKeys(options, DPOP_KEYS, 'dpop.')
  const mode = options.mode ?? 'allowed'
  if (mode !== 'allowed' && mode !== 'required') fail(typeof value === 'string' ? 'dpop' : 'dpop.mode', 'must be "allowed" or "required" (or dpop: false to turn DPoP off).')
  const algorithms = options.algorithms === undefined ? [...DPOP_ALGORITHMS] : stringList(options.algorithms, 'dpop.algorithms', (a) => DPOP_ALGORITHMS.includes(a),
    `proofs are signed with an asymmetric algorithm (${DPOP_ALGORITHMS.join(', ')}); "none" and HS* are never accepted (RFC 9449 §11.6)`)
  if (algorithms.length === 0) fail('dpop.algorithms', `must not be empty; omit it to accept ${DPOP_ALGORITHMS.join(', ')}.`)
  const maxAge = seconds(options.maxAge, 'dpop.maxAge', 60, 1)
  if (maxAge > 3600) fail('dpop.maxAge', 'must be at most 3600 seconds; a proof is meant for one request, e.g. 60.')
  const maxProofLength = options.maxProofLength ?? 8192
  if (!Number.isInteger(maxProofLength) || maxProofLength < 256) fail('dpop.maxProofLength', 'must be an integer ≥ 256, e.g. 8192.')
  const replayStore = options.replayStore ?? new MemoryDpopReplayStore()
  if (!isDpopReplayStore(replayStore)) {
    const kv = typeof replayStore === 'object' && replayStore !== null && typeof (replayStore as { take?: unknown }).take === 'function'
    fail('dpop.replayStore', kv
      ? 'needs an atomic "first seen" check, which get/set/take cannot give: wrap the store, e.g. new RedisDpopReplayStore(redisStore) from @mcp-oauth/redis.'
      : 'must have firstSeen(id, ttlSeconds) — e.g. new RedisDpopReplayStore(redisStore) from @mcp-oauth/redis, or omit it for memory.')
  }
  return {
    mode,
    rules: {
      algorithms,
      maxAge,
      clockTolerance: seconds(options.clockTolerance, 'dpop.clockTolerance', clockTolerance),
      maxLength: maxProofLength,
      native: nativeCrypto,
    },
    replayStore,
    nonces: resolveNonces(options.nonce),
  }
}

function resolveNonces(nonce: DpopOptions['nonce']): DpopNonces | undefined {
  if (nonce === undefined) return undefined
  if (typeof nonce !== 'object' || nonce === null) fail('dpop.nonce', 'must be { secret, lifetime? }.')
  checkKeys(nonce, NONCE_KEYS, 'dpop.nonce.')
  const secret = typeof nonce.secret === 'string' ? new TextEncoder().encode(nonce.secret) : nonce.secret
  if (!(secret instanceof Uint8Array) || secret.byteLength < 32) {
    fail('dpop.nonce.secret', 'must be a string or Uint8Array of at least 32 bytes, the same on every instance (e.g. from your secret store).')
  }
  const lifetime = seconds(nonce.lifetime, 'dpop.nonce.lifetime', 300, 10)
  return new DpopNonces(secret, lifetime)
}
