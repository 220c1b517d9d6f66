/**
 * Property-based fuzzing (fast-check) of the three places attacker- or operator-shaped text becomes
 * structure: the bearer header parser, the challenge builder, and the metadata URL builder. Over 100,000
 * generated inputs in all; the seed is printed on failure, so a counterexample can be replayed.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js'
import {
  McpAuthError, buildChallenge, canonicalResource, createMcpAuth, extractBearerToken, protectedResourceMetadataUrl,
} from '@mcp-oauth/core'

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
/** What RFC 6749 §3.3 allows in a scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/** Strings made of the pieces that break parsers more often than random text does. */
const nasty = (pieces: string[], maxLength = 12) =>
  fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom(...pieces)), { maxLength }).map((a) => a.join(''))

const HEADER_PIECES = ['Bearer', 'bearer', 'BEARER', 'Basic', 'DPoP', ' ', '  ', '\t', ',', ', ', '=', '==', '"', '\\', '.', '-', '_', '~', '+', '/', 'eyJ', 'abc', '\r\n', '\0', '\u00e9', '\ud800', 'access_token']
const CHALLENGE_PIECES = ['"', '\\', '\r', '\n', '\r\n', ',', ', ', '=', ' ', 'scope=', 'error=', 'resource_metadata=', 'error_description=', 'scope="x"', 'error="y"', 'https://evil.example', '\u0000', '\u007f', '\u00e9', '\ud83d\ude00', 'Bearer ']

function requestWith(authorization: string | null, url: string) {
  return { method: 'POST', url, headers: { get: (name: string) => (name.toLowerCase() === 'authorization' ? authorization : null) } }
}

describe('the bearer header parser (RFC 6750 §2.1)', () => {
  it('never throws anything but a 400/401 McpAuthError, and what it returns is a b64token from a Bearer header', () => {
    fc.assert(fc.property(
      fc.option(fc.oneof(
        fc.string({ unit: 'binary', maxLength: 120 }),
        nasty(HEADER_PIECES),
        fc.tuple(fc.constantFrom('Bearer', 'bearer', 'BeArEr', 'Bearer\t', 'Bearerx'), fc.stringMatching(/^ {0,3}$/), fc.stringMatching(/^[A-Za-z0-9\-._~+/]{0,40}=*$/), nasty(HEADER_PIECES, 2))
          .map((parts) => parts.join('')),
      ), { nil: null }),
      fc.oneof(fc.constant('/mcp'), nasty(['/mcp', '?', '&', '#', 'access_token', '=', '%', 'access%5Ftoken']).map((s) => `/mcp${s}`)),
      fc.integer({ min: 64, max: 200 }),
      (authorization, url, max) => {
        let token: string | undefined
        try {
          token = extractBearerToken(requestWith(authorization, url), max)
        } catch (err) {
          expect(err).toBeInstanceOf(McpAuthError)
          const e = err as McpAuthError
          expect([400, 401]).toContain(e.status)
          expect(['ERR_INVALID_REQUEST', 'ERR_TOKEN_MALFORMED']).toContain(e.code)
          // Never the token in what the client is told.
          if (authorization && authorization.length > 24) expect(e.description).not.toContain(authorization.slice(7))
          return
        }
        if (token === undefined) return
        expect(token).toMatch(B64TOKEN)
        expect(token.length).toBeLessThanOrEqual(max)
        expect(authorization!.slice(0, 7).toLowerCase()).toBe('bearer ')
        expect(authorization!.endsWith(token)).toBe(true)
        expect(authorization!.slice(6, -token.length)).toMatch(/^ +$/)
      },
    ), { numRuns: 60_000 })
  })

  it('any other scheme (or none) is "no credentials", never an error', () => {
    fc.assert(fc.property(
      fc.string({ unit: 'binary', maxLength: 60 }).filter((s) => !/^bearer( |$)/i.test(s)),
      (authorization) => {
        expect(extractBearerToken(requestWith(authorization, '/mcp'), 16_384)).toBeUndefined()
      },
    ), { numRuns: 10_000 })
  })
})

const OAUTH_ERRORS = ['invalid_request', 'invalid_token', 'insufficient_scope'] as const

/** Metadata URLs the core can produce: from any web URL, through the canonical form. */
const metadataUrl = fc.webUrl({ validSchemes: ['https', 'http'], withQueryParameters: false, withFragments: false })
  .map((u) => protectedResourceMetadataUrl(canonicalResource(new URL(u))))

describe('the challenge builder (RFC 6750 §3)', () => {
  it('always writes a valid header value that the MCP SDK client parses back to the same values', () => {
    fc.assert(fc.property(
      fc.option(fc.constantFrom(...OAUTH_ERRORS), { nil: undefined }),
      fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), nasty(CHALLENGE_PIECES)),
      metadataUrl,
      fc.option(fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), nasty(CHALLENGE_PIECES, 3)), { maxLength: 6 }), { nil: undefined }),
      (error, description, resourceMetadata, anyScope) => {
        // Without an error, the scope is the operator's (configuration, never a token's): the SDK's unanchored
        // `error=` regex would find "error=" inside it, so such scopes are a configuration the SDK cannot read.
        const scope = error ? anyScope : anyScope?.filter((s) => !s.includes('='))
        const header = buildChallenge({ ...(error ? { error, description } : {}), resourceMetadata, ...(scope ? { scope } : {}) })
        // Visible ASCII and spaces only: no CR/LF (response splitting), no NUL, nothing a proxy could re-encode.
        expect(header).toMatch(/^[\x20-\x7e]+$/)
        expect(header).toMatch(/^Bearer (error="[a-z_]+", (error_description="[^"\\]*", )?)?resource_metadata="[^"\\]+"(, scope="[^"\\]+")?$/)
        const parsed = extractWWWAuthenticateParams(new Response(null, { status: 401, headers: { 'www-authenticate': header } }))
        expect(parsed.error).toBe(error)
        expect(parsed.resourceMetadataUrl?.href).toBe(resourceMetadata)
        const kept = [...new Set((scope ?? []).filter((s) => SCOPE_TOKEN.test(s)))]
        expect(parsed.scope).toBe(kept.length > 0 ? kept.join(' ') : undefined)
      },
    ), { numRuns: 25_000 })
  })

  it('a challenge a hostile token shaped (its scopes) cannot add, reorder or override a parameter', () => {
    fc.assert(fc.property(
      fc.array(nasty(CHALLENGE_PIECES, 4), { minLength: 1, maxLength: 8 }),
      (scopes) => {
        const header = buildChallenge({ error: 'insufficient_scope', description: 'The access token lacks a scope this request needs', resourceMetadata: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp', scope: scopes })
        const params = [...header.slice('Bearer '.length).matchAll(/([a-z_]+)="[^"]*"/g)].map((m) => m[1])
        expect(params.slice(0, 3)).toEqual(['error', 'error_description', 'resource_metadata'])
        expect(params.length === 3 || (params.length === 4 && params[3] === 'scope')).toBe(true)
      },
    ), { numRuns: 5_000 })
  })
})

describe('the metadata URL builder (RFC 9728 §3.1, RFC 8707 §2)', () => {
  const webUrl = fc.webUrl({ validSchemes: ['https', 'http'], withQueryParameters: false, withFragments: true })

  it('canonicalResource is idempotent, lowercases scheme and host, drops the fragment, and ignores their case', () => {
    fc.assert(fc.property(webUrl, fc.boolean(), (raw, shout) => {
      const url = new URL(raw)
      const canonical = canonicalResource(url)
      expect(canonicalResource(new URL(canonical))).toBe(canonical)
      expect(canonical).not.toContain('#')
      const { protocol, host } = new URL(canonical)
      expect(canonical.startsWith(`${protocol}//${host}`)).toBe(true)
      expect(`${protocol}//${host}`).toBe(`${protocol}//${host}`.toLowerCase())
      expect(canonical.endsWith('/') && url.pathname === '/').toBe(false)
      if (shout) {
        const loud = raw.replace(/^[a-z]+:\/\/[^/?#]+/, (m) => m.toUpperCase())
        expect(canonicalResource(new URL(loud))).toBe(canonical)
      }
    }), { numRuns: 10_000 })
  })

  it('the metadata URL is on the same origin, path-inserted, stable, and served by the core; the resource path is protected', () => {
    fc.assert(fc.property(webUrl, (raw) => {
      const canonical = canonicalResource(new URL(raw))
      const prm = protectedResourceMetadataUrl(canonical)
      const resource = new URL(canonical)
      const parsed = new URL(prm)
      expect(parsed.href).toBe(prm)
      expect(parsed.origin).toBe(resource.origin)
      expect(parsed.pathname).toBe(`/.well-known/oauth-protected-resource${resource.pathname === '/' ? '' : resource.pathname}`)

      const auth = createMcpAuth({ resource: canonical, issuer: 'https://idp.example.com', allowInsecureHttp: true, cache: false })
      expect(auth.protectedResourceMetadataUrl).toBe(prm)
      expect(auth.metadataPlainResponse({ method: 'GET', url: parsed.pathname, headers: new Headers() })?.status).toBe(200)
      expect(auth.isProtectedPath(parsed.pathname)).toBe(false)
      const path = resource.pathname
      for (const variant of [path, path.toUpperCase(), `${path}/`, `/${path}`, `${path}?x=1`, `${path}#x`, `${path};p=1`]) {
        expect(auth.isProtectedPath(variant), variant).toBe(true)
      }
    }), { numRuns: 3_000 })
  }, 120_000) // 3,000 servers created: seconds on a quiet machine, much longer on a loaded 2-core one
})
