/**
 * DPoP test helpers: proofs made by the MCP SDK v2 client's own `DpopSession` (what real clients send), and a
 * forger for the proofs no honest client makes (RFC 9449 §11 attacks): any header, any claims, any key.
 */
import { SignJWT, base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'
import { DpopSession, type DpopAlg } from '@modelcontextprotocol/client'

export { DpopSession }

/** A DPoP key the forger can sign with, and its public JWK. */
export interface ProofKey {
  alg: string
  privateKey: CryptoKey
  publicJwk: JWK
}

export async function proofKey(alg: DpopAlg = 'ES256'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { alg, privateKey, publicJwk: await exportJWK(publicKey) }
}

export async function sessionFor(key: ProofKey): Promise<DpopSession> {
  const publicKey = await importJWK(key.publicJwk, key.alg) as CryptoKey
  return DpopSession.create({
    keyPair: { privateKey: key.privateKey, publicKey, publicJwk: key.publicJwk, thumbprint: await calculateJwkThumbprint(key.publicJwk, 'sha256'), alg: key.alg as DpopAlg },
  })
}

export function ath(token: string): Promise<string> {
  return crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)).then((d) => base64url.encode(new Uint8Array(d)))
}

export interface ForgeOptions {
  key: ProofKey
  /** Replaces the protected header entirely when given (typ/alg/jwk default from the key otherwise). */
  header?: Record<string, unknown>
  /** Merged over { jti, htm, htu, iat, ath }; `undefined` removes a claim. */
  claims?: Record<string, unknown>
  method?: string
  url: string
  token?: string
  now?: number
}

/** A proof with exactly the header and claims asked for, signed by `key` (jose signs whatever header it is given). */
export async function forgeProof(o: ForgeOptions): Promise<string> {
  const base: Record<string, unknown> = {
    jti: crypto.randomUUID(),
    htm: o.method ?? 'POST',
    htu: o.url,
    iat: o.now ?? Math.floor(Date.now() / 1000),
    ...(o.token !== undefined ? { ath: await ath(o.token) } : {}),
  }
  const payload: Record<string, unknown> = { ...base, ...o.claims }
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k]
  const header = o.header ?? { typ: 'dpop+jwt', alg: o.key.alg, jwk: o.key.publicJwk }
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(o.key.privateKey)
}

/** Sign exact header and payload bytes with an ES256 key (for headers jose refuses to produce, e.g. alg "none"). */
export async function signRaw(key: ProofKey, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, new TextEncoder().encode(input))
  return `${input}.${base64url.encode(new Uint8Array(sig))}`
}

/** The proof algorithms the resource server accepts by default, as its challenges and PRM list them. */
export const DEFAULT_DPOP_ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519']
/** What a 401 carries beside the Bearer challenge with `dpop: 'allowed'` (the default). */
export const DPOP_CHALLENGE = `DPoP algs="${DEFAULT_DPOP_ALGS.join(' ')}"`
/** What PRM adds with `dpop: 'allowed'` (RFC 9728 §2). */
export const DPOP_PRM = { dpop_signing_alg_values_supported: DEFAULT_DPOP_ALGS, dpop_bound_access_tokens_required: false }
