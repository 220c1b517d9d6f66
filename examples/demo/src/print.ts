/** The demos' terminal output: colours on a TTY only, numbered steps, aligned label/value lines, indented JSON. */
const tty = process.stdout.isTTY
const paint = (code: number) => (s: string) => (tty ? `\u001b[${code}m${s}\u001b[0m` : s)
export const bold = paint(1)
export const dim = paint(2)
export const green = paint(32)
export const cyan = paint(36)
export const yellow = paint(33)

export const say = (text = '') => console.log(text)
export const step = (n: number, title: string) => say(`\n${bold(cyan(`Step ${n}`))} ${bold(title)}`)
export const json = (value: unknown) => JSON.stringify(value, null, 2).split('\n').map((l) => `      ${l}`).join('\n')
/** `label  value` lines, labels padded to `width`. */
export const details = (width: number) => (label: string, value: string) => say(`  ${dim(label.padEnd(width))} ${value}`)
