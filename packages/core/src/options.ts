/**
 * The options of {@link createMcpAuth}: the public interfaces, and their resolved form. Checking lives in
 * options/ (resolve.ts runs the checks in order; validate-*.ts hold them).
 */
import type { AuthInfo } from './auth-info.js'
import type { McpAuthEvent } from './events.js'
import type { McpPolicy, ResolvedPolicy } from './mcp/policy.js'
import type { SessionStore } from './mcp/session-binding.js'
import type { DpopReplayStore } from './token/dpop-replay.js'
import type { DpopMode, ResolvedDpop } from './token/dpop.js'
import type { KeyValueStore } from './store.js'

/** Algorithms accepted by default: asymmetric only (RFC 8725 §3.1, RFC 9068 §4). Never `none`, never HMAC. */
export const DEFAULT_ALGORITHMS: readonly string[] = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
]

/** How the resource server authenticates to the introspection endpoint (RFC 7662 §2.1, RFC 7523). */
export type IntrospectionAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

/** Settings for RFC 7662 token introspection at one issuer. */
export interface IntrospectionOptions {
  /** The resource server's client id at the IdP. */
  clientId: string
  /** Its secret, for `client_secret_basic` (default) and `client_secret_post`. */
  clientSecret?: string
  /** A private key (JWK with `alg`, or a `CryptoKey` with `alg` given) for `private_key_jwt` (RFC 7523). */
  privateKey?: JsonWebKey | { key: CryptoKey; alg: string; kid?: string }
  /** Default `client_secret_basic`, or `private_key_jwt` when only `privateKey` is given. */
  authMethod?: IntrospectionAuthMethod
  /** Default: `introspection_endpoint` from the issuer's metadata. */
  endpoint?: string
  /**
   * Seconds an active result is cached; never past the token's `exp`. Default 10: a revoked token keeps working
   * for at most this long, and each active token costs one introspection call per period (single-flight absorbs
   * bursts). Lower it for faster revocation, raise it when the IdP is the bottleneck (docs/benchmarks.md).
   */
  cacheTtl?: number
  /** Seconds an inactive result is cached, so a flood of one bad token does not reach the IdP. Default 5; 0 disables. */
  inactiveCacheTtl?: number
}

/** One trusted authorization server (issuer) and the rules for its tokens. */
export interface AuthorizationServerOptions {
  /** The issuer identifier, exactly as the IdP writes it in `iss` (RFC 8414 §2). https, except loopback. */
  issuer: string
  /** Audiences accepted in this issuer's tokens. Default: the canonical resource (RFC 8707). Loosening: see README. */
  audience?: string | string[]
  /** Default: `jwks_uri` from the issuer's metadata. */
  jwksUri?: string
  /** Enables opaque tokens from this issuer (RFC 7662). */
  introspection?: IntrospectionOptions
  /** Allowed JWS algorithms for this issuer. Default: the global `algorithms`. */
  algorithms?: string[]
  /** Claims that carry scopes, merged. Default `['scope', 'scp']`; e.g. add `'permissions'` (Auth0 RBAC) or `'roles'` (Entra app roles). */
  scopeClaims?: string[]
  /** Claims tried in order for the client id. Default `['client_id', 'azp']`; e.g. `['appid']` (Entra v1), `['cid']` (Okta). */
  clientIdClaims?: string[]
  /**
   * The claim that must contain an accepted audience. Default `'aud'` (RFC 8707/9068). Loosening for IdPs
   * whose access tokens have no `aud` (AWS Cognito: `'client_id'`); the profile helpers set it.
   */
  audienceClaim?: string
  /**
   * Read the token's scopes with this prefix, so `requiredScopes`, the policy and the challenges can all use the
   * form clients request. Entra ID: clients ask for `api://<app>/tools.call`, tokens carry `tools.call`; with
   * `scopePrefix: 'api://<app>/'` the token's scopes read `api://<app>/tools.call`. Default: none.
   */
  scopePrefix?: string
  /** Claims every token of this issuer must carry with exactly these values, e.g. `{ token_use: 'access' }` (Cognito). */
  requiredClaims?: Record<string, string | number | boolean>
}

/** A function that verifies a token itself; return {@link AuthInfo} or throw (any throw becomes 401 `invalid_token`, an `McpAuthError` keeps its code). */
export type CustomVerifier = (token: string, context: { resource: string }) => AuthInfo | Promise<AuthInfo>

/**
 * Options of {@link createMcpAuth}. Every option is checked when the object is created.
 */
export interface McpAuthOptions {
  /**
   * The canonical URI of the MCP endpoint, e.g. `https://mcp.example.com/mcp` (required). It is the PRM
   * `resource`, the audience tokens must carry (RFC 8707), and it decides the protected path.
   */
  resource: string
  /** The issuer (or issuers) whose tokens are trusted; their metadata is discovered (RFC 8414 / OIDC). */
  issuer?: string | string[]
  /** Per-issuer settings, instead of (or as well as) `issuer`. */
  authorizationServers?: AuthorizationServerOptions[]
  /** PRM `scopes_supported` and the 401 challenge's `scope` when `requiredScopes` is empty. Default: none. */
  scopesSupported?: string[]
  /** Scopes every request must carry; a token without them gets 403 `insufficient_scope`. Default: none. */
  requiredScopes?: string[]
  /** Introspection for every issuer given by `issuer` (RFC 7662). Enables opaque tokens. */
  introspection?: IntrospectionOptions
  /** `'auto'` (default with introspection): JWTs from a trusted issuer locally, the rest introspected. `'jwt'` (default otherwise) or `'opaque'` force one path. */
  tokenFormat?: 'auto' | 'jwt' | 'opaque'
  /** A custom verifier used instead of JWT/introspection. */
  verify?: CustomVerifier
  /** Allowed JWS algorithms. Default: RS/PS/ES 256–512 and EdDSA. Only asymmetric algorithms are accepted. */
  algorithms?: string[]
  /** Seconds of clock skew allowed for `exp`, `nbf`, `iat`. Default 5. */
  clockTolerance?: number
  /** Largest token accepted, in bytes. Default 16384. */
  maxTokenLength?: number
  /**
   * Verified-token cache. Default `{ max: 10000, maxTtl: 600 }`. `false` disables it. A JWT is cached from its
   * second use (the first leaves only its hash, in a list of the same `max`); an introspection result at once.
   */
  cache?: { max?: number; maxTtl?: number } | false
  /** Timeout for every request to the IdP, in ms. Default 5000. */
  timeout?: number
  /**
   * JWKS behaviour (seconds). `cooldown` (default 30): the first token naming a `kid` the key set lacks refetches
   * it at once; further such refetches wait `cooldown` after the last one, and a failing endpoint is tried again
   * after `cooldown`. `maxAge` (default 600): how long a fetched key set is used before it is fetched again.
   * `staleIfError` (default 43200): how long the last good set keeps verifying while the endpoint fails.
   */
  jwks?: { cooldown?: number; maxAge?: number; staleIfError?: number }
  /** Seconds in `Retry-After` on 503. Default 10. */
  retryAfter?: number
  /** The `fetch` used for the IdP. Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /** Observability hook. Events never contain a token or an `Authorization` header. */
  onEvent?: (event: McpAuthEvent) => void
  /** PRM `resource_name`. */
  resourceName?: string
  /** PRM `resource_documentation` (URL). */
  resourceDocumentation?: string
  /** PRM `resource_policy_uri` (URL). */
  resourcePolicyUri?: string
  /** PRM `resource_tos_uri` (URL). */
  resourceTosUri?: string
  /** Loosening: accept `http://` for the resource and issuers on non-loopback hosts. Default false. */
  allowInsecureHttp?: boolean
  /** MCP-aware authorization: scopes per tool, per JSON-RPC method, by default, or by a function. Default: none. */
  policy?: McpPolicy
  /**
   * Bind each `Mcp-Session-Id` to the (issuer, subject, client id) that created it; a request with another
   * user's token gets 404. Default `true` (in-memory store, 10,000 sessions); `false` turns it off; pass
   * `{ store }` to share bindings between instances: a {@link KeyValueStore} (`RedisStore` from
   * `@mcp-oauth/redis`), whose bindings expire `ttlSeconds` (default 86,400) after their last use, or your own
   * {@link SessionStore}. When the store cannot answer, a request naming a session (or starting one) gets 503
   * with `Retry-After`, never a session treated as unbound.
   */
  sessionBinding?: boolean | { store?: SessionStore | KeyValueStore; ttlSeconds?: number }
  /**
   * Mirror the issuer's RFC 8414 metadata on this server's origin (for 2025-03-26 clients), optionally
   * patched. Default: on when exactly one issuer is configured. See the README for what it can and cannot fix.
   */
  authorizationServerMetadata?: boolean | AuthorizationServerMetadataMirror
  /**
   * Trust `Forwarded` / `X-Forwarded-Proto`, `-Host` and `-Prefix` from a reverse proxy, so a proxy that strips
   * a path prefix still leaves the resource's path protected and its metadata served. Malformed values are
   * refused with 400. Default false: only turn it on behind a proxy that sets (and overwrites) these headers.
   */
  trustProxy?: boolean
  /**
   * On Node, check JWS signatures with `node:crypto` (2–4× less CPU than WebCrypto on a cache miss; keys still
   * come from jose). Default `true`: the path is chosen per key. In a process that may run on one CPU only
   * (`os.availableParallelism()` is 1) every key is checked on the event loop; elsewhere each key's first checks
   * are timed, and a key whose check costs more than the hand-off to libuv's thread pool (P-256 and Ed25519 on
   * slow machines) is checked there, beside the event loop, a cheaper one (RSA, usually) on the event loop.
   * Checks on the event loop are batched: those of the requests that arrived together run together in the
   * loop's next check phase, and their answers leave together. `'inline'` or `'thread-pool'` fixes the path for
   * every key; `false` verifies through jose (WebCrypto) everywhere. Other runtimes always use jose.
   */
  nativeCrypto?: boolean | 'inline' | 'thread-pool'
  /**
   * DPoP (RFC 9449): `'allowed'` (default) accepts bearer tokens and DPoP-bound tokens with their proofs
   * (`Authorization: DPoP <token>` + a `DPoP` header), refusing a DPoP-bound token sent as `Bearer`;
   * `'required'` accepts only DPoP-bound tokens; `false` speaks only `Bearer` (a bound token is refused).
   * An object sets the proof rules, the replay store (shared between instances) and server nonces. See {@link DpopOptions}.
   */
  dpop?: DpopMode | DpopOptions | false
  /**
   * CORS on the MCP endpoint, for browser clients (the MCP Inspector in Direct mode, web apps): preflights are
   * answered (every method, the headers asked for), and every answer — refusals and the handler's own — carries
   * `Access-Control-Allow-Origin: *` and exposes `WWW-Authenticate` and `Mcp-Session-Id`. A header the
   * application already set wins. Safe with bearer tokens: nothing here uses cookies. Default `true`; `false`
   * leaves CORS on the MCP endpoint to the application's own middleware (the metadata routes keep theirs).
   * @see https://fetch.spec.whatwg.org/#http-cors-protocol
   */
  cors?: boolean
}

/** Options of the RFC 8414 metadata mirror (metadata/rfc8414-mirror.ts). */
export interface AuthorizationServerMetadataMirror {
  /** Serve it. Default: `true` when exactly one issuer is configured. */
  enabled?: boolean
  /** Also serve `/.well-known/openid-configuration`. Default false. */
  openid?: boolean
  /** The IdP supports PKCE with S256 but its metadata omits it: add `code_challenge_methods_supported: ["S256"]`. Default false. */
  supportsPkceS256?: boolean
  /** Any other fix. It receives a copy; a changed `issuer` is ignored. */
  patch?: (metadata: Record<string, unknown>) => Record<string, unknown>
}

/** One issuer, resolved. */
export interface ResolvedIssuer {
  issuer: string
  audiences: string[]
  audienceClaim: string
  scopeClaims: string[]
  clientIdClaims: string[]
  scopePrefix: string
  requiredClaims: ReadonlyArray<readonly [string, string | number | boolean]>
  jwksUri: string | undefined
  introspection: ResolvedIntrospection | undefined
  algorithms: string[]
}

export interface ResolvedIntrospection {
  clientId: string
  clientSecret: string | undefined
  privateKey: IntrospectionOptions['privateKey']
  authMethod: IntrospectionAuthMethod
  endpoint: string | undefined
  cacheTtl: number
  inactiveCacheTtl: number
}

/** The options after checking, with every default filled in. */
export interface ResolvedOptions {
  resource: string
  resourcePath: string
  metadataUrl: string
  metadataPath: string
  issuers: ResolvedIssuer[]
  scopesSupported: string[]
  requiredScopes: string[]
  tokenFormat: 'auto' | 'jwt' | 'opaque'
  verify: CustomVerifier | undefined
  clockTolerance: number
  maxTokenLength: number
  cache: { max: number; maxTtl: number } | false
  timeout: number
  jwks: { cooldown: number; maxAge: number; staleIfError: number }
  retryAfter: number
  fetch: typeof fetch
  onEvent: ((event: McpAuthEvent) => void) | undefined
  resourceName: string | undefined
  resourceDocumentation: string | undefined
  resourcePolicyUri: string | undefined
  resourceTosUri: string | undefined
  policy: ResolvedPolicy | undefined
  sessionStore: SessionStore | undefined
  mirror: AuthorizationServerMetadataMirror | undefined
  trustProxy: boolean
  nativeCrypto: boolean
  /** Where node:crypto checks token signatures: chosen per key (`auto`), or fixed by `nativeCrypto`. */
  verifyPath: 'auto' | 'inline' | 'thread-pool'
  dpop: ResolvedDpop | false
  cors: boolean
}

/**
 * DPoP (RFC 9449) settings. `dpop: 'allowed'` (the default) is `{ mode: 'allowed' }`.
 *
 * @example
 * ```ts
 * createMcpAuth({ resource, issuer, dpop: { mode: 'required', replayStore: new RedisDpopReplayStore(redisStore) } })
 * ```
 */
export interface DpopOptions {
  /** `'allowed'` (default): bearer and DPoP-bound tokens; `'required'`: only DPoP-bound tokens (RFC 9449 §7.1). */
  mode?: DpopMode
  /** Proof algorithms accepted, advertised as `algs` and in PRM `dpop_signing_alg_values_supported`. Default: every asymmetric JWS algorithm. */
  algorithms?: string[]
  /** Seconds a proof is accepted after its `iat` (RFC 9449 §4.3 step 11). Default 60. */
  maxAge?: number
  /** Seconds of clock skew allowed for the proof's `iat`. Default: the `clockTolerance` option (5). */
  clockTolerance?: number
  /** Longest `DPoP` header accepted, in characters. Default 8192. */
  maxProofLength?: number
  /**
   * Where proof `jti`s are remembered (RFC 9449 §11.1). Default: in memory (one process). With several instances
   * use a shared one: `new RedisDpopReplayStore(redisStore)` from `@mcp-oauth/redis`.
   */
  replayStore?: DpopReplayStore
  /**
   * Require a server nonce in every proof (RFC 9449 §8): `{ secret }` (≥ 32 bytes, the same on every instance) and
   * `lifetime` in seconds (default 300; the previous window's nonce is still accepted). Default: no nonces.
   */
  nonce?: { secret: string | Uint8Array; lifetime?: number }
}
