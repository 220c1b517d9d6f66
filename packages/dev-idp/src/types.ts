/** Public types of @mcp-oauth/dev-idp (re-exported from index.ts). */
import type { Provider, ClientMetadata } from 'oidc-provider'

export type SigningAlg = 'ES256' | 'RS256' | 'PS256' | 'EdDSA'

export interface DevIdpUser {
  id: string
  username: string
  password: string
  /** Extra OIDC claims (name, email, …) released by the profile/email scopes. */
  claims?: Record<string, unknown>
}

export interface DevIdpOptions {
  /** Port to listen on. Default 0 (a random free port). */
  port?: number
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string
  /** Path the provider is mounted under, e.g. '/tenant-a' → issuer http://127.0.0.1:PORT/tenant-a. Default ''. */
  issuerPath?: string
  /** Scopes the IdP knows. Default ['openid','profile','email','offline_access','mcp:read','mcp:tools','mcp:admin']. */
  scopes?: string[]
  /** Users who can sign in. Default one user: demo / demo (id 'demo-user'). */
  users?: DevIdpUser[]
  /** Access token lifetime in seconds. Default 3600. */
  accessTokenTtl?: number
  /** Signing algorithm of access tokens and ID tokens. Default 'ES256'. */
  signingAlg?: SigningAlg
  /** Extra pre-registered clients (oidc-provider client metadata). */
  clients?: ClientMetadata[]
  /** Also serve RFC 8414 /.well-known/oauth-authorization-server (same JSON as openid-configuration). Default true. */
  serveOAuthMetadata?: boolean
  /**
   * When refresh tokens are issued: `'offline_access'` (default, the OIDC rule most IdPs follow: only when the
   * client asked for `offline_access`) or `'always'`. Note that the MCP SDK 1.32 client refreshes instead of
   * re-authorizing when it holds a refresh token, so with `'always'` it cannot step up to wider scopes.
   */
  refreshTokens?: 'offline_access' | 'always'
  /** Which resource indicators (RFC 8707) may be requested. Default: any absolute http(s) URL without a fragment. */
  allowedResource?: (resource: string) => boolean
  /** Secret of the pre-registered 'mcp-resource-server' client. Default: random per start. */
  resourceServerClientSecret?: string
  /** Secret of the pre-registered 'mcp-service' client. Default: random per start. */
  serviceClientSecret?: string
  /**
   * Who answers introspection (RFC 7662) for a JWT. `true` (default): this IdP's front layer, which checks the
   * JWT against its own keys and answers `active` like for an opaque token. `false`: oidc-provider itself, which
   * refuses every structured token with `400 {"error":"unsupported_token_type"}`, as a production
   * oidc-provider does (and what a resource server must not take for an outage).
   */
  introspectJwts?: boolean
  /**
   * Shape the IdP like GitHub's OAuth apps (the upstream of @mcp-oauth/bridge in tests and the demo): no discovery
   * documents, no dynamic registration, no CIMD, PKCE not required from confidential clients, opaque tokens and a
   * user-info endpoint (`/me`). Default false. See github-like.ts.
   */
  githubLike?: boolean
  /**
   * DPoP (RFC 9449, oidc-provider's `dPoP` feature; see dpop.ts): `true` (default) binds the tokens of a client that
   * sends a proof to its key (`token_type: "DPoP"`, `cnf.jkt`); `false` issues bearer tokens only;
   * `{ requireNonce: true }` also makes the token endpoint demand a server nonce.
   */
  dpop?: boolean | { requireNonce?: boolean }
}

export type FailureMode =
  | { kind: 'ok' }
  | { kind: 'status'; status: number }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'garbage' }
  | { kind: 'huge'; bytes: number }
  | { kind: 'json'; body: unknown }
  /**
   * An OAuth error answer (RFC 6749 §5.2, RFC 7662 §2.3): `status` with `{ error, error_description? }`, as real
   * IdPs send for `invalid_client` (401, with `WWW-Authenticate: Basic`), `invalid_request`,
   * `unsupported_token_type` (400) or `access_denied` (403).
   */
  | { kind: 'oauth-error'; status: number; error: string; description?: string }

/** `userinfo`: the `/me` endpoint (the identity of a GitHub-like upstream). */
export type FailableEndpoint = 'jwks' | 'introspection' | 'discovery' | 'token' | 'userinfo' | 'all'
export type CountedEndpoint = 'jwks' | 'introspection' | 'discovery' | 'token' | 'userinfo' | 'registration' | 'authorization' | 'total'

export interface IssueAccessTokenOptions {
  /** Audience. With a resource the default format is 'jwt'. */
  resource?: string
  /** Default: every non-OpenID scope the IdP knows (e.g. mcp:read mcp:tools mcp:admin). [] gives no scope claim. */
  scopes?: string[]
  /** Default: the first user's id ('demo-user'). */
  subject?: string
  /** Default 'mcp-dev-client'. Opaque tokens need a client the IdP knows; JWTs take any string. */
  clientId?: string
  /** Lifetime in seconds. Default accessTokenTtl. */
  ttl?: number
  /** Default 'jwt' when resource is given, else 'opaque'. */
  format?: 'jwt' | 'opaque'
  /** JWT: merged into the payload last (may override standard claims, to forge bad tokens).
   *  Opaque: returned by introspection next to (not over) the standard members. */
  extraClaims?: Record<string, unknown>
}

export interface DevIdp {
  /** e.g. http://127.0.0.1:54321 (no trailing slash), or with the issuerPath. */
  readonly issuer: string
  /** Origin, http://127.0.0.1:PORT. */
  readonly url: string
  readonly port: number
  /** The oidc-provider instance (stable for the life of the IdP, also across rotateKeys()). */
  readonly provider: Provider
  /** Confidential client 'mcp-resource-server' (client_secret_basic or client_secret_post) for RFC 7662 introspection and RFC 7009 revocation by resource servers. */
  readonly resourceServerClient: { clientId: string; clientSecret: string }
  /** Confidential client 'mcp-service' for the client credentials grant. */
  readonly serviceClient: { clientId: string; clientSecret: string }
  /** Public client 'mcp-dev-client' (native; redirect http://127.0.0.1/callback or http://localhost/callback on any port; auth code, refresh, device code). */
  readonly publicClient: { clientId: string }
  close(): Promise<void>
  /**
   * Drive a browserless login + consent: GET the authorization URL, sign in as the user (default the
   * first user, 'demo'), grant every requested scope, follow redirects with a cookie jar, and return the
   * final redirect URL (redirect_uri?code=…&state=…&iss=…). Throws DevIdpAuthorizationError if the IdP
   * redirects back with error=, or an Error if the flow stops on an IdP page.
   */
  completeAuthorization(authorizationUrl: string | URL, opts?: { username?: string }): Promise<URL>
  /**
   * Device flow (RFC 8628), browserless: open `verification_uri_complete`, confirm the code, log in as the user
   * (default the first) and consent. Resolves when the IdP shows its success page; the device then polls the
   * token endpoint as usual.
   */
  completeDeviceAuthorization(verificationUriComplete: string | URL, opts?: { username?: string }): Promise<void>
  /** Mint an access token directly (tests). 'jwt': RFC 9068, aud = resource. 'opaque': valid at introspection. */
  issueAccessToken(opts: IssueAccessTokenOptions): Promise<string>
  /** Client credentials grant through the real token endpoint, as serviceClient. */
  clientCredentials(opts: { resource?: string; scope?: string }): Promise<{
    access_token: string
    token_type: string
    expires_in: number
    scope?: string
  }>
  /** Revoke a token through the real revocation endpoint, as resourceServerClient (JWT access tokens too: introspection then reports them inactive). */
  revoke(token: string): Promise<void>
  /** Rotate the signing key: a new key (same alg unless given) signs from now on; keepOld (default true) keeps the old public keys in the JWKS. */
  rotateKeys(opts?: { alg?: SigningAlg; keepOld?: boolean }): Promise<void>
  /** The signing private key currently in use as a JWK, and its kid. */
  currentSigningKey(): { kid: string; alg: string; privateJwk: JsonWebKey }
  /**
   * Failure injection at the HTTP level. 'discovery' covers every well-known metadata URL; 'all' covers
   * every request to the IdP (a specific endpoint's mode wins over 'all'). { kind: 'ok' } clears it.
   * 'hang' holds the request until heal() (then it is answered normally) or close() (then its connection is destroyed).
   */
  fail(endpoint: FailableEndpoint, mode: FailureMode): void
  /** Restore all endpoints and release hung requests. */
  heal(): void
  /**
   * Serve the Client ID Metadata Documents of `https://<host>/…` client ids from a local http origin, as if
   * `host` resolved to it with TLS terminated in front (like an /etc/hosts entry). The document is still
   * fetched for real and its `client_id` must still equal the https URL. For demos and tests only: the MCP
   * SDK client accepts only https metadata URLs.
   */
  mapClientMetadataHost(host: string, origin: string): void
  /** Requests seen per endpoint since start or resetCounts(). */
  readonly counts: Record<CountedEndpoint, number>
  resetCounts(): void
}

/** Thrown by completeAuthorization() when the IdP redirects back to the client with error=. */
export class DevIdpAuthorizationError extends Error {
  override readonly name = 'DevIdpAuthorizationError'
  constructor(
    readonly error: string,
    readonly errorDescription: string | undefined,
    readonly redirectUrl: URL,
  ) {
    super(`authorization failed: ${error}${errorDescription ? `: ${errorDescription}` : ''}`)
  }
}

