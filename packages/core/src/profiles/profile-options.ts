/**
 * Checks shared by the IdP profiles: each profile turns the few values a user knows (a domain, a realm, a
 * tenant id) into issuer URLs, so a wrong value must fail at start-up with a message that names the profile
 * and says what to write — never as a 401 on the first request.
 */
import { McpAuthConfigError } from '../errors.js'

export function fail(option: string, message: string): never {
  throw new McpAuthConfigError(option, message)
}

/** The options object itself, with unknown keys refused (a typo like `domian` must not be ignored). */
export function profileOptions<T extends object>(value: T | undefined, profile: string, known: readonly string[], example: string): T {
  if (value === null || typeof value !== 'object') fail(`${profile}()`, `pass an object like ${profile}(${example}).`)
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(`${profile}().${key}`, `unknown option. Known options: ${known.join(', ')}.`)
  }
  return value
}

/** A required, non-empty string without whitespace or the URL delimiters that would change the issuer. */
export function requireToken(value: unknown, option: string, example: string): string {
  if (typeof value !== 'string' || value === '') fail(option, `is required, e.g. ${example}.`)
  if (/[\s/?#]/.test(value)) fail(option, `${JSON.stringify(value)} must not contain spaces, "/", "?" or "#"; write it like ${example}.`)
  return value
}

/**
 * A host (`tenant.us.auth0.com`, `sso.example.com:8443`) or an origin URL (`https://tenant.us.auth0.com`,
 * `http://127.0.0.1:3000` for local emulations and tests). Returns the origin; a bare host means https.
 * http is not refused here: the core refuses it for non-loopback hosts unless `allowInsecureHttp` is set.
 */
export function originOf(value: unknown, option: string, example: string): string {
  if (typeof value !== 'string' || value === '') fail(option, `is required, e.g. ${example}.`)
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    fail(option, `${JSON.stringify(value)} is not a host name or URL; write it like ${example}.`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(option, `${JSON.stringify(value)} must be a host name or an https URL, e.g. ${example}.`)
  if (url.username || url.password || url.search || url.hash || value.includes('#') || (url.pathname !== '/' && url.pathname !== '')) {
    fail(option, `${JSON.stringify(value)} must be the host only, without a path, query or credentials; write it like ${example}.`)
  }
  return url.origin
}

/** An absolute http(s) URL that may have a path (e.g. Keycloak's legacy `/auth`); no query, fragment or credentials. Trailing slashes removed. */
export function baseUrlOf(value: unknown, option: string, example: string): string {
  if (typeof value !== 'string' || value === '') fail(option, `is required, e.g. ${example}.`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    fail(option, `${JSON.stringify(value)} is not an absolute URL; write it like ${example}.`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(option, `${JSON.stringify(value)} must be an https URL, e.g. ${example}.`)
  if (url.username || url.password || url.search || url.hash || value.includes('#')) {
    fail(option, `${JSON.stringify(value)} must not have a query, fragment or credentials; write it like ${example}.`)
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

/** A string or a non-empty list of strings, as written; `undefined` when not given. */
export function optionalStrings(value: unknown, option: string, example: string): string[] | undefined {
  if (value === undefined) return undefined
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v !== '')) {
    fail(option, `must be a string or a non-empty array of strings, e.g. ${example}.`)
  }
  return [...new Set(list as string[])]
}

export function requireStrings(value: unknown, option: string, example: string): string[] {
  if (value === undefined) fail(option, `is required, e.g. ${example}.`)
  return optionalStrings(value, option, example)!
}

/** `audience` as the core takes it: one string stays a string. */
export function audienceValue(list: string[]): string | string[] {
  return list.length === 1 ? list[0]! : list
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isGuid(value: string): boolean {
  return GUID.test(value)
}

/** `timeout` and `fetch` of the profiles that call a provider API themselves. */
export function remoteOptions(options: { fetch?: unknown; timeout?: unknown }, profile: string): { fetch: typeof fetch; timeout: number } {
  if (options.fetch !== undefined && typeof options.fetch !== 'function') fail(`${profile}().fetch`, 'must be a fetch-compatible function.')
  const timeout = options.timeout ?? 5000
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1) fail(`${profile}().timeout`, 'must be a positive integer number of milliseconds, e.g. 5000.')
  const fetchFn = (options.fetch as typeof fetch | undefined) ?? ((input, init) => globalThis.fetch(input, init))
  return { fetch: fetchFn, timeout }
}
