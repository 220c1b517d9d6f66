/**
 * Rewriting `tools/list` results so a token sees only the tools it may call. Works on a JSON body and on an
 * SSE body (`data:` lines), the two forms the Streamable HTTP transport answers with.
 */

type Id = string | number

function filterMessage(message: unknown, ids: ReadonlySet<Id>, allowed: (tool: string) => boolean): unknown {
  if (message === null || typeof message !== 'object') return message
  const m = message as { id?: Id; result?: { tools?: unknown } }
  if (m.id === undefined || !ids.has(m.id) || !m.result || !Array.isArray(m.result.tools)) return message
  return { ...m, result: { ...m.result, tools: m.result.tools.filter((t) => t && typeof t === 'object' && allowed(String((t as { name?: unknown }).name))) } }
}

function filterJson(text: string, ids: ReadonlySet<Id>, allowed: (tool: string) => boolean): string {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return text
  }
  const out = Array.isArray(parsed) ? parsed.map((m) => filterMessage(m, ids, allowed)) : filterMessage(parsed, ids, allowed)
  return JSON.stringify(out)
}

/** Filter the `tools/list` results answering requests `ids` in a response body. */
export function filterToolsListBody(body: string, contentType: string, ids: ReadonlySet<Id>, allowed: (tool: string) => boolean): string {
  if (contentType.includes('text/event-stream')) {
    return body.split('\n').map((line) => (line.startsWith('data:') ? `data: ${filterJson(line.slice(5).trim(), ids, allowed)}` : line)).join('\n')
  }
  if (contentType.includes('json')) return filterJson(body, ids, allowed)
  return body
}
