/**
 * @mcp-oauth/dev-idp — a real OAuth 2.1 / OpenID Connect authorization server (oidc-provider) for the
 * demo, the examples and the test suite. NOT for production: users, clients and tokens live in memory.
 *
 * What it does: authorization code + PKCE (S256 only), refresh tokens, dynamic client registration
 * (RFC 7591, open), Client ID Metadata Documents, resource indicators (RFC 8707) with RFC 9068 JWT
 * access tokens, opaque tokens, introspection (RFC 7662), revocation (RFC 7009), client credentials,
 * device authorization (RFC 8628), RFC 8414 metadata — plus test hooks: failure injection, request
 * counters, key rotation, direct token minting and a browserless login.
 *
 * Layout: provider-config.ts (options → oidc-provider configuration), users.ts, keys.ts, adapter.ts
 * (memory store), cimd.ts (Client ID Metadata Documents), interactions.ts + pages.ts (HTML),
 * server.ts (the front layer), failure-injection.ts, jwt-token-endpoints.ts, test-tokens.ts,
 * browserless.ts, cli.ts. This file wires them into a DevIdp.
 */
import { githubLikeConfiguration, servesDiscovery } from './github-like.js'
import type { KoaContextWithOIDC, Provider } from 'oidc-provider'
import { MemoryStore } from './adapter.js'
import { driveBrowserless } from './browserless.js'
import { createCimdClientResolver } from './cimd.js'
import { FailureInjector } from './failure-injection.js'
import { JwtTokenEndpoints } from './jwt-token-endpoints.js'
import { KeyRing } from './keys.js'
import { buildConfiguration, loadOidcProvider, resolveSettings } from './provider-config.js'
import { createRequestHandler, listen, urlHost } from './server.js'
import { clientCredentials, issueAccessToken, revoke } from './test-tokens.js'
import type { DevIdp, DevIdpOptions, DevIdpUser } from './types.js'

export type { Provider, ClientMetadata } from 'oidc-provider'
export type {
  SigningAlg,
  DevIdpUser,
  DevIdpOptions,
  FailureMode,
  FailableEndpoint,
  CountedEndpoint,
  IssueAccessTokenOptions,
  DevIdp,
} from './types.js'
export { DevIdpAuthorizationError } from './types.js'
export { DEFAULT_SCOPES } from './provider-config.js'
export { DEFAULT_USER } from './users.js'

export async function startDevIdp(options: DevIdpOptions = {}): Promise<DevIdp> {
  const oidc = await loadOidcProvider()
  const settings = resolveSettings(options)
  const { issuerPath, users } = settings

  // The HTTP server first: the issuer needs the port.
  const listening = await listen(settings.port, settings.host)
  const origin = `http://${urlHost(settings.host)}:${listening.port}`
  const issuer = origin + issuerPath

  const keys = await KeyRing.create(settings.initialAlg)
  const store = new MemoryStore()
  const cimd = createCimdClientResolver((message) => new oidc.errors.InvalidClient(message))
  const sweeper = setInterval(() => store.sweep(), 60_000)
  sweeper.unref()

  let provider: Provider
  try {
    const configuration = buildConfiguration(settings, { errors: oidc.errors, keys, store, resolveClient: cimd.resolveClient })
    provider = new oidc.default(issuer, options.githubLike ? githubLikeConfiguration(configuration) : configuration)
  } catch (err) {
    listening.server.close()
    throw err
  }
  provider.on('server_error', (_ctx: KoaContextWithOIDC, err: Error) => {
    console.error('[dev-idp] server_error', err)
  })

  const injector = new FailureInjector()
  let closing = false
  listening.server.on(
    'request',
    createRequestHandler({
      issuer,
      issuerPath,
      serveOAuthMetadata: settings.serveOAuthMetadata,
      serveDiscovery: servesDiscovery(options.githubLike === true),
      introspectJwts: options.introspectJwts !== false,
      injector,
      jwtEndpoints: new JwtTokenEndpoints({
        provider: () => provider,
        issuer,
        keys,
        resourceServerClientId: settings.resourceServerClient.clientId,
        accessTokenTtl: settings.accessTokenTtl,
      }),
      interactions: { provider: () => provider, issuerPath, findUser: (username) => users.byUsername(username) },
      callback: provider.callback(),
      isClosing: () => closing,
    }),
  )

  const signInAs = (username = users.first.username): DevIdpUser => {
    const user = users.byUsername(username)
    if (!user) throw new Error(`dev-idp: unknown user "${username}"`)
    return user
  }
  let closed: Promise<void> | undefined

  return {
    issuer,
    url: origin,
    port: listening.port,
    provider,
    resourceServerClient: settings.resourceServerClient,
    serviceClient: settings.serviceClient,
    publicClient: settings.publicClient,
    get counts() {
      return injector.counts
    },
    mapClientMetadataHost: (host, hostOrigin) => cimd.mapHost(host, hostOrigin),
    resetCounts: () => injector.resetCounts(),
    fail: (endpoint, mode) => injector.fail(endpoint, mode),
    heal: () => injector.heal(),
    async close() {
      closed ??= (async () => {
        closing = true
        clearInterval(sweeper)
        injector.destroyAll()
        await listening.close()
      })()
      return closed
    },
    currentSigningKey() {
      const key = keys.current()
      return { kid: key.kid, alg: key.alg, privateJwk: structuredClone(key.privateJwk) as JsonWebKey }
    },
    rotateKeys: (opts = {}) => keys.rotate(provider, opts),
    async completeAuthorization(authorizationUrl, opts = {}) {
      const result = await driveBrowserless({ origin, issuerPath }, new URL(authorizationUrl), signInAs(opts.username))
      if (result === 'device-signed-in') throw new Error('dev-idp: that was a device flow; use completeDeviceAuthorization')
      return result
    },
    async completeDeviceAuthorization(verificationUri, opts = {}) {
      const result = await driveBrowserless({ origin, issuerPath }, new URL(verificationUri), signInAs(opts.username))
      if (result !== 'device-signed-in') throw new Error(`dev-idp: the device flow ended at ${result.href}`)
    },
    issueAccessToken: (opts) => issueAccessToken({ settings, issuer, keys, provider }, opts),
    clientCredentials: (opts) => clientCredentials(issuer, settings.serviceClient, opts),
    revoke: (token) => revoke(issuer, settings.resourceServerClient, token),
  }
}
