/**
 * `githubLike: true`: the dev IdP shaped like GitHub's OAuth apps, to be the upstream of @mcp-oauth/bridge in
 * tests and the demo — no discovery document (404 at both well-known URLs), no dynamic registration, no Client ID
 * Metadata Documents, PKCE not required from confidential clients (they authenticate with their secret), opaque
 * access tokens (as always without a resource indicator) and the user-info endpoint (`/me`) for the identity.
 * Refresh tokens still follow `refreshTokens` (only for `offline_access` by default), so both shapes of GitHub app
 * (with and without expiring user tokens) can be played.
 */
import type { Configuration } from 'oidc-provider'

export function githubLikeConfiguration(configuration: Configuration): Configuration {
  const features = configuration.features ?? {}
  return {
    ...configuration,
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    features: {
      ...features,
      registration: { enabled: false },
      clientIdMetadataDocument: { enabled: false },
    },
  }
}

/** GitHub publishes no OpenID or RFC 8414 metadata. */
export function servesDiscovery(githubLike: boolean): boolean {
  return !githubLike
}
