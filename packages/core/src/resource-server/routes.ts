/**
 * The resolve-path and metadata stages: the path the client used (http/public-url.ts behind a trusted proxy),
 * the RFC 9728 metadata routes (metadata/rfc9728.ts), the RFC 8414 mirror (metadata/rfc8414-mirror.ts), and
 * whether the path is the protected resource (http/request-path.ts).
 */
import type { PlainResponse } from '../http/plain-response.js'
import { forwardedParts } from '../http/public-url.js'
import type { RequestLike } from '../http/request-like.js'
import { pathOf, protectedPathMatcher } from '../http/request-path.js'
import { createMirror, type ResolvedMirror } from '../metadata/rfc8414-mirror.js'
import type { AuthorizationServerDiscovery } from '../metadata/rfc8414.js'
import { metadataRoutes, type MetadataRoutes } from '../metadata/rfc9728.js'
import type { ResolvedOptions } from '../options.js'

export class Routes {
  readonly isProtected: (path: string) => boolean
  readonly mirror: ResolvedMirror | undefined
  private readonly prm: MetadataRoutes
  private readonly trustProxy: boolean

  constructor(config: ResolvedOptions, mirrorDiscovery: () => AuthorizationServerDiscovery) {
    this.prm = metadataRoutes(config)
    this.isProtected = protectedPathMatcher(config.resourcePath)
    this.trustProxy = config.trustProxy
    this.mirror = config.mirror ? createMirror(config.mirror, mirrorDiscovery, config.retryAfter) : undefined
  }

  /** The path the client used: behind a trusted proxy, with the prefix the proxy stripped put back. Throws on a malformed forwarded header. */
  publicPath(request: RequestLike): string {
    const path = pathOf(request.url)
    return this.trustProxy ? forwardedParts(request).prefix + path : path
  }

  /** The RFC 9728 response when `path` is a metadata route (with or without a trailing slash). */
  metadata(method: string, path: string): PlainResponse | undefined {
    const paths = this.prm.paths
    if (!paths.has(path) && !(path.endsWith('/') && paths.has(path.slice(0, -1)))) return undefined
    return this.prm.respond(method)
  }

  /** {@link metadata} for a request; `undefined` also when its forwarded headers are malformed. */
  metadataOf(request: RequestLike): PlainResponse | undefined {
    try {
      return this.metadata(request.method, this.publicPath(request))
    } catch {
      return undefined
    }
  }

  /** The mirror's response when `path` is one of its routes. */
  mirrored(method: string, path: string): Promise<PlainResponse> | undefined {
    return this.mirror?.paths.has(path) ? this.mirror.respond(method) : undefined
  }
}
