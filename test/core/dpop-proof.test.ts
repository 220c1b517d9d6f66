/**
 * One DPoP proof checked on its own (RFC 9449 §4.3): proofs made by the MCP SDK v2 client's DpopSession pass for
 * every algorithm it signs with; every forged variation an attacker can make is refused with ERR_DPOP_PROOF and a
 * message naming the check — through node:crypto and through jose/WebCrypto alike.
 */
import { describe, expect, it } from 'vitest'
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { DPOP_ALGORITHMS, DpopProofVerifier, MemoryDpopReplayStore, McpAuthError, type DpopProofRules } from '@mcp-oauth/core'
import { DpopSession, ath, forgeProof, proofKey, signRaw, type ProofKey } from '../helpers/dpop.js'

const URL_ = 'https://mcp.example.com/mcp'
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'
const RULES: DpopProofRules = { algorithms: DPOP_ALGORITHMS, maxAge: 60, clockTolerance: 5, maxLength: 8192, native: true }

const target = (extra: Partial<{ method: string; htu: string; accessToken: string; now: number }> = {}) => ({
  method: 'POST', htu: URL_, accessToken: TOKEN, now: Math.floor(Date.now() / 1000), ...extra,
})

async function refused(proof: string, t = target(), rules: DpopProofRules = RULES): Promise<string> {
  try {
    await new DpopProofVerifier(rules).verify(proof, t)
  } catch (err) {
    expect(err).toBeInstanceOf(McpAuthError)
    expect((err as McpAuthError).code).toBe('ERR_DPOP_PROOF')
    expect((err as McpAuthError).status).toBe(401)
    expect((err as McpAuthError).error).toBe('invalid_dpop_proof')
    return (err as McpAuthError).description
  }
  throw new Error('expected the proof to be refused')
}

describe.each([true, false])('DPoP proofs (native crypto: %s)', (native) => {
  const rules = { ...RULES, native }

  it.each(['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA'] as const)('a proof from the SDK v2 DpopSession (%s) verifies; jkt = its thumbprint', async (alg) => {
    const session = await DpopSession.create({ alg })
    const proof = await session.buildProof({ htm: 'POST', htu: `${URL_}?x=1#f`, accessToken: TOKEN })
    const verified = await new DpopProofVerifier(rules).verify(proof, target())
    expect(verified.jkt).toBe(session.thumbprint)
    expect(verified.jkt).toBe(await calculateJwkThumbprint(session.publicJwk, 'sha256'))
    expect(verified.jti).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(verified.nonce).toBeUndefined()
  })

  it('the same key twice: the second proof reuses the imported key and still checks the signature', async () => {
    const key = await proofKey()
    const verifier = new DpopProofVerifier(rules)
    await verifier.verify(await forgeProof({ key, url: URL_, token: TOKEN }), target())
    const other = await proofKey()
    // The header names the first key; the signature is the other key's.
    const good = await forgeProof({ key, url: URL_, token: TOKEN })
    const bad = await forgeProof({ key: other, header: { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk }, url: URL_, token: TOKEN })
    expect((await verifier.verify(good, target())).jkt).toBe(await calculateJwkThumbprint(key.publicJwk, 'sha256'))
    await expect(verifier.verify(bad, target())).rejects.toMatchObject({ code: 'ERR_DPOP_PROOF', description: 'The DPoP proof signature is invalid' })
  })

  it('extra JWK members (kid, alg, use) do not change the thumbprint', async () => {
    const key = await proofKey()
    const proof = await forgeProof({ key, header: { typ: 'dpop+jwt', alg: 'ES256', jwk: { ...key.publicJwk, kid: 'x', use: 'sig', alg: 'ES256' } }, url: URL_, token: TOKEN })
    expect((await new DpopProofVerifier(rules).verify(proof, target())).jkt).toBe(await calculateJwkThumbprint(key.publicJwk, 'sha256'))
  })

  describe('refused', () => {
    let key: ProofKey
    const forge = async (o: Partial<Parameters<typeof forgeProof>[0]> = {}) => forgeProof({ key: key ??= await proofKey(), url: URL_, token: TOKEN, ...o })
    const check = (proof: string, t = target()) => refused(proof, t, rules)

    it('typ missing, or another typ (a JWT access token is not a proof)', async () => {
      key = await proofKey()
      expect(await check(await forge({ header: { alg: 'ES256', jwk: key.publicJwk } }))).toMatch(/typ/)
      expect(await check(await forge({ header: { typ: 'JWT', alg: 'ES256', jwk: key.publicJwk } }))).toMatch(/typ/)
      expect(await check(await forge({ header: { typ: 'at+jwt', alg: 'ES256', jwk: key.publicJwk } }))).toMatch(/typ/)
    })

    it('alg none (unsigned)', async () => {
      key = await proofKey()
      const header = { typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk }
      const payload = { jti: 'a', htm: 'POST', htu: URL_, iat: Math.floor(Date.now() / 1000), ath: await ath(TOKEN) }
      const unsigned = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`
      expect(await check(unsigned)).toMatch(/compact JWS/)
      expect(await check(`${unsigned}AAAA`)).toMatch(/algorithm is not accepted/)
    })

    it('HS256 with the public key as the MAC secret, and an oct (symmetric) jwk', async () => {
      key = await proofKey()
      const secret = new TextEncoder().encode(JSON.stringify(key.publicJwk))
      const payload = { jti: 'a', htm: 'POST', htu: URL_, iat: Math.floor(Date.now() / 1000), ath: await ath(TOKEN) }
      const hs = await new SignJWT(payload).setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: key.publicJwk } as never).sign(secret)
      expect(await check(hs)).toMatch(/algorithm is not accepted/)
      const oct = await new SignJWT(payload).setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: 'c2VjcmV0' } } as never).sign(new TextEncoder().encode('secret'))
      expect(await check(oct)).toMatch(/algorithm is not accepted/)
      // Even when HS256 is named as an ES256 proof with an oct key.
      expect(await check(await signRaw(key, { typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'oct', k: 'c2VjcmV0' } }, payload))).toMatch(/not a EC key|must be a public key/)
    })

    it('an algorithm outside the configured allow-list', async () => {
      key = await proofKey()
      expect(await refused(await forge(), target(), { ...rules, algorithms: ['EdDSA'] })).toMatch(/use one of EdDSA/)
    })

    it('a private key in the proof (d), RSA private members, or no jwk at all', async () => {
      key = await proofKey()
      const { privateKey } = await generateKeyPair('ES256', { extractable: true })
      const privateJwk = await exportJWK(privateKey)
      expect(await check(await forge({ header: { typ: 'dpop+jwt', alg: 'ES256', jwk: { ...key.publicJwk, d: privateJwk.d } } }))).toBe('The DPoP proof key must be a public key')
      const rsa = await proofKey('RS256')
      expect(await check(await forgeProof({ key: rsa, header: { typ: 'dpop+jwt', alg: 'RS256', jwk: { ...rsa.publicJwk, p: 'AQAB' } }, url: URL_, token: TOKEN }))).toBe('The DPoP proof key must be a public key')
      expect(await check(await forge({ header: { typ: 'dpop+jwt', alg: 'ES256' } }))).toMatch(/jwk/)
      expect(await check(await forge({ header: { typ: 'dpop+jwt', alg: 'ES256', jwk: 'x' } }))).toMatch(/jwk/)
    })

    it('a key of another family or curve than alg', async () => {
      key = await proofKey()
      const rsa = await proofKey('RS256')
      const p384 = await proofKey('ES384')
      expect(await check(await forge({ header: { typ: 'dpop+jwt', alg: 'ES256', jwk: rsa.publicJwk } }))).toMatch(/not a EC key/)
      expect(await check(await forge({ header: { typ: 'dpop+jwt', alg: 'ES256', jwk: p384.publicJwk } }))).toMatch(/curve/)
      const pss = await proofKey('PS256')
      expect(await check(await forgeProof({ key: pss, header: { typ: 'dpop+jwt', alg: 'PS256', jwk: key.publicJwk }, url: URL_, token: TOKEN }))).toMatch(/not a RSA key/)
    })

    it('a malformed key, and an RSA key under 2048 bits', async () => {
      key = await proofKey()
      expect(await check(await forge({ header: { typ: 'dpop+jwt', alg: 'ES256', jwk: { ...key.publicJwk, x: 'not base64url!' } } }))).toMatch(/malformed/)
      expect(await check(await forge({ header: { typ: 'dpop+jwt', alg: 'ES256', jwk: { ...key.publicJwk, x: 'AAAA' } } }))).toMatch(/cannot be used/)
      // jose will not make a weak key; WebCrypto will.
      const pair = await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])
      const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'RS256', jwk: await exportJWK(pair.publicKey) })).toString('base64url')
      const payload = Buffer.from(JSON.stringify({ jti: 'a', htm: 'POST', htu: URL_, iat: Math.floor(Date.now() / 1000), ath: await ath(TOKEN) })).toString('base64url')
      const sig = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', pair.privateKey, new TextEncoder().encode(`${header}.${payload}`))
      expect(await check(`${header}.${payload}.${Buffer.from(sig).toString('base64url')}`)).toMatch(/2048/)
    })

    it('a signature by another key than the one in the header', async () => {
      key = await proofKey()
      const other = await proofKey()
      expect(await check(await forgeProof({ key: other, header: { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk }, url: URL_, token: TOKEN }))).toBe('The DPoP proof signature is invalid')
      const proof = await forge()
      const [h, p] = proof.split('.')
      expect(await check(`${h}.${p}.${'A'.repeat(86)}`)).toBe('The DPoP proof signature is invalid')
      // A changed claim under the original signature.
      const changed = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), htm: 'GET' })).toString('base64url')
      expect(await check(`${h}.${changed}.${proof.split('.')[2]}`, target({ method: 'GET' }))).toBe('The DPoP proof signature is invalid')
    })

    it('critical header extensions and unencoded payloads', async () => {
      key = await proofKey()
      expect(await check(await signRaw(key, { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk, crit: ['exp'], exp: 1 }, { jti: 'a' }))).toMatch(/extension/)
      expect(await check(await signRaw(key, { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk, b64: false }, { jti: 'a' }))).toMatch(/extension/)
    })

    it('another method, another URL (path, host, scheme, port), userinfo in htu', async () => {
      key = await proofKey()
      expect(await check(await forge({ method: 'GET' }))).toBe('The DPoP proof was made for another HTTP method')
      expect(await check(await forge({ method: 'post' }))).toBe('The DPoP proof was made for another HTTP method')
      for (const htu of ['https://mcp.example.com/other', 'https://evil.example/mcp', 'http://mcp.example.com/mcp', 'https://mcp.example.com:8443/mcp', 'https://user:pw@mcp.example.com/mcp', 'not a url', '/mcp']) {
        expect(await check(await forge({ url: htu })), htu).toBe('The DPoP proof was made for another URL')
      }
      expect(await check(await forge({ claims: { htu: 42 } }))).toBe('The DPoP proof was made for another URL')
    })

    it('htu compares after RFC 3986 normalisation: case of scheme and host, default port, query and fragment ignored', async () => {
      key = await proofKey()
      const verifier = new DpopProofVerifier(rules)
      for (const htu of ['HTTPS://MCP.EXAMPLE.COM/mcp', 'https://mcp.example.com:443/mcp', 'https://mcp.example.com/mcp?a=1', 'https://mcp.example.com/mcp#x', 'https://mcp.example.com/./mcp']) {
        await expect(verifier.verify(await forge({ url: htu }), target()), htu).resolves.toMatchObject({ jkt: expect.any(String) })
      }
      // Path case matters (RFC 3986 §6.2.2.1 only folds scheme and host).
      expect(await check(await forge({ url: 'https://mcp.example.com/MCP' }))).toBe('The DPoP proof was made for another URL')
    })

    it('iat too old, in the future, or not a number', async () => {
      key = await proofKey()
      const now = Math.floor(Date.now() / 1000)
      // One clock for the proof and the check: a loaded machine must not move a second between them.
      expect(await check(await forge({ now: now - 66 }), target({ now }))).toBe('The DPoP proof is too old')
      expect(await check(await forge({ now: now + 6 }), target({ now }))).toBe('The DPoP proof was issued in the future')
      expect(await check(await forge({ claims: { iat: String(now) } }))).toBe('The DPoP proof must have a numeric iat')
      expect(await check(await forge({ claims: { iat: undefined } }))).toBe('The DPoP proof must have a numeric iat')
      // Within the window and the tolerance both ways.
      const verifier = new DpopProofVerifier(rules)
      await expect(verifier.verify(await forge({ now: now - 64 }), target({ now }))).resolves.toBeDefined()
      await expect(verifier.verify(await forge({ now: now + 5 }), target({ now }))).resolves.toBeDefined()
    })

    it('ath missing, or the hash of another token', async () => {
      key = await proofKey()
      expect(await check(await forge({ token: undefined }))).toBe('The DPoP proof must have ath, the hash of the access token')
      expect(await check(await forge({ token: `${TOKEN}x` }))).toBe('The DPoP proof was made for another access token')
      expect(await check(await forge({ claims: { ath: 42 } }))).toBe('The DPoP proof must have ath, the hash of the access token')
    })

    it('jti missing, empty, not a string or too long; nonce not a string', async () => {
      key = await proofKey()
      for (const jti of [undefined, '', 7, 'j'.repeat(513)]) expect(await check(await forge({ claims: { jti } })), String(jti)).toBe('The DPoP proof must have a jti')
      expect(await check(await forge({ claims: { nonce: 5 } }))).toBe('The DPoP proof nonce must be a string')
    })

    it('oversized, not three parts, not base64url, not JSON objects', async () => {
      key = await proofKey()
      expect(await check(await forge({ claims: { pad: 'x'.repeat(9000) } }))).toBe('The DPoP proof is too large')
      const proof = await forge()
      expect(await check(proof.split('.').slice(0, 2).join('.'))).toMatch(/compact JWS/)
      expect(await check(`${proof}.x`)).toMatch(/compact JWS/)
      expect(await check(proof.replace('.', '.!'))).toMatch(/compact JWS/)
      expect(await check(`${proof.split('.')[0]}..${proof.split('.')[2]}`)).toMatch(/compact JWS/)
      expect(await check(`${Buffer.from('[1]').toString('base64url')}.${proof.split('.').slice(1).join('.')}`)).toMatch(/header is not a JSON object/)
      expect(await check(`${Buffer.from('{"a"').toString('base64url')}.${proof.split('.').slice(1).join('.')}`)).toMatch(/header is not base64url-encoded JSON/)
      expect(await check(`${Buffer.from([0xff, 0xfe]).toString('base64url')}.${proof.split('.').slice(1).join('.')}`)).toMatch(/header is not base64url-encoded JSON/)
      expect(await check(await signRaw(key, { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk }, [1, 2] as never))).toMatch(/payload is not a JSON object/)
    })
  })
})

describe('MemoryDpopReplayStore', () => {
  it('an id is fresh once, then a replay until it expires', async () => {
    const store = new MemoryDpopReplayStore({ max: 10 })
    expect(store.firstSeen('a', 60)).toBe(true)
    expect(store.firstSeen('a', 60)).toBe(false)
    expect(store.firstSeen('b', 60)).toBe(true)
    expect(store.size).toBe(2)
  })

  it('refuses a bad ttl or size', () => {
    expect(() => new MemoryDpopReplayStore({ max: 0 })).toThrow(TypeError)
    expect(() => new MemoryDpopReplayStore().firstSeen('a', 0)).toThrow(TypeError)
  })
})
