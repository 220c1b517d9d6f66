/**
 * Checks of the options that switch features on: the token format, the verified-token cache, session binding
 * (mcp/session-binding.ts) and the RFC 8414 metadata mirror (metadata/rfc8414-mirror.ts).
 */
import { KeyValueSessionStore, MemorySessionStore, type SessionStore } from '../mcp/session-binding.js'
import { isKeyValueStore } from '../store.js'
import type { AuthorizationServerMetadataMirror, McpAuthOptions, ResolvedIssuer, ResolvedOptions } from '../options.js'
import { checkKeys, fail, seconds } from './validate.js'

export function resolveTokenFormat(options: McpAuthOptions, issuers: ResolvedIssuer[]): ResolvedOptions['tokenFormat'] {
  const hasIntrospection = issuers.some((i) => i.introspection)
  const tokenFormat = options.tokenFormat ?? (hasIntrospection ? 'auto' : 'jwt')
  if (!['auto', 'jwt', 'opaque'].includes(tokenFormat)) fail('tokenFormat', 'must be "auto", "jwt" or "opaque".')
  if (tokenFormat === 'opaque' && !hasIntrospection && !options.verify) {
    fail('tokenFormat', '"opaque" needs introspection: add introspection: { clientId, clientSecret }.')
  }
  return tokenFormat
}

export function resolveCache(value: McpAuthOptions['cache']): ResolvedOptions['cache'] {
  if (value === false) return false
  if (value === undefined) return { max: 10_000, maxTtl: 600 }
  if (typeof value !== 'object' || value === null) fail('cache', 'must be { max, maxTtl } or false.')
  const max = value.max ?? 10_000
  if (!Number.isInteger(max) || max < 1) fail('cache.max', 'must be a positive integer, e.g. 10000.')
  return { max, maxTtl: seconds(value.maxTtl, 'cache.maxTtl', 600, 1) }
}

const SESSION_BINDING_KEYS = new Set(['store', 'ttlSeconds'])

export function resolveSessionStore(binding: McpAuthOptions['sessionBinding']): SessionStore | undefined {
  if (binding === undefined || binding === true) return new MemorySessionStore()
  if (binding === false) return undefined
  if (typeof binding === 'object' && binding !== null) {
    // A misspelt `store` would silently fall back to memory: one instance's bindings, unnoticed until production.
    checkKeys(binding, SESSION_BINDING_KEYS, 'sessionBinding.')
    const ttl = seconds(binding.ttlSeconds, 'sessionBinding.ttlSeconds', 86_400, 1)
    const store = binding.store ?? new MemorySessionStore({ ttlSeconds: ttl })
    // A key-value store (RedisStore, MemoryStore) holds the bindings as entries of kind `session`.
    if (isKeyValueStore(store)) return new KeyValueSessionStore(store, ttl)
    if (typeof store.get !== 'function' || typeof store.set !== 'function') {
      fail('sessionBinding.store', 'must be a KeyValueStore (get, set, delete, take — e.g. RedisStore from @mcp-oauth/redis) or have get(sessionId) and set(sessionId, binding).')
    }
    return store
  }
  return fail('sessionBinding', 'must be true, false or { store, ttlSeconds }.')
}

export function resolveMirror(m: McpAuthOptions['authorizationServerMetadata'], issuerCount: number): AuthorizationServerMetadataMirror | undefined {
  if (m === undefined) return issuerCount === 1 ? {} : undefined
  if (m === true || (typeof m === 'object' && m !== null && m.enabled !== false)) {
    if (issuerCount !== 1) fail('authorizationServerMetadata', `mirrors one issuer's metadata, and ${issuerCount} are configured; remove it or configure one issuer.`)
    const mirror = m === true ? {} : m
    if (mirror.patch !== undefined && typeof mirror.patch !== 'function') fail('authorizationServerMetadata.patch', 'must be a function (metadata) => metadata.')
    return mirror
  }
  if (m !== false && !(typeof m === 'object' && m !== null)) fail('authorizationServerMetadata', 'must be true, false or { openid?, supportsPkceS256?, patch? }.')
  return undefined
}
