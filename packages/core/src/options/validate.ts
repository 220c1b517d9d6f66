/**
 * The building blocks of option checking: one message style ("what to write instead"), unknown-key detection
 * with aliases, and the shared value checks. Every failure is a {@link McpAuthConfigError} (a `TypeError`).
 */
import { McpAuthConfigError } from '../errors.js'
import { checkHttpsUri, type UriProblem } from '../metadata/resource-uri.js'
import { DEFAULT_ALGORITHMS } from '../options.js'

export const ASYMMETRIC: ReadonlySet<string> = new Set(DEFAULT_ALGORITHMS)

export const KNOWN_OPTIONS = new Set<string>([
  'resource', 'issuer', 'authorizationServers', 'scopesSupported', 'requiredScopes', 'introspection', 'tokenFormat',
  'verify', 'algorithms', 'clockTolerance', 'maxTokenLength', 'cache', 'timeout', 'jwks', 'retryAfter', 'fetch',
  'onEvent', 'resourceName', 'resourceDocumentation', 'resourcePolicyUri', 'resourceTosUri', 'allowInsecureHttp',
  'policy', 'sessionBinding', 'authorizationServerMetadata', 'trustProxy', 'nativeCrypto', 'dpop', 'cors',
])
export const KNOWN_AS_OPTIONS = new Set<string>(['issuer', 'audience', 'jwksUri', 'introspection', 'algorithms', 'scopeClaims', 'clientIdClaims', 'audienceClaim', 'scopePrefix', 'requiredClaims'])
export const KNOWN_INTROSPECTION_OPTIONS = new Set<string>([
  'clientId', 'clientSecret', 'privateKey', 'authMethod', 'endpoint', 'cacheTtl', 'inactiveCacheTtl',
])

const ALIASES: Record<string, string> = {
  issuerUrl: 'issuer', issuers: 'issuer', scopes: 'requiredScopes', requiredScope: 'requiredScopes',
  audience: 'authorizationServers[].audience', resourceUrl: 'resource', resourceServerUrl: 'resource',
  jwksUrl: 'authorizationServers[].jwksUri', jwksUri: 'authorizationServers[].jwksUri',
}

export function uriMessage(problem: UriProblem, value: string, what: string): string {
  switch (problem) {
    case 'not-absolute':
      return `${JSON.stringify(value)} is not an absolute URL; write the full ${what}, e.g. "https://mcp.example.com/mcp".`
    case 'not-http':
      return `${JSON.stringify(value)} must be an https URL.`
    case 'insecure':
      return `${JSON.stringify(value)} uses http on a non-loopback host; write https://… (http is only allowed for localhost/127.0.0.1, or set allowInsecureHttp: true).`
    case 'fragment':
      return `${JSON.stringify(value)} has a fragment (#…); a ${what} must not have one (RFC 8707 §2). Remove it.`
    case 'query':
      return `${JSON.stringify(value)} has a query string; write the ${what} without it.`
    case 'credentials':
      return `${JSON.stringify(value)} contains user:password@; remove the credentials.`
  }
}

export function fail(option: string, message: string): never {
  throw new McpAuthConfigError(option, message)
}

export function checkKeys(value: object, known: Set<string>, where: string): void {
  for (const key of Object.keys(value)) {
    if (known.has(key)) continue
    const alias = ALIASES[key]
    fail(`${where}${key}`, `unknown option${alias ? `; did you mean "${alias}"?` : `. Known options: ${[...known].join(', ')}.`}`)
  }
}

export function stringList(value: unknown, option: string, check?: (s: string) => boolean, hint?: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) fail(option, `must be an array of strings, e.g. ["mcp:tools"].`)
  for (const item of value) {
    if (typeof item !== 'string' || item === '' || (check && !check(item))) {
      fail(option, `${JSON.stringify(item)} is not allowed${hint ? `; ${hint}` : ''}.`)
    }
  }
  return [...new Set(value as string[])]
}

export function seconds(value: unknown, option: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    fail(option, `must be a finite number of seconds ≥ ${min}, e.g. ${fallback}.`)
  }
  return value
}

export function optionalUrl(value: unknown, option: string, allowInsecure: boolean): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') fail(option, 'must be a URL string.')
  const url = checkHttpsUri(value, { allowInsecure, allowQuery: true })
  if (typeof url === 'string') fail(option, uriMessage(url, value, 'URL'))
  return url.href
}
