/**
 * @mcp-oauth/doctor — check an identity provider before pointing MCP clients at it. `mcp-oauth-doctor <issuer>`
 * on the command line; {@link diagnose} and {@link formatReport} from code.
 */
export { diagnose } from './diagnose.js'
export type { CheckId, CheckStatus, DiagnoseOptions, DoctorCheck, DoctorReport } from './diagnose.js'
export { formatReport } from './format.js'
export { detectProvider, type ProviderHint } from './providers.js'
export { runCli } from './run-cli.js'
