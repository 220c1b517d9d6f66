/**
 * Cache keys are a SHA-256 of the token, never the token: a heap dump or a cache listing must not yield
 * usable credentials, and a cryptographic hash makes a collision with a cached token infeasible (a fast
 * non-cryptographic hash would let an attacker craft one).
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
  // This runs on every request (it is the cache key): the one-shot hash takes about half the time of createHash.
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
