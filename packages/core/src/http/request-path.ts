/**
 * Which requests a resource protects. The check must be at least as broad as the routers behind it:
 * Express matches paths case-insensitively and ignores a trailing slash, some routers merge `//` or decode
 * `%xx`, so `/MCP`, `/mcp/`, `//mcp` and `/%6Dcp` must all count as the protected `/mcp`. Protecting too much
 * is safe; protecting too little is a bypass.
 */

/**
 * The path of an origin-form (`/a?b`) or absolute URL, without the query or fragment. Node hands a raw `#` in
 * the request target through, and Express and find-my-way route `/mcp#x` to `/mcp`, so the fragment must be cut
 * here too or the protected path is skipped. An origin-form target has no authority: `//mcp` is the path `//mcp`.
 */
export function pathOf(url: string): string {
  if (url.charCodeAt(0) === 47 /* / */) {
    let end = url.indexOf('?')
    const hash = url.indexOf('#')
    if (hash >= 0 && (end < 0 || hash < end)) end = hash
    return end < 0 ? url : url.slice(0, end)
  }
  try {
    return new URL(url, 'http://invalid').pathname
  } catch {
    return url
  }
}

/** Lowercase, percent-decoded, `//` merged, `;params` dropped, dot segments resolved, no trailing slash (`/` becomes ``). */
export function normalizePath(path: string): string {
  let p = path
  if (p.includes('%')) {
    try {
      p = decodeURIComponent(p)
    } catch {
      // Malformed escapes: compare the raw text; it cannot match a route that decodes successfully either.
    }
  }
  p = p.replace(/\\/g, '/').toLowerCase()
  const out: string[] = []
  for (const raw of p.split('/')) {
    // Path parameters (`/mcp;jsessionid=1`) are dropped by Fastify's useSemicolonDelimiter, Tomcat and others.
    const semicolon = raw.indexOf(';')
    const segment = semicolon < 0 ? raw : raw.slice(0, semicolon)
    if (segment === '' || segment === '.') continue
    if (segment === '..') out.pop()
    else out.push(segment)
  }
  return out.length === 0 ? '' : `/${out.join('/')}`
}

/** A matcher for "this path or below it". */
export function protectedPathMatcher(resourcePath: string): (path: string) => boolean {
  const base = normalizePath(resourcePath)
  const exact = resourcePath
  if (base === '') {
    // A resource at the origin root protects everything but the well-known documents.
    return (path) => !normalizePath(path).startsWith('/.well-known/')
  }
  return (path) => {
    if (path === exact) return true
    const p = normalizePath(path)
    return p === base || p.startsWith(`${base}/`)
  }
}
