/** The scripted browser of the bridge example (the demo uses it too). */
export { browse, Jar, pageError, type BrowseOptions, type BrowseResult, type ConsentForm } from '@mcp-oauth/example-bridge/browser'
