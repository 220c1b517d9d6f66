/**
 * Calling a provider's own API to check an opaque token (Google's tokeninfo, GitHub's REST API), with the
 * same rules as introspection: a timeout, no redirects, a bounded body, and "cannot validate" (503) kept apart
 * from "invalid" (401) so an outage never makes clients throw away good tokens.
 */
import { McpAuthError } from '../errors.js'
import { IdpUnavailable, idpFetch, type IdpFetchOptions } from '../http/idp-fetch.js'
import { peekJwt } from '../token/rfc9068.js'

export interface ProviderResponse {
  status: number
  headers: Headers
  /** The parsed JSON object, or `undefined` when the body is not one. */
  json: Record<string, unknown> | undefined
}

/** Call the provider; a network failure or timeout becomes 503 `ERR_IDP_UNAVAILABLE`. */
export async function callProvider(provider: string, url: string, init: RequestInit, options: IdpFetchOptions): Promise<ProviderResponse> {
  let result: Awaited<ReturnType<typeof idpFetch>>
  try {
    result = await idpFetch(url, init, options)
  } catch (err) {
    throw unavailable(provider, err)
  }
  let json: Record<string, unknown> | undefined
  try {
    const parsed: unknown = JSON.parse(result.body)
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>
  } catch {
    json = undefined
  }
  return { status: result.response.status, headers: result.response.headers, json }
}

export function unavailable(provider: string, cause: unknown, retryAfter?: number): McpAuthError {
  return new McpAuthError('ERR_IDP_UNAVAILABLE', `${provider} cannot be reached to validate the token`, {
    cause: cause instanceof Error ? cause : new IdpUnavailable(String(cause)),
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  })
}

export function rejected(description: string, cause?: unknown): McpAuthError {
  return new McpAuthError('ERR_TOKEN_REJECTED', description, cause === undefined ? undefined : { cause })
}

/**
 * A JWT (an ID token, or another IdP's access token) is never sent to a provider whose access tokens are
 * opaque: it cannot be valid there, and sending it would hand a third party a credential it was not meant for.
 */
export function refuseJwt(token: string, provider: string): void {
  if (peekJwt(token)) throw rejected(`A JWT is not a ${provider} access token`)
}

/** An RFC 3339 date or a NumericDate string (tokeninfo writes `"exp": "1700000000"`) as seconds, or `undefined`. */
export function secondsOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value !== 'string' || value === '') return undefined
  if (/^\d+$/.test(value)) return Number(value)
  const ms = Date.parse(value)
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined
}

/** Seconds to wait from `Retry-After` (delta-seconds) or GitHub's `x-ratelimit-reset` (epoch seconds), capped at an hour. */
export function retryAfterOf(headers: Headers): number | undefined {
  const retry = headers.get('retry-after')
  if (retry !== null && /^\d+$/.test(retry)) return Math.min(Number(retry), 3600)
  const reset = headers.get('x-ratelimit-reset')
  if (reset !== null && /^\d+$/.test(reset)) return Math.min(Math.max(Number(reset) - Math.floor(Date.now() / 1000), 1), 3600)
  return undefined
}
