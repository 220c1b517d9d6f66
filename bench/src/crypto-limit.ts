/**
 * The crypto limit: how many of the same tokens one thread can verify with nothing around it.
 * - `jose.jwtVerify` loop: one token after the other, `await`ed, with the key imported once; the same
 *   checks a resource server asks for (signature, alg, iss, aud, exp). This is the reference of the issue's
 *   "≥ 0.8 × a bare jwtVerify loop" target.
 * - `jose.jwtVerify`, 50 in flight: as many verifications outstanding as the load generator has connections,
 *   which lets WebCrypto use the thread pool (the other core); what a server could reach at most.
 * - `crypto.verify` loop: node:crypto's synchronous verify of the signature alone (no JSON, no claims).
 */
import { verify as nodeVerify, type KeyObject } from 'node:crypto'
import { importJWK, jwtVerify, type JWK } from 'jose'
import type { Alg } from './issuer.js'

export interface CryptoLimit {
  alg: Alg
  joseLoop: number
  joseConcurrent: number
  rawVerify: number
}

const WINDOW_MS = 1500

async function rate(tokens: readonly string[], verifyOne: (token: string) => unknown, concurrency: number): Promise<number> {
  for (let i = 0; i < Math.min(500, tokens.length); i++) await verifyOne(tokens[i]!)
  let next = 0
  let done = 0
  const start = performance.now()
  const deadline = start + WINDOW_MS
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      await verifyOne(tokens[next++ % tokens.length]!)
      done++
    }
  }))
  return done / ((performance.now() - start) / 1000)
}

export async function cryptoLimit(alg: Alg, tokens: readonly string[], publicKey: KeyObject, issuer: string, audience: string): Promise<CryptoLimit> {
  const key = await importJWK(publicKey.export({ format: 'jwk' }) as JWK, alg)
  const options = { issuer, audience, algorithms: [alg] }
  const jose = (token: string) => jwtVerify(token, key, options)
  const digest = alg === 'EdDSA' ? null : 'sha256'
  const verifyKey = alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const } : publicKey
  const raw = (token: string) => {
    const dot = token.lastIndexOf('.')
    if (!nodeVerify(digest, Buffer.from(token.slice(0, dot)), verifyKey, Buffer.from(token.slice(dot + 1), 'base64url'))) {
      throw new Error('bench token failed raw verification')
    }
  }
  return {
    alg,
    joseLoop: await rate(tokens, jose, 1),
    joseConcurrent: await rate(tokens, jose, 50),
    rawVerify: await rate(tokens, raw, 1),
  }
}
