/**
 * The SHA-256 of a token: the key of everything remembered about a token on a cache miss (inactive answers,
 * verifications in flight, JWTs seen once) and of the cache entries that cannot go under their tail
 * (token/cache.ts). Never the token itself: a listing of those keys must not yield usable credentials, and a
 * cryptographic hash makes a collision with another token infeasible (a fast non-cryptographic hash would
 * let an attacker craft one). A cache hit does not hash: it finds the entry by the token's tail and compares
 * the whole token.
 */

import { nodeBuiltin } from './node-builtin.js'

type SyncHash = (token: string) => string

interface NodeCrypto {
  /** One-shot digest (Node ≥ 20.12): no Hash object per call. */
  hash?: (alg: string, data: string, outputEncoding: 'base64url') => string
  createHash?: (alg: string) => { update(s: string): { digest(enc: 'base64url'): string } }
}

function nodeHash(): SyncHash | undefined {
  // Node's synchronous hash where there is one; Workers, Deno and browsers take the WebCrypto path.
  const crypto = nodeBuiltin<NodeCrypto>('node:crypto')
  // The one-shot hash takes about half the time of createHash.
  const hash = crypto?.hash
  if (hash) return (token) => hash('sha256', token, 'base64url')
  const createHash = crypto?.createHash
  return createHash ? (token) => createHash('sha256').update(token).digest('base64url') : undefined
}

const syncHash = nodeHash()

function toBase64Url(bytes: ArrayBuffer): string {
  let binary = ''
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** SHA-256 of the token, base64url. Synchronous on Node (returns a string), a promise elsewhere. */
export function hashToken(token: string): string | Promise<string> {
  if (syncHash) return syncHash(token)
  return crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)).then(toBase64Url)
}
