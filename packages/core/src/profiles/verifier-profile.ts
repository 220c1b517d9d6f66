import type { AuthorizationServerMetadataMirror, AuthorizationServerOptions, CustomVerifier } from '../options.js'

/**
 * What the profiles of providers with opaque, non-introspectable tokens (Google, GitHub) return: spread it
 * into the options of `createMcpAuth` (or an adapter). `authorizationServers` names the provider in the
 * protected resource metadata; `verify` checks each token with the provider's API.
 */
export interface VerifierProfile {
  authorizationServers: AuthorizationServerOptions[]
  verify: CustomVerifier
  /** The AS-metadata mirror settings the provider needs (GitHub: add the S256 it supports but does not advertise). */
  authorizationServerMetadata?: AuthorizationServerMetadataMirror
}
