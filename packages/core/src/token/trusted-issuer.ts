/**
 * One trusted issuer at run time: its settings, its RFC 8414 discovery (created when something needs it), its
 * JWKS (token/jwks.ts, from `jwksUri` or the discovered `jwks_uri`) and its introspection endpoint.
 */
import type { EventSink } from '../events.js'
import { IdpUnavailable, type IdpFetchOptions } from '../http/idp-fetch.js'
import { authorizationServerMetadataUrls } from '../metadata/resource-uri.js'
import { AuthorizationServerDiscovery } from '../metadata/rfc8414.js'
import type { ResolvedIssuer, ResolvedOptions } from '../options.js'
import { IssuerKeys } from './jwks.js'
import type { IntrospectionTarget } from './rfc7662.js'

/** What every issuer of one verifier shares. */
export interface IssuerContext {
  fetchOptions: IdpFetchOptions
  jwks: ResolvedOptions['jwks']
  emit: EventSink | undefined
  allowInsecure: boolean
}

export class TrustedIssuer {
  private discovery: AuthorizationServerDiscovery | undefined
  private keys: IssuerKeys | undefined
  private keysPending: Promise<IssuerKeys> | undefined

  constructor(readonly config: ResolvedIssuer, private readonly ctx: IssuerContext) {
    const needsDiscovery = !config.jwksUri || (config.introspection !== undefined && !config.introspection.endpoint)
    if (needsDiscovery) this.discovery = this.newDiscovery()
  }

  /** The issuer's RFC 8414 / OIDC discovery (shared with the metadata mirror). */
  metadataDiscovery(): AuthorizationServerDiscovery {
    this.discovery ??= this.newDiscovery()
    return this.discovery
  }

  /** The key set; synchronous once known, so a JWT from a known issuer needs no discovery await. */
  keySet(): IssuerKeys | Promise<IssuerKeys> {
    if (this.keys) return this.keys
    const { issuer, jwksUri } = this.config
    if (jwksUri) {
      this.keys = new IssuerKeys(issuer, jwksUri, this.ctx.fetchOptions, this.ctx.jwks, this.ctx.emit)
      return this.keys
    }
    this.keysPending ??= this.metadataDiscovery().get().then(
      (metadata) => {
        this.keysPending = undefined
        if (typeof metadata.jwks_uri !== 'string') throw new IdpUnavailable(`the metadata of ${issuer} has no jwks_uri`)
        this.keys ??= new IssuerKeys(issuer, metadata.jwks_uri, this.ctx.fetchOptions, this.ctx.jwks, this.ctx.emit)
        return this.keys
      },
      (err: unknown) => {
        this.keysPending = undefined
        throw err
      },
    )
    return this.keysPending
  }

  /** Where and how to introspect (RFC 7662): the configured endpoint, or the discovered one. */
  async introspectionTarget(): Promise<IntrospectionTarget> {
    const settings = this.config.introspection!
    let endpoint = settings.endpoint
    if (!endpoint) {
      const metadata = await this.metadataDiscovery().get()
      if (typeof metadata.introspection_endpoint !== 'string') {
        throw new IdpUnavailable(`the metadata of ${this.config.issuer} has no introspection_endpoint; set introspection.endpoint`)
      }
      endpoint = metadata.introspection_endpoint
    }
    return {
      issuer: this.config.issuer,
      endpoint,
      settings,
      audiences: this.config.audiences,
      audienceClaim: this.config.audienceClaim,
      algorithms: this.config.algorithms,
      resolveKey: async (header, input) => (await this.keySet()).resolve(header, input),
    }
  }

  private newDiscovery(): AuthorizationServerDiscovery {
    const { issuer } = this.config
    return new AuthorizationServerDiscovery(issuer, authorizationServerMetadataUrls(issuer), this.ctx.fetchOptions, this.ctx.emit, this.ctx.allowInsecure)
  }
}
