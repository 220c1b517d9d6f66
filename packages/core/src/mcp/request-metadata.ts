/**
 * MCP 2026-07-28 request metadata on Streamable HTTP (SEP-2243): the `MCP-Protocol-Version`, `Mcp-Method` and
 * `Mcp-Name` headers that mirror the JSON-RPC body so gateways can route without reading it, their Base64
 * sentinel (`=?base64?…?=`), and the checks a server that reads the body MUST make: a missing, malformed or
 * disagreeing header is refused with HTTP 400 and JSON-RPC `-32020` (HeaderMismatch) before anything runs.
 *
 * The era of a request is decided the way the MCP SDK v2 decides it — from the body first: a body whose
 * `params._meta` names `io.modelcontextprotocol/protocolVersion` ≥ 2026-07-28 is a 2026-07-28 request; the
 * header is a cross-check. Without the body (yet), the header is all there is.
 *
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http#request-metadata
 */
import { McpAuthError } from '../errors.js'

/** The first protocol revision without sessions or `initialize`, and with the SEP-2243 headers. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28'
/** The `_meta` key every 2026-07-28 request carries its protocol version in. */
export const PROTOCOL_VERSION_META_KEY = 'io.modelcontextprotocol/protocolVersion'

const VERSION = /^\d{4}-\d{2}-\d{2}$/

/** Is `version` a protocol revision of the stateless era (2026-07-28 or later)? Revisions are ISO dates. */
export function isModernVersion(version: unknown): version is string {
  return typeof version === 'string' && VERSION.test(version) && version >= MODERN_PROTOCOL_VERSION
}

/**
 * The body field `Mcp-Name` mirrors, per method: the spec's three (tools/call, prompts/get, resources/read) and
 * the Tasks extension's (SEP-2663), as the MCP SDK v2 client sends them.
 */
export const MCP_NAME_SOURCE: Readonly<Record<string, 'name' | 'uri' | 'taskId'>> = Object.freeze({
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
})

const SENTINEL_PREFIX = '=?base64?'
const SENTINEL_SUFFIX = '?='
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
/** Visible ASCII, with inner spaces and tabs (RFC 9110 field values, minus obs-text: non-ASCII MUST be Base64). */
const PLAIN_VALUE = /^[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?$/
const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** Strip optional whitespace (SP, HTAB) around a field value (RFC 9110 §5.5). */
function trimOws(value: string): string {
  // Nearly every value has no optional whitespace: returned as it is, without a regular expression.
  const first = value.charCodeAt(0)
  const last = value.charCodeAt(value.length - 1)
  if (first !== 32 && first !== 9 && last !== 32 && last !== 9) return value
  return value.replace(/^[ \t]+|[ \t]+$/g, '')
}

/**
 * Decode an `Mcp-Name` (or `Mcp-Param-*`) value: a plain header-safe value as is, a `=?base64?…?=` value as the
 * UTF-8 text of its canonical Base64. `undefined` when the value is malformed (bad Base64, not UTF-8,
 * characters a plain value may not have).
 */
export function decodeHeaderValue(raw: string): string | undefined {
  const value = trimOws(raw)
  if (value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX) && value.length >= SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length) {
    const b64 = value.slice(SENTINEL_PREFIX.length, value.length - SENTINEL_SUFFIX.length)
    if (!CANONICAL_BASE64.test(b64)) return undefined
    try {
      return UTF8.decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)))
    } catch {
      return undefined
    }
  }
  return PLAIN_VALUE.test(value) ? value : undefined
}

/** The SEP-2243 headers of one request, decoded. */
export interface McpRequestHeaders {
  /** `MCP-Protocol-Version`, trimmed; `undefined` when absent. */
  readonly version: string | undefined
  /** `Mcp-Method`, trimmed; `undefined` when absent. */
  readonly method: string | undefined
  /** `Mcp-Name`, decoded; `undefined` when absent. */
  readonly name: string | undefined
  /** True when `MCP-Protocol-Version` names 2026-07-28 or later. */
  readonly modern: boolean
}

type HeaderGetter = { get(name: string): string | null }

/** A `-32020` refusal (HTTP 400) naming what is wrong; the JSON-RPC id is echoed when the body is known. */
export function headerMismatch(message: string, id?: string | number | null): McpAuthError {
  return new McpAuthError('ERR_MCP_HEADER_MISMATCH', `Header mismatch: ${message}`, { jsonRpcId: id ?? null })
}

/**
 * Read and decode the headers. Throws the `-32020` refusal for a malformed value on a 2026-07-28 request
 * (a bad Base64 sentinel, non-ASCII, control characters); on older requests the headers mean nothing and
 * are not looked at.
 */
export function readMcpHeaders(headers: HeaderGetter): McpRequestHeaders {
  const rawVersion = headers.get('mcp-protocol-version')
  const version = rawVersion === null ? undefined : trimOws(rawVersion)
  const modern = isModernVersion(version)
  if (!modern) return { version, method: undefined, name: undefined, modern }
  const rawMethod = headers.get('mcp-method')
  const rawName = headers.get('mcp-name')
  let method: string | undefined
  if (rawMethod !== null) {
    method = trimOws(rawMethod)
    if (!PLAIN_VALUE.test(method)) throw headerMismatch('the Mcp-Method header has characters a method name cannot have')
  }
  let name: string | undefined
  if (rawName !== null) {
    name = decodeHeaderValue(rawName)
    if (name === undefined) throw headerMismatch('the Mcp-Name header is malformed (invalid characters or Base64 sentinel)')
  }
  return { version, method, name, modern }
}

/** The protocol version a single JSON-RPC message claims in `params._meta`, if any. */
export function claimedVersion(message: unknown): { claimed: boolean; version: unknown } {
  const params = (message as { params?: unknown } | null)?.params
  const meta = params !== null && typeof params === 'object' ? (params as { _meta?: unknown })._meta : undefined
  if (meta === null || typeof meta !== 'object' || !(PROTOCOL_VERSION_META_KEY in meta)) return { claimed: false, version: undefined }
  return { claimed: true, version: (meta as Record<string, unknown>)[PROTOCOL_VERSION_META_KEY] }
}

function jsonRpcId(message: unknown): string | number | null {
  const id = (message as { id?: unknown } | null)?.id
  return typeof id === 'string' || typeof id === 'number' ? id : null
}

/** The body field `Mcp-Name` must mirror for this message, when its method has one and the field is a string. */
export function nameOf(method: string, params: unknown): string | undefined {
  const field = Object.hasOwn(MCP_NAME_SOURCE, method) ? MCP_NAME_SOURCE[method] : undefined
  if (field === undefined || params === null || typeof params !== 'object') return undefined
  const value = (params as Record<string, unknown>)[field]
  return typeof value === 'string' ? value : undefined
}

/**
 * The era of a parsed body, cross-checked with the headers. `true`: a 2026-07-28 request whose headers agree
 * with it. `false`: a 2025-11-25-era body (or a batch of them), whose headers are not looked at. Throws the
 * `-32020` refusal when they disagree, or a 400 `-32600` for a batch holding a 2026-07-28 message (that
 * revision allows one message per POST).
 */
export function crossCheckBody(headers: McpRequestHeaders, body: unknown): boolean {
  if (Array.isArray(body)) {
    if (body.some((m) => claimedVersion(m).claimed)) {
      throw new McpAuthError('ERR_MCP_BATCH', 'JSON-RPC batches may not contain 2026-07-28 requests', { jsonRpcId: null })
    }
    // A 2025-era batch is judged message by message from the body, whatever the headers say.
    return false
  }
  if (body === null || typeof body !== 'object' || typeof (body as { method?: unknown }).method !== 'string') {
    // Not a JSON-RPC request or notification (a response, garbage): nothing the policy acts on; the transport answers.
    if (headers.modern) throw headerMismatch('the MCP-Protocol-Version header names a 2026-07-28 request but the body is none')
    return false
  }
  const message = body as { method: string; params?: unknown; id?: unknown }
  const id = jsonRpcId(message)
  const { claimed, version } = claimedVersion(message)
  if (!claimed) {
    if (headers.modern) throw headerMismatch(`the MCP-Protocol-Version header names ${headers.version} but the body carries no ${PROTOCOL_VERSION_META_KEY}`, id)
    return false
  }
  if (!isModernVersion(version)) {
    // A claim of an older revision: the SDK serves it as legacy traffic; a modern header on it disagrees.
    if (headers.modern || (headers.version !== undefined && headers.version !== version)) {
      throw headerMismatch('the MCP-Protocol-Version header does not match the body', id)
    }
    return false
  }
  if (headers.version === undefined) throw headerMismatch('the required MCP-Protocol-Version header is absent', id)
  if (headers.version !== version) throw headerMismatch(`the MCP-Protocol-Version header names ${headers.version} but the body names ${String(version)}`, id)
  const isRequest = 'id' in message
  if (headers.method === undefined) {
    // Notification POSTs have no header rules in 2026-07-28; requests must name their method.
    if (isRequest) throw headerMismatch(`the body names method ${message.method} but the required Mcp-Method header is absent`, id)
  } else if (headers.method !== message.method) {
    throw headerMismatch(`the Mcp-Method header names ${headers.method} but the body names ${message.method}`, id)
  }
  const bodyName = nameOf(message.method, message.params)
  if (bodyName !== undefined) {
    if (headers.name === undefined) {
      if (isRequest) throw headerMismatch(`the body names ${bodyName} but the required Mcp-Name header is absent`, id)
    } else if (headers.name !== bodyName) {
      throw headerMismatch('the Mcp-Name header does not match the body', id)
    }
  } else if (headers.name !== undefined && Object.hasOwn(MCP_NAME_SOURCE, message.method)) {
    throw headerMismatch('the Mcp-Name header names something the body does not', id)
  }
  return true
}
