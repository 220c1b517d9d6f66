/**
 * The doctor's checks: what an MCP client (2025-03-26 … 2026-07-28 revisions) and an mcp-oauth resource server
 * need from an authorization server, each with a verdict and, when it fails, what to do about it.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 * @see https://www.rfc-editor.org/rfc/rfc8414
 */
import { DEFAULT_ALGORITHMS, authorizationServerMetadataUrls, canonicalResource, isLoopbackHost, protectedResourceMetadataUrl } from '@mcp-oauth/core'
import { outcome, request, type HttpOptions } from './http.js'
import { detectProvider, type ProviderHint } from './providers.js'

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'info'

export type CheckId =
  | 'issuer-url' | 'discovery' | 'issuer' | 'endpoints' | 'pkce' | 'registration' | 'cimd' | 'iss-parameter' | 'audience' | 'jwks'
  | 'introspection' | 'introspection-credentials' | 'resource-metadata' | 'challenge' | 'challenge-2026'

export interface DoctorCheck {
  id: CheckId
  status: CheckStatus
  /** One line: what was found. */
  title: string
  /** Supporting lines (URLs tried, keys found). */
  details: string[]
  /** What to do, when the check is not a pass. */
  fix?: string
}

export interface DoctorReport {
  issuer: string
  resource: string | undefined
  /** `fail`: MCP clients will not work; `warn`: they work with caveats (e.g. only pre-registered clients); `pass`. */
  verdict: 'pass' | 'warn' | 'fail'
  /** True unless a check failed: the exit code of the CLI is 0. */
  ok: boolean
  provider: Pick<ProviderHint, 'id' | 'name' | 'profile' | 'guide'> | undefined
  /** The metadata document used, and where it was found. */
  metadataUrl: string | undefined
  metadata: Record<string, unknown> | undefined
  checks: DoctorCheck[]
}

export interface DiagnoseOptions {
  /** The MCP server's URL (its canonical resource URI): adds the audience hint and checks its protected resource metadata and challenge. */
  resource?: string
  /** Timeout per request in ms. Default 5000. */
  timeout?: number
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /**
   * The MCP server's introspection credentials (RFC 7662 §2.1, `client_secret_basic`): the doctor introspects a
   * made-up token with them and says whether the IdP accepts them. Refused credentials make mcp-oauth answer 503
   * to every opaque token (`idp_unavailable`, "credentials refused").
   */
  introspection?: { clientId: string; clientSecret: string }
}

const MIRROR = 'authorizationServerMetadata: { supportsPkceS256: true }'

function httpsProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'not a string'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'not an absolute URL'
  }
  if (url.protocol === 'https:') return undefined
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined
  return 'not https'
}

/** `alg` of a JWK, or what jose infers from its key type; `undefined` for keys that cannot sign with an allowed algorithm. */
function keyAlgorithm(key: Record<string, unknown>): { alg: string; inferred: boolean } | undefined {
  if (typeof key.alg === 'string') return { alg: key.alg, inferred: false }
  switch (key.kty) {
    case 'RSA':
      return { alg: 'RS256', inferred: true }
    case 'EC':
      return key.crv === 'P-256' ? { alg: 'ES256', inferred: true } : key.crv === 'P-384' ? { alg: 'ES384', inferred: true } : key.crv === 'P-521' ? { alg: 'ES512', inferred: true } : undefined
    case 'OKP':
      return key.crv === 'Ed25519' ? { alg: 'EdDSA', inferred: true } : undefined
    default:
      return undefined
  }
}

/**
 * Check an issuer for MCP: fetch its metadata the way MCP clients do and report, check by check, whether they
 * will work with it and what to change when they will not. Never throws for an unreachable or broken IdP —
 * that is a finding.
 *
 * @example
 * ```ts
 * const report = await diagnose('https://login.microsoftonline.com/<tenant>/v2.0', { resource: 'https://mcp.example.com/mcp' })
 * if (!report.ok) console.log(formatReport(report))
 * ```
 */
export async function diagnose(issuer: string, options: DiagnoseOptions = {}): Promise<DoctorReport> {
  const http: HttpOptions = { fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)), timeout: options.timeout ?? 5000 }
  const checks: DoctorCheck[] = []
  const add = (check: Omit<DoctorCheck, 'details'> & { details?: string[] }): void => void checks.push({ details: [], ...check })
  const report = (metadataUrl?: string, metadata?: Record<string, unknown>, provider?: ProviderHint): DoctorReport => {
    const failed = checks.some((c) => c.status === 'fail')
    return {
      issuer,
      resource: options.resource,
      verdict: failed ? 'fail' : checks.some((c) => c.status === 'warn') ? 'warn' : 'pass',
      ok: !failed,
      provider: provider && { id: provider.id, name: provider.name, profile: provider.profile, guide: provider.guide },
      metadataUrl,
      metadata,
      checks,
    }
  }

  // --- the issuer URL itself
  let issuerUrl: URL
  try {
    issuerUrl = new URL(issuer)
  } catch {
    add({ id: 'issuer-url', status: 'fail', title: `${JSON.stringify(issuer)} is not a URL`, fix: 'Give the issuer exactly as your tokens\' "iss" claim writes it, e.g. https://idp.example.com/realms/mcp.' })
    return report()
  }
  const wellKnown = issuerUrl.pathname.indexOf('/.well-known/')
  if (wellKnown >= 0) {
    const base = `${issuerUrl.origin}${issuerUrl.pathname.slice(0, wellKnown)}`
    add({ id: 'issuer-url', status: 'fail', title: 'This is a metadata URL, not an issuer', fix: `Give the issuer (the "issuer" inside that document, e.g. ${base}), not the URL of its metadata.` })
    return report()
  }
  const urlProblem = httpsProblem(issuer) ?? (issuerUrl.search || issuerUrl.hash ? 'has a query or fragment' : undefined)
  add(urlProblem
    ? { id: 'issuer-url', status: 'fail', title: `Issuer URL ${urlProblem}`, fix: 'An issuer is an https URL without query or fragment (RFC 8414 §2); http only on loopback for development.' }
    : { id: 'issuer-url', status: 'pass', title: issuerUrl.protocol === 'https:' ? 'Issuer URL is https' : 'Issuer URL is loopback http (development only)' })

  // --- discovery, in the order MCP clients use
  const candidates = authorizationServerMetadataUrls(issuer)
  const tried = await Promise.all(candidates.map((url) => request(url, http)))
  const usable = tried.filter((f) => f.status === 200 && f.json)
  const found = usable.find((f) => f.json!.issuer === issuer) ?? usable[0]
  const tryLines = tried.map((f) => `${outcome(f).padEnd(5)} ${f.url}${f.redirectedTo ? ` → redirected to ${f.redirectedTo}` : ''}${f.status === 200 && !f.json ? ' (not a JSON object)' : ''}`)
  const metadata = found?.json
  const provider = detectProvider(issuer, metadata)
  if (!found) {
    add({
      id: 'discovery',
      status: 'fail',
      title: 'No authorization server metadata found',
      details: tryLines,
      fix: `MCP clients look for metadata at exactly these URLs. Check that the issuer is what your tokens' "iss" says${provider ? ` (${provider.name}: see ${provider.guide})` : ''}, and that the IdP is reachable from here.`,
    })
    return report(undefined, undefined, provider)
  }
  const oauthDoc = found.url.includes('/.well-known/oauth-authorization-server')
  add({
    id: 'discovery',
    status: 'pass',
    title: `Metadata found at ${found.url}`,
    details: [
      ...tryLines,
      ...(oauthDoc ? [] : ['Only OpenID Connect discovery answers: fine for current clients; 2025-03-26 clients look for /.well-known/oauth-authorization-server on the MCP server\'s origin, which the mcp-oauth mirror serves.']),
    ],
  })
  const m = metadata!

  // --- issuer identity (RFC 8414 §3.3)
  if (m.issuer === issuer) add({ id: 'issuer', status: 'pass', title: 'issuer in the metadata matches' })
  else {
    const named = typeof m.issuer === 'string' ? m.issuer : undefined
    const slash = named !== undefined && named.replace(/\/$/, '') === issuer.replace(/\/$/, '')
    add({
      id: 'issuer',
      status: 'fail',
      title: `The metadata names issuer ${JSON.stringify(m.issuer)}, not ${JSON.stringify(issuer)}`,
      fix: named
        ? `Clients and mcp-oauth compare the issuer exactly${slash ? ' — a trailing slash counts' : ''} (RFC 8414 §3.3). Use ${JSON.stringify(named)} as the issuer, the form your tokens' "iss" has.`
        : 'The document has no issuer: it is not RFC 8414 / OpenID Connect metadata.',
    })
  }

  // --- the authorization code flow
  const missing = ['authorization_endpoint', 'token_endpoint'].filter((f) => typeof m[f] !== 'string')
  const insecure = ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'jwks_uri', 'introspection_endpoint']
    .filter((f) => m[f] !== undefined && httpsProblem(m[f]) !== undefined)
  const codeless = Array.isArray(m.response_types_supported) && !m.response_types_supported.includes('code')
  const grantless = Array.isArray(m.grant_types_supported) && !m.grant_types_supported.includes('authorization_code')
  if (missing.length > 0 || insecure.length > 0 || codeless || grantless) {
    add({
      id: 'endpoints',
      status: 'fail',
      title: 'The authorization code flow is not available as advertised',
      details: [
        ...missing.map((f) => `${f} is missing`),
        ...insecure.map((f) => `${f} is not an https URL: ${String(m[f])}`),
        ...(codeless ? ['response_types_supported does not include "code"'] : []),
        ...(grantless ? ['grant_types_supported does not include "authorization_code"'] : []),
      ],
      fix: 'MCP clients use the authorization code grant with PKCE over https; enable it at the IdP.',
    })
  } else add({ id: 'endpoints', status: 'pass', title: 'Authorization code flow: authorization and token endpoints advertised' })

  // --- PKCE S256
  const methods = m.code_challenge_methods_supported
  if (Array.isArray(methods) && methods.includes('S256')) {
    add({ id: 'pkce', status: 'pass', title: 'PKCE S256 advertised', details: methods.includes('plain') ? ['"plain" is also listed; MCP clients use S256.'] : [] })
  } else {
    const absent = !Array.isArray(methods)
    const supports = provider?.pkceUnadvertised ? `${provider.name} supports S256 but does not say so. ` : ''
    add({
      id: 'pkce',
      status: 'fail',
      title: absent ? 'PKCE S256 not advertised: code_challenge_methods_supported is missing' : `PKCE S256 not advertised: code_challenge_methods_supported is ${JSON.stringify(methods)}`,
      fix: absent
        ? `${supports}MCP clients must refuse an authorization server that does not advertise S256 (some, like the MCP TypeScript SDK, assume it). ` +
          `If the IdP supports it, let mcp-oauth mirror the metadata with the fix (${MIRROR}): 2025-03-26 clients read that copy on your MCP server's origin. ` +
          'Clients of later revisions read the IdP\'s own document: for them, front the IdP with an authorization server that advertises S256, or ask the vendor.'
        : 'Enable PKCE with S256 at the IdP; MCP clients do not use plain.',
    })
  }

  // --- client registration
  const cimd = m.client_id_metadata_document_supported === true
  const dcr = typeof m.registration_endpoint === 'string'
  const ways = [cimd ? 'Client ID Metadata Documents' : '', dcr ? `Dynamic Client Registration (${String(m.registration_endpoint)})` : ''].filter(Boolean)
  if (dcr && !cimd && provider?.registrationNeedsCredentials) {
    add({ id: 'registration', status: 'warn', title: 'A registration endpoint is advertised, but MCP clients cannot use it', details: [provider.registrationNeedsCredentials], fix: 'Pre-register one public client (PKCE, the MCP clients\' redirect URIs) and give its client ID to your users; see docs/idps/README.md.' })
  } else if (ways.length > 0) {
    add({ id: 'registration', status: 'pass', title: `Clients can register themselves: ${ways.join(' and ')}` })
  } else {
    add({
      id: 'registration',
      status: 'warn',
      title: 'No client registration: neither CIMD (client_id_metadata_document_supported) nor DCR (registration_endpoint)',
      fix: 'MCP clients then need a pre-registered client ID: register a public client with PKCE and your MCP clients\' redirect URIs, and give users its ID (see docs/idps/README.md). Clients that can only register themselves will not connect.',
    })
  }

  // --- what 2026-07-28 clients look for: CIMD (DCR is deprecated there) and RFC 9207 iss (SEP-2468)
  if (cimd) {
    add({ id: 'cimd', status: 'pass', title: 'Client ID Metadata Documents supported (what 2026-07-28 recommends)' })
  } else {
    add({
      id: 'cimd',
      status: 'info',
      title: 'No Client ID Metadata Documents (client_id_metadata_document_supported is not true)',
      details: dcr ? ['Clients fall back to Dynamic Client Registration, which MCP 2026-07-28 keeps only for backwards compatibility (deprecated).'] : [],
      fix: 'MCP 2026-07-28 recommends CIMD: enable it at the IdP if it can, or put @mcp-oauth/bridge in front of it (the bridge accepts CIMD clients and registers once upstream).',
    })
  }
  const issSupported = m.authorization_response_iss_parameter_supported
  if (issSupported === true) {
    add({ id: 'iss-parameter', status: 'pass', title: 'Authorization responses carry iss (RFC 9207: authorization_response_iss_parameter_supported)' })
  } else {
    add({
      id: 'iss-parameter',
      status: 'info',
      title: 'authorization_response_iss_parameter_supported is not true: authorization responses may not carry iss (RFC 9207)',
      details: ['MCP 2026-07-28 clients check a present iss against the issuer they chose and refuse a mismatch; without it they cannot detect a mix-up attack (SEP-2468), and a later revision is expected to make it a MUST.'],
      fix: 'Turn on RFC 9207 at the IdP (it then sends iss and advertises authorization_response_iss_parameter_supported: true), or put @mcp-oauth/bridge in front of it: the bridge sends iss.',
    })
  }

  // --- audience (RFC 8707)
  let canonical: string | undefined
  if (options.resource !== undefined) {
    try {
      canonical = canonicalResource(new URL(options.resource))
    } catch {
      add({ id: 'audience', status: 'fail', title: `--resource ${JSON.stringify(options.resource)} is not a URL`, fix: 'Give the full URL of your MCP endpoint, e.g. https://mcp.example.com/mcp.' })
    }
  }
  if (options.resource === undefined || canonical !== undefined) {
    const target = canonical ?? 'your MCP server URL'
    const details = [
      ...(m.resource_indicators_supported === true ? ['The metadata says resource_indicators_supported: true.'] : []),
      ...(canonical && canonical !== options.resource ? [`Canonical form of the resource: ${canonical} (use it everywhere).`] : []),
    ]
    add({
      id: 'audience',
      status: 'info',
      title: `Tokens must name ${target} as their audience (RFC 8707)`,
      details,
      fix: provider?.audience ?? 'No metadata field tells whether the IdP honours the resource parameter. Get a token with resource=<your MCP server URL> and decode it: if aud is not that URL, configure the IdP to put it there, or set authorizationServers: [{ issuer, audience }] to what it writes.',
    })
  }

  // --- signing keys
  if (m.jwks_uri === undefined) {
    add({
      id: 'jwks',
      status: provider?.id === 'github' || provider?.id === 'workos' ? 'info' : 'warn',
      title: 'No jwks_uri: JWT access tokens cannot be verified from the metadata',
      fix: provider?.id === 'github'
        ? `GitHub's tokens are opaque: use the ${provider.profile} profile, which checks them with GitHub's API.`
        : provider?.id === 'workos'
          ? `AuthKit's keys are at ${String(m.issuer)}/oauth2/jwks: the ${provider.profile} profile sets that jwksUri.`
          : 'Set jwksUri for the issuer if its tokens are JWTs, or enable introspection for opaque tokens.',
    })
  } else if (httpsProblem(m.jwks_uri)) {
    add({ id: 'jwks', status: 'fail', title: `jwks_uri is not an https URL: ${String(m.jwks_uri)}`, fix: 'Keys are only fetched over https (http on loopback for development).' })
  } else {
    const jwks = await request(m.jwks_uri as string, http)
    const keys = Array.isArray(jwks.json?.keys) ? (jwks.json.keys as unknown[]).filter((k): k is Record<string, unknown> => k !== null && typeof k === 'object') : undefined
    if (jwks.status !== 200 || !keys) {
      add({ id: 'jwks', status: 'fail', title: `JWKS not usable at ${String(m.jwks_uri)}: ${jwks.status === 200 ? 'no "keys" array' : outcome(jwks)}`, fix: 'mcp-oauth answers 503 to every request until it can fetch the keys. Make the jwks_uri reachable from the MCP server.' })
    } else {
      const details: string[] = []
      const accepted = new Set<string>()
      for (const key of keys) {
        const id = typeof key.kid === 'string' ? `kid ${key.kid.slice(0, 24)}` : 'no kid'
        if (key.use === 'enc') {
          details.push(`${id}: ${String(key.kty)} for encryption (use: enc), ignored`)
          continue
        }
        const a = keyAlgorithm(key)
        if (!a || !DEFAULT_ALGORITHMS.includes(a.alg)) {
          details.push(`${id}: ${String(key.kty)}${a ? ` ${a.alg}` : ''} — not an algorithm mcp-oauth accepts`)
          continue
        }
        accepted.add(a.alg)
        details.push(`${id}: ${a.alg}${a.inferred ? ' (no alg member; inferred from the key type)' : ''}`)
      }
      add(accepted.size > 0
        ? { id: 'jwks', status: 'pass', title: `JWKS reachable: ${[...accepted].join(', ')}`, details }
        : { id: 'jwks', status: 'fail', title: 'JWKS has no signing key mcp-oauth accepts', details, fix: `Sign access tokens with an asymmetric algorithm (${DEFAULT_ALGORITHMS.join(', ')}); HMAC and "none" are never accepted.` })
    }
  }

  // --- introspection
  if (typeof m.introspection_endpoint === 'string') {
    add({ id: 'introspection', status: 'pass', title: `Introspection endpoint: ${m.introspection_endpoint}`, details: ['Opaque tokens can be checked with introspection: { clientId, clientSecret } (a client of the IdP for the MCP server).'] })
    if (options.introspection) add(await probeIntrospection(m.introspection_endpoint, options.introspection, http))
  } else {
    add({ id: 'introspection', status: 'info', title: 'No introspection endpoint: only JWT access tokens (or a provider profile) can be verified' })
  }

  if (canonical !== undefined) await checkResource(canonical, issuer, http, add)
  return report(found.url, m, provider)
}

/** RFC 6749 §2.3.1: each part form-urlencoded, then base64. */
function basicCredentials(id: string, secret: string): string {
  const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`
}

/**
 * Introspect a made-up token with the MCP server's credentials and read the answer the way mcp-oauth does
 * (RFC 7662 §2.2–2.3, RFC 6749 §5.2): credentials refused (401, 403, `invalid_client`, `unauthorized_client`)
 * is the one answer that makes every opaque token a 503.
 */
async function probeIntrospection(endpoint: string, creds: { clientId: string; clientSecret: string }, http: HttpOptions): Promise<Omit<DoctorCheck, 'details'> & { details?: string[] }> {
  const body = new URLSearchParams({ token: `mcp-oauth-doctor-probe-${crypto.randomUUID()}`, token_type_hint: 'access_token' })
  const res = await request(endpoint, http, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicCredentials(creds.clientId, creds.clientSecret) },
    body: body.toString(),
  })
  const error = typeof res.json?.error === 'string' ? res.json.error : undefined
  const answer = `HTTP ${outcome(res)}${error ? ` ${error}` : ''}`
  const id = 'introspection-credentials'
  if (res.status === 401 || res.status === 403 || error === 'invalid_client' || error === 'unauthorized_client') {
    return {
      id,
      status: 'fail',
      title: `The IdP refused the introspection credentials of ${JSON.stringify(creds.clientId)} (${answer})`,
      fix: 'mcp-oauth answers 503 to every opaque token while its credentials are refused (an idp_unavailable event with the reason "credentials refused"). Check introspection.clientId and clientSecret, and that this client of the IdP may introspect tokens.',
    }
  }
  if (res.status === 200 && typeof res.json?.active === 'boolean') {
    return res.json.active
      ? { id, status: 'fail', title: 'Introspection answered active: true for a made-up token', fix: 'The endpoint does not check tokens: do not use it to verify them.' }
      : { id, status: 'pass', title: `The IdP accepts the introspection credentials of ${JSON.stringify(creds.clientId)}`, details: ['A made-up token was answered active: false.'] }
  }
  if (res.status !== undefined && res.status >= 400 && res.status < 500 && error) {
    return { id, status: 'pass', title: `The IdP accepts the introspection credentials of ${JSON.stringify(creds.clientId)}`, details: [`A made-up token was answered ${answer}: mcp-oauth refuses such a token with 401 invalid_token.`] }
  }
  return {
    id,
    status: 'warn',
    title: `Introspection answered ${answer}${res.status === 200 ? ' without a boolean "active"' : ''}`,
    fix: 'mcp-oauth treats this answer as "cannot validate" and answers 503 to opaque tokens while it lasts.',
  }
}

/** The MCP server side, when it is running: its protected resource metadata and its 401 challenge. */
async function checkResource(resource: string, issuer: string, http: HttpOptions, add: (c: Omit<DoctorCheck, 'details'> & { details?: string[] }) => void): Promise<void> {
  const inserted = protectedResourceMetadataUrl(resource)
  const root = `${new URL(resource).origin}/.well-known/oauth-protected-resource`
  const prm = await request(inserted, http)
  const doc = prm.status === 200 && prm.json ? prm : inserted !== root ? await request(root, http) : prm
  if (prm.status === undefined) {
    add({ id: 'resource-metadata', status: 'info', title: `The MCP server did not answer at ${inserted} (${outcome(prm)}); its checks were skipped`, fix: 'Start the MCP server and run the doctor again to check its protected resource metadata and challenge.' })
    return
  }
  if (doc.status !== 200 || !doc.json) {
    add({ id: 'resource-metadata', status: 'fail', title: `No protected resource metadata at ${inserted} (${outcome(prm)})`, fix: 'MCP clients find the IdP through RFC 9728 metadata: serve it (mcp-oauth does, e.g. app.use(mcpAuth({ resource, issuer }))).' })
    return
  }
  const problems: string[] = []
  if (doc.json.resource !== resource) problems.push(`"resource" is ${JSON.stringify(doc.json.resource)}, not ${resource}: clients refuse metadata for another resource`)
  const servers = doc.json.authorization_servers
  if (!Array.isArray(servers) || !servers.includes(issuer)) problems.push(`"authorization_servers" is ${JSON.stringify(servers)}: it does not list ${issuer}`)
  add(problems.length > 0
    ? { id: 'resource-metadata', status: 'fail', title: `Protected resource metadata at ${doc.url} does not fit`, details: problems, fix: 'Configure the MCP server with resource set to its public URL (behind a proxy: trustProxy) and this issuer.' }
    : { id: 'resource-metadata', status: 'pass', title: `Protected resource metadata at ${doc.url} names this resource and issuer` })

  const challenge = await request(resource, http, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'mcp-oauth-doctor', version: '0' } } }),
  })
  const header = challenge.headers?.get('www-authenticate') ?? ''
  if (usableChallenge(challenge.status, header)) {
    add({ id: 'challenge', status: 'pass', title: 'A request without a token gets 401 with a Bearer challenge that points at the metadata' })
  } else {
    add({
      id: 'challenge',
      status: 'fail',
      title: challenge.status !== undefined && challenge.status < 300 ? `The MCP endpoint answered ${challenge.status} without a token` : `The MCP endpoint answered ${outcome(challenge)} without a token, not a usable 401 challenge`,
      details: header ? [`WWW-Authenticate: ${header.slice(0, 300)}`] : [],
      fix: 'Without a token the endpoint must answer 401 with WWW-Authenticate: Bearer resource_metadata="…" (the MCP client starts authorization from it).',
    })
  }
  await checkModernChallenge(resource, http, add)
}

/** A 401 with a Bearer challenge that points at the metadata: where every MCP client starts authorization. */

function usableChallenge(status: number | undefined, header: string): boolean {
  return status === 401 && /^Bearer\b/i.test(header) && /resource_metadata="[^"]+"/.test(header)
}

/**
 * A 2026-07-28 client opens with `server/discover` (per-request `_meta`, SEP-2243 headers) and no `initialize`:
 * the server must answer it, without a token, with the same 401 challenge.
 */
async function checkModernChallenge(resource: string, http: HttpOptions, add: (c: Omit<DoctorCheck, 'details'> & { details?: string[] }) => void): Promise<void> {
  const res = await request(resource, http, {
    method: 'POST',
    headers: {
      'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover',
    },
    body: JSON.stringify({
      jsonrpc: '2.0', id: 1, method: 'server/discover',
      params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'mcp-oauth-doctor', version: '0' } } },
    }),
  })
  const header = res.headers?.get('www-authenticate') ?? ''
  if (usableChallenge(res.status, header)) {
    add({ id: 'challenge-2026', status: 'pass', title: 'A 2026-07-28 request (server/discover, Mcp-Method header) without a token gets the same 401 challenge' })
  } else {
    add({
      id: 'challenge-2026',
      status: 'warn',
      title: `A 2026-07-28 request (server/discover) without a token got ${outcome(res)}, not a 401 challenge`,
      details: header ? [`WWW-Authenticate: ${header.slice(0, 300)}`] : [],
      fix: 'MCP 2026-07-28 clients start with server/discover and no initialize. Authenticate every POST on the MCP endpoint, whatever its method (mcp-oauth does), so they get 401 and begin authorization.',
    })
  }
}
