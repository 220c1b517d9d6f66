/**
 * The trusted authorization servers: `issuer` (with the shared `introspection`) and `authorizationServers`,
 * each checked and resolved (audiences per RFC 8707, algorithms, claim names, RFC 7662 settings).
 */
import type { AuthorizationServerOptions, IntrospectionOptions, McpAuthOptions, ResolvedIntrospection, ResolvedIssuer } from '../options.js'
import { checkHttpsUri, equivalentAudiences } from '../metadata/resource-uri.js'
import { SCOPE_TOKEN } from '../token/rfc6750.js'
import { ASYMMETRIC, KNOWN_AS_OPTIONS, KNOWN_INTROSPECTION_OPTIONS, checkKeys, fail, optionalUrl, seconds, stringList, uriMessage } from './validate.js'

interface IssuerContext {
  allowInsecure: boolean
  /** The global `algorithms`, already checked. */
  algorithms: string[]
  /** The canonical resource's audiences (the default `audience`). */
  defaultAudiences: string[]
  issuers: ResolvedIssuer[]
  seen: Set<string>
}

/** Every configured issuer, in order: those of `issuer`, then those of `authorizationServers`. */
export function resolveIssuers(options: McpAuthOptions, resource: string, algorithms: string[], allowInsecure: boolean): ResolvedIssuer[] {
  const ctx: IssuerContext = { allowInsecure, algorithms, defaultAudiences: equivalentAudiences(resource), issuers: [], seen: new Set() }
  const addIssuer = (as: AuthorizationServerOptions, where: string, sharedIntrospection: unknown): void =>
    resolveIssuer(ctx, as, where, sharedIntrospection)
  if (options.issuer !== undefined) {
    const list = typeof options.issuer === 'string' ? [options.issuer] : options.issuer
    if (!Array.isArray(list)) fail('issuer', 'must be a URL string or an array of them.')
    if (list.length === 0) fail('issuer', 'is an empty list; give at least one issuer URL, e.g. "https://idp.example.com".')
    list.forEach((issuer, i) => addIssuer({ issuer }, Array.isArray(options.issuer) ? `issuer[${i}].` : '', options.introspection))
  }
  if (options.authorizationServers !== undefined) {
    if (!Array.isArray(options.authorizationServers)) fail('authorizationServers', 'must be an array like [{ issuer: "https://idp.example.com" }].')
    options.authorizationServers.forEach((as, i) => {
      if (as === null || typeof as !== 'object') fail(`authorizationServers[${i}]`, 'must be an object like { issuer }.')
      checkKeys(as, KNOWN_AS_OPTIONS, `authorizationServers[${i}].`)
      addIssuer(as, `authorizationServers[${i}].`, undefined)
    })
  }
  return ctx.issuers
}

function resolveIssuer(ctx: IssuerContext, as: AuthorizationServerOptions, where: string, sharedIntrospection: unknown): void {
  const { allowInsecure, algorithms, defaultAudiences, issuers, seen } = ctx
  if (typeof as.issuer !== 'string' || !as.issuer) fail(`${where}issuer`, 'is required: the issuer URL exactly as it appears in your tokens\' "iss".')
  const url = checkHttpsUri(as.issuer, { allowInsecure, allowQuery: false })
  if (typeof url === 'string') fail(`${where}issuer`, uriMessage(url, as.issuer, 'issuer URL'))
  if (seen.has(as.issuer)) fail(`${where}issuer`, `${JSON.stringify(as.issuer)} is listed twice; list each issuer once.`)
  seen.add(as.issuer)
  const audience = as.audience === undefined ? defaultAudiences
    : stringList(typeof as.audience === 'string' ? [as.audience] : as.audience, `${where}audience`)
  if (audience.length === 0) fail(`${where}audience`, 'must not be empty; omit it to require the resource URL.')
  const issuerAlgorithms = as.algorithms === undefined ? algorithms
    : stringList(as.algorithms, `${where}algorithms`, (a) => ASYMMETRIC.has(a), 'only asymmetric algorithms are allowed')
  const claimName = (s: string) => /^[\x21-\x7E]+$/.test(s)
  const audienceClaim = as.audienceClaim ?? 'aud'
  if (typeof audienceClaim !== 'string' || !claimName(audienceClaim)) fail(`${where}audienceClaim`, 'must be a claim name, e.g. "aud".')
  if (as.scopePrefix !== undefined && (typeof as.scopePrefix !== 'string' || !SCOPE_TOKEN.test(as.scopePrefix))) {
    fail(`${where}scopePrefix`, 'must be a string without spaces, quotes or backslashes, e.g. "api://mcp-server/".')
  }
  const required = as.requiredClaims ?? {}
  if (typeof required !== 'object' || required === null || Array.isArray(required)
    || !Object.values(required).every((v) => ['string', 'number', 'boolean'].includes(typeof v))) {
    fail(`${where}requiredClaims`, 'must map claim names to exact string, number or boolean values, e.g. { token_use: "access" }.')
  }
  issuers.push({
    issuer: as.issuer,
    audiences: audience,
    audienceClaim,
    scopePrefix: as.scopePrefix ?? '',
    requiredClaims: Object.entries(required),
    scopeClaims: as.scopeClaims === undefined ? ['scope', 'scp'] : stringList(as.scopeClaims, `${where}scopeClaims`, claimName, 'write claim names like "scope"'),
    clientIdClaims: as.clientIdClaims === undefined ? ['client_id', 'azp'] : stringList(as.clientIdClaims, `${where}clientIdClaims`, claimName, 'write claim names like "client_id"'),
    jwksUri: optionalUrl(as.jwksUri, `${where}jwksUri`, allowInsecure),
    introspection: resolveIntrospection(as.introspection ?? sharedIntrospection, as.introspection ? `${where}introspection` : 'introspection', allowInsecure),
    algorithms: issuerAlgorithms,
  })
}

function resolveIntrospection(value: unknown, where: string, allowInsecure: boolean): ResolvedIntrospection | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object') fail(where, 'must be an object like { clientId, clientSecret }.')
  checkKeys(value, KNOWN_INTROSPECTION_OPTIONS, `${where}.`)
  const o = value as IntrospectionOptions
  if (typeof o.clientId !== 'string' || !o.clientId) fail(`${where}.clientId`, 'is required: the client id the IdP gave this resource server.')
  const authMethod = o.authMethod ?? (o.privateKey && !o.clientSecret ? 'private_key_jwt' : 'client_secret_basic')
  if (!['client_secret_basic', 'client_secret_post', 'private_key_jwt'].includes(authMethod)) {
    fail(`${where}.authMethod`, `must be "client_secret_basic", "client_secret_post" or "private_key_jwt".`)
  }
  if (authMethod === 'private_key_jwt') {
    if (!o.privateKey || typeof o.privateKey !== 'object') fail(`${where}.privateKey`, 'is required for private_key_jwt: a private JWK with "alg".')
    const alg = 'key' in o.privateKey ? o.privateKey.alg : o.privateKey.alg
    if (typeof alg !== 'string' || !ASYMMETRIC.has(alg)) fail(`${where}.privateKey`, `needs an asymmetric "alg", e.g. "ES256".`)
  } else if (typeof o.clientSecret !== 'string' || !o.clientSecret) {
    fail(`${where}.clientSecret`, `is required for ${authMethod}.`)
  }
  return {
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    privateKey: o.privateKey,
    authMethod,
    endpoint: optionalUrl(o.endpoint, `${where}.endpoint`, allowInsecure),
    cacheTtl: seconds(o.cacheTtl, `${where}.cacheTtl`, 10),
    inactiveCacheTtl: seconds(o.inactiveCacheTtl, `${where}.inactiveCacheTtl`, 5),
  }
}
