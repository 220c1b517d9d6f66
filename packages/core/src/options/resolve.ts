/**
 * `resolveOptions`: every option checked once, at creation, in a fixed order (so the first mistake is the
 * one reported), and every default filled in.
 */
import { resolvePolicy } from '../mcp/policy.js'
import { canonicalResource, checkHttpsUri, protectedResourceMetadataUrl } from '../metadata/resource-uri.js'
import { DEFAULT_ALGORITHMS, type McpAuthOptions, type ResolvedOptions } from '../options.js'
import { SCOPE_TOKEN } from '../token/rfc6750.js'
import { resolveCache, resolveMirror, resolveSessionStore, resolveTokenFormat } from './validate-features.js'
import { resolveDpop } from './validate-dpop.js'
import { resolveIssuers } from './validate-issuers.js'
import { ASYMMETRIC, KNOWN_OPTIONS, checkKeys, fail, optionalUrl, seconds, stringList, uriMessage } from './validate.js'

/**
 * Check every option and fill in defaults. Throws {@link McpAuthConfigError} (a `TypeError`) whose message
 * says what to write instead.
 */
export function resolveOptions(options: McpAuthOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    fail('options', 'pass an object like { resource: "https://mcp.example.com/mcp", issuer: "https://idp.example.com" }.')
  }
  checkKeys(options, KNOWN_OPTIONS, '')
  const allowInsecure = options.allowInsecureHttp === true
  if (options.allowInsecureHttp !== undefined && typeof options.allowInsecureHttp !== 'boolean') {
    fail('allowInsecureHttp', 'must be true or false.')
  }
  const { resource, resourcePath } = resolveResource(options, allowInsecure)
  const algorithms = stringList(options.algorithms ?? DEFAULT_ALGORITHMS, 'algorithms', (a) => ASYMMETRIC.has(a),
    `only asymmetric algorithms are allowed (${DEFAULT_ALGORITHMS.join(', ')}); "none" and HS* are never accepted`)
  if (algorithms.length === 0) fail('algorithms', `must not be empty; omit it to use ${DEFAULT_ALGORITHMS.join(', ')}.`)
  const issuers = resolveIssuers(options, resource, algorithms, allowInsecure)
  checkIssuerSources(options, issuers.length)
  const tokenFormat = resolveTokenFormat(options, issuers)

  const scopeHint = 'scopes are non-empty strings without spaces, quotes or backslashes (RFC 6749 §3.3)'
  const scopesSupported = stringList(options.scopesSupported, 'scopesSupported', (s) => SCOPE_TOKEN.test(s), scopeHint)
  const requiredScopes = stringList(options.requiredScopes, 'requiredScopes', (s) => SCOPE_TOKEN.test(s), scopeHint)
  if (requiredScopes.includes('offline_access')) {
    fail('requiredScopes', '"offline_access" cannot be required: it asks the IdP for a refresh token, which is not a resource requirement, and MCP servers never challenge for it (MCP 2026-07-28). Remove it.')
  }
  const cache = resolveCache(options.cache)
  const { maxTokenLength, timeout } = resolveLimits(options)
  const sessionStore = resolveSessionStore(options.sessionBinding)
  const mirror = resolveMirror(options.authorizationServerMetadata, issuers.length)
  if (options.trustProxy !== undefined && typeof options.trustProxy !== 'boolean') fail('trustProxy', 'must be true or false.')
  const native = options.nativeCrypto
  if (native !== undefined && typeof native !== 'boolean' && native !== 'inline' && native !== 'thread-pool') {
    fail('nativeCrypto', "must be true (the default: the path chosen per key), false (jose everywhere), 'inline' or 'thread-pool'.")
  }
  if (options.cors !== undefined && typeof options.cors !== 'boolean') fail('cors', 'must be true or false.')

  const clockTolerance = seconds(options.clockTolerance, 'clockTolerance', 5)
  const dpop = resolveDpop(options.dpop, clockTolerance, options.nativeCrypto !== false)
  const metadataUrl = protectedResourceMetadataUrl(resource)
  return {
    resource,
    resourcePath,
    metadataUrl,
    metadataPath: new URL(metadataUrl).pathname,
    issuers,
    scopesSupported,
    requiredScopes,
    tokenFormat,
    verify: options.verify,
    clockTolerance,
    maxTokenLength,
    cache,
    timeout,
    jwks: {
      cooldown: seconds(options.jwks?.cooldown, 'jwks.cooldown', 30),
      maxAge: seconds(options.jwks?.maxAge, 'jwks.maxAge', 600),
      staleIfError: seconds(options.jwks?.staleIfError, 'jwks.staleIfError', 43_200),
    },
    retryAfter: seconds(options.retryAfter, 'retryAfter', 10, 1),
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    onEvent: options.onEvent,
    resourceName: typeof options.resourceName === 'string' ? options.resourceName : options.resourceName === undefined ? undefined : fail('resourceName', 'must be a string.'),
    resourceDocumentation: optionalUrl(options.resourceDocumentation, 'resourceDocumentation', allowInsecure),
    resourcePolicyUri: optionalUrl(options.resourcePolicyUri, 'resourcePolicyUri', allowInsecure),
    resourceTosUri: optionalUrl(options.resourceTosUri, 'resourceTosUri', allowInsecure),
    policy: resolvePolicy(options.policy),
    sessionStore,
    mirror,
    trustProxy: options.trustProxy === true,
    nativeCrypto: native !== false,
    verifyPath: native === 'inline' || native === 'thread-pool' ? native : 'auto',
    dpop,
    cors: options.cors !== false,
  }
}

/** The canonical resource URI (RFC 8707 §2) and its path (what the server protects). */
function resolveResource(options: McpAuthOptions, allowInsecure: boolean): { resource: string; resourcePath: string } {
  if (options.resource === undefined) {
    fail('resource', 'is required: the full URL of your MCP endpoint, e.g. "https://mcp.example.com/mcp".')
  }
  if (typeof options.resource !== 'string') fail('resource', 'must be a URL string.')
  const resourceUrl = checkHttpsUri(options.resource, { allowInsecure, allowQuery: false })
  if (typeof resourceUrl === 'string') fail('resource', uriMessage(resourceUrl, options.resource, 'resource URL'))
  return { resource: canonicalResource(resourceUrl), resourcePath: resourceUrl.pathname }
}

/** Where tokens can come from (issuers, or a custom verifier), and the function-valued options. */
function checkIssuerSources(options: McpAuthOptions, issuerCount: number): void {
  if (issuerCount === 0 && options.verify === undefined) {
    fail('issuer', 'is required: the URL of your identity provider, e.g. issuer: "https://idp.example.com" (or authorizationServers: [{ issuer }]).')
  }
  if (options.introspection !== undefined && options.issuer === undefined) {
    fail('introspection', 'applies to the issuers in "issuer"; with authorizationServers, put introspection inside each entry.')
  }
  if (options.verify !== undefined && typeof options.verify !== 'function') fail('verify', 'must be a function (token) => AuthInfo.')
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') fail('onEvent', 'must be a function (event) => void.')
  if (options.fetch !== undefined && typeof options.fetch !== 'function') fail('fetch', 'must be a fetch-compatible function.')
}

function resolveLimits(options: McpAuthOptions): { maxTokenLength: number; timeout: number } {
  const maxTokenLength = options.maxTokenLength ?? 16_384
  if (!Number.isInteger(maxTokenLength) || maxTokenLength < 64) fail('maxTokenLength', 'must be an integer ≥ 64, e.g. 16384.')
  const timeout = options.timeout ?? 5000
  if (!Number.isInteger(timeout) || timeout < 1) fail('timeout', 'must be a positive integer number of milliseconds, e.g. 5000.')
  if (options.jwks !== undefined && (typeof options.jwks !== 'object' || options.jwks === null)) fail('jwks', 'must be an object { cooldown, maxAge, staleIfError }.')
  return { maxTokenLength, timeout }
}
