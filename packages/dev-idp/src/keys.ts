import * as jose from 'jose'
import type { Provider } from 'oidc-provider'
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js'
import type { SigningAlg } from './types.js'

export const SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'RS256', 'PS256', 'EdDSA']
const MAX_RETAINED_KEYS = 10

export interface SigningKey {
  kid: string
  alg: SigningAlg
  privateJwk: jose.JWK
  publicJwk: jose.JWK
}

export async function generateSigningKey(alg: SigningAlg): Promise<SigningKey> {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true })
  const privateJwk = await jose.exportJWK(privateKey)
  const publicJwk = await jose.exportJWK(publicKey)
  const kid = `${alg.toLowerCase()}-${(await jose.calculateJwkThumbprint(publicJwk)).slice(0, 16)}`
  Object.assign(privateJwk, { kid, alg, use: 'sig' })
  Object.assign(publicJwk, { kid, alg, use: 'sig' })
  return { kid, alg, privateJwk, publicJwk }
}

/** The IdP's signing keys, newest first: the first signs, all are published in the JWKS. */
export class KeyRing {
  private constructor(private keys: SigningKey[]) {}

  static async create(alg: SigningAlg): Promise<KeyRing> {
    return new KeyRing([await generateSigningKey(alg)])
  }

  current(): SigningKey {
    return this.keys[0] as SigningKey
  }

  publicJwks(): jose.JWK[] {
    return this.keys.map((k) => k.publicJwk)
  }

  async rotate(provider: Provider, opts: { alg?: SigningAlg; keepOld?: boolean }): Promise<void> {
    // Key rotation keeps the SAME Provider instance (so every grant, session, client and opaque token
    // in the memory store stays valid and `idp.provider` never changes): oidc-provider reads `jwks`
    // only at construction, into an internal keystore, so we re-run its own keystore initializer
    // (oidc-provider/lib/helpers/initialize_keystore.js, pinned 9.13.3) on the provider with the new
    // key list. It validates the keys and swaps both the signing keystore and the published JWKS.
    // The new key goes first: oidc-provider signs with the first key matching the algorithm.
    const alg = opts.alg ?? this.current().alg
    if (!SIGNING_ALGS.includes(alg)) throw new TypeError(`dev-idp: alg must be one of ${SIGNING_ALGS.join(', ')}`)
    const next = await generateSigningKey(alg)
    const keys = opts.keepOld === false ? [next] : [next, ...this.keys].slice(0, MAX_RETAINED_KEYS)
    initializeKeystore.call(provider, { keys: keys.map((k) => structuredClone(k.privateJwk) as Record<string, unknown>) })
    this.keys = keys
  }
}
