/**
 * JWS signature verification through Node's own crypto, where there is one. jose verifies through WebCrypto,
 * which on Node costs 2–4× more per token than `crypto.verify` on the same key (bench/: RS256 14k vs 54k
 * tokens/s); on a cache miss that is most of the request. Keys still come from jose (its JWKS handling and
 * key import); only the final signature check runs here. Elsewhere (Workers, Deno, browsers) the caller uses
 * jose's `jwtVerify`.
 *
 * The key must be the one jose imported for the token's `alg`; its algorithm is checked against `alg` again
 * here, so a key of one family can never verify a signature of another (RFC 8725 §3.1).
 */

import { nodeBuiltin } from './node-builtin.js'

interface NodeKeyObject { readonly type: string }
type VerifyKey = NodeKeyObject | { key: NodeKeyObject; padding?: number; saltLength?: number; dsaEncoding?: string }
interface NodeCrypto {
  /** Synchronous without a callback; on libuv's thread pool with one. */
  verify(algorithm: string | null, data: Uint8Array, key: VerifyKey, signature: Uint8Array): boolean
  verify(algorithm: string | null, data: Uint8Array, key: VerifyKey, signature: Uint8Array, callback: (err: Error | null, ok: boolean) => void): void
  KeyObject: { from(key: CryptoKey): NodeKeyObject }
  constants: { RSA_PKCS1_PSS_PADDING: number; RSA_PSS_SALTLEN_DIGEST: number }
}
interface NodeBuffer { from(value: string, encoding: 'base64url' | 'latin1'): Uint8Array }

const nodeCrypto = nodeBuiltin<NodeCrypto>('node:crypto')
const NodeBufferClass = nodeBuiltin<{ Buffer?: NodeBuffer }>('node:buffer')?.Buffer

type Expect = { name: string; hash?: string; curve?: string; digest: string | null; pss?: boolean; ecdsa?: boolean }

const ALGORITHMS: Record<string, Expect> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', digest: 'sha256' },
  RS384: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384', digest: 'sha384' },
  RS512: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512', digest: 'sha512' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256', digest: 'sha256', pss: true },
  PS384: { name: 'RSA-PSS', hash: 'SHA-384', digest: 'sha384', pss: true },
  PS512: { name: 'RSA-PSS', hash: 'SHA-512', digest: 'sha512', pss: true },
  ES256: { name: 'ECDSA', curve: 'P-256', digest: 'sha256', ecdsa: true },
  ES384: { name: 'ECDSA', curve: 'P-384', digest: 'sha384', ecdsa: true },
  ES512: { name: 'ECDSA', curve: 'P-521', digest: 'sha512', ecdsa: true },
  EdDSA: { name: 'Ed25519', digest: null },
  Ed25519: { name: 'Ed25519', digest: null },
}

function matches(key: CryptoKey, expect: Expect): boolean {
  const algorithm = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string }
  if (key.type !== 'public' || algorithm.name !== expect.name) return false
  if (expect.hash && algorithm.hash?.name !== expect.hash) return false
  if (expect.curve && algorithm.namedCurve !== expect.curve) return false
  return true
}

/** As jose: an RSA key under 2048 bits is unusable — the IdP's key set is broken, not the token. */
export function isWeakRsaKey(key: CryptoKey): boolean {
  const { name, modulusLength } = key.algorithm as { name: string; modulusLength?: number }
  return (name === 'RSASSA-PKCS1-v1_5' || name === 'RSA-PSS') && (modulusLength ?? 0) < 2048
}

/**
 * Where a signature is checked: on the event-loop thread (`inline`), or on libuv's thread pool (`thread-pool`,
 * `crypto.verify`'s callback form, as WebCrypto does), which frees the event loop for the duration of the check
 * but costs a hand-off to another thread and back. `auto` chooses per key, by measuring.
 *
 * `inline` checks are batched: a check waits for the loop's check phase (`setImmediate`) and runs there with
 * every other check queued in the same turn — the tokens of the requests that arrived together — so their
 * answers are written together too. On the 2-core VM of bench/, writing answers back to back costs the server
 * much less than writing each one between two signature checks: under the CPU profiler the socket writes took
 * 41 µs per request with each check run where its request came in and 19 µs batched (the same as a server
 * without auth), and a Fastify server spent 74 µs of CPU per fresh RS256 token batched against 121 µs unbatched.
 * A lone request waits one turn of the loop: microseconds.
 */
export type VerifyPath = 'auto' | 'inline' | 'thread-pool'

/**
 * `auto`: where the process may run on one CPU only (`os.availableParallelism()` is 1: a cpuset, `taskset`),
 * every key is checked inline, since the pool's threads would take the same core and add the hand-off. Else a
 * key's first {@link CALIBRATION} checks run inline and are timed; if the median took longer than
 * {@link INLINE_LIMIT_US}, that key's later checks go to the thread pool, where they run beside the event loop on
 * another core, else they stay inline. RSA verifications (small public exponent) stay inline on most machines;
 * P-256 and Ed25519 (50–180 µs on the machines measured) go to the pool. Measured on the real key, on the
 * machine it runs on.
 */
const CALIBRATION = 16
const INLINE_LIMIT_US = 40
/** Checks run in one turn at most; the rest wait for the next turn, after the I/O that came in meanwhile. */
const MAX_BATCH = 64

const oneCpu = nodeBuiltin<{ availableParallelism?: () => number }>('node:os')?.availableParallelism?.() === 1
/** The loop's check phase, after the poll phase that read the requests (Node's `setImmediate`). */
const nextTurn: (run: () => void) => unknown = (globalThis as { setImmediate?: (run: () => void) => unknown }).setImmediate ?? ((run) => setTimeout(run, 0))

interface KeyState {
  keyObject: NodeKeyObject
  /** Decided path (auto), once calibrated. */
  path: 'inline' | 'thread-pool' | undefined
  samples: number[]
}

const keyStates = new WeakMap<CryptoKey, KeyState>()

/** The path a key's checks take now under `auto` (for the bench and tests). */
export function chosenPath(key: CryptoKey): 'inline' | 'thread-pool' | undefined {
  return keyStates.get(key)?.path
}

function verifyNow(digest: string | null, data: Uint8Array, key: VerifyKey, sig: Uint8Array): boolean {
  try {
    return nodeCrypto!.verify(digest, data, key, sig)
  } catch {
    // A malformed signature (wrong length for the curve, …) is an invalid signature, not an error.
    return false
  }
}

function verifyInPool(digest: string | null, data: Uint8Array, key: VerifyKey, sig: Uint8Array): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    try {
      nodeCrypto!.verify(digest, data, key, sig, (err, ok) => resolve(!err && ok === true))
    } catch {
      resolve(false)
    }
  })
}

/** A queued inline check; `state` is set while its key is being calibrated. */
interface Check {
  digest: string | null
  data: Uint8Array
  key: VerifyKey
  sig: Uint8Array
  state: KeyState | undefined
  resolve: (ok: boolean) => void
}

let batch: Check[] = []

function runBatch(): void {
  let checks = batch
  if (checks.length > MAX_BATCH) {
    checks = batch.splice(0, MAX_BATCH)
    nextTurn(runBatch)
  } else {
    batch = []
  }
  for (const check of checks) {
    check.resolve(check.state ? calibrated(check.state, check) : verifyNow(check.digest, check.data, check.key, check.sig))
  }
}

function verifyInline(digest: string | null, data: Uint8Array, key: VerifyKey, sig: Uint8Array, state: KeyState | undefined): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (batch.push({ digest, data, key, sig, state, resolve }) === 1) nextTurn(runBatch)
  })
}

function calibrated(state: KeyState, check: Check): boolean {
  const start = performance.now()
  const ok = verifyNow(check.digest, check.data, check.key, check.sig)
  if (state.path !== undefined) return ok
  state.samples.push((performance.now() - start) * 1000)
  if (state.samples.length >= CALIBRATION) {
    const sorted = state.samples.sort((a, b) => a - b)
    state.path = sorted[sorted.length >> 1]! > INLINE_LIMIT_US ? 'thread-pool' : 'inline'
    state.samples = []
  }
  return ok
}

/**
 * `undefined` when Node's crypto is not available (the caller then uses jose); otherwise a function that
 * says whether `signature` (base64url) over `signingInput` verifies with `key` for `alg`, on the path of
 * {@link VerifyPath}.
 */
export const verifyJwsNative: ((alg: string, key: CryptoKey, signingInput: string, signature: string, path?: VerifyPath) => Promise<boolean>) | undefined =
  nodeCrypto && NodeBufferClass && typeof nodeCrypto.KeyObject?.from === 'function'
    ? (alg, key, signingInput, signature, path = 'auto') => {
        const expect = ALGORITHMS[alg]
        if (!expect || !matches(key, expect)) return Promise.resolve(false)
        let state = keyStates.get(key)
        if (!state) {
          state = { keyObject: nodeCrypto.KeyObject.from(key), path: oneCpu ? 'inline' : undefined, samples: [] }
          keyStates.set(key, state)
        }
        const data = NodeBufferClass.from(signingInput, 'latin1')
        const sig = NodeBufferClass.from(signature, 'base64url')
        const keyObject = state.keyObject
        const verifyKey: VerifyKey = expect.pss
          ? { key: keyObject, padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: nodeCrypto.constants.RSA_PSS_SALTLEN_DIGEST }
          : expect.ecdsa ? { key: keyObject, dsaEncoding: 'ieee-p1363' } : keyObject
        const chosen = path === 'auto' ? state.path : path
        if (chosen === 'thread-pool') return verifyInPool(expect.digest, data, verifyKey, sig)
        return verifyInline(expect.digest, data, verifyKey, sig, chosen === undefined ? state : undefined)
      }
    : undefined
