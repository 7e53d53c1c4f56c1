// What the sessions list calls each login: "Chrome on Linux" from its User-Agent. A few rules of
// the demo's own rather than a parser dependency; they name the common browsers, nothing more.

/** Command-line clients, by the product token that starts their User-Agent. */
const TOOLS: readonly [RegExp, string][] = [
  [/^curl\//i, 'curl'],
  [/^wget\//i, 'Wget'],
  [/^node$/, 'Node.js'],
]

/** Browsers, by a token of theirs; the first match wins, so those that also say "Chrome" or "Safari" come first. */
const BROWSERS: readonly [RegExp, string][] = [
  [/\b(Edg|EdgA|EdgiOS)\//, 'Edge'],
  [/\b(OPR|OPT)\//, 'Opera'],
  [/\b(Firefox|FxiOS)\//, 'Firefox'],
  [/Chrome\/|\bCriOS\/|\bChromium\//, 'Chrome'], // HeadlessChrome/ too
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
]

/** Systems, likewise: iPhone and iPad say "like Mac OS X", Android says "Linux". */
const SYSTEMS: readonly [RegExp, string][] = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
]

/**
 * A person's name for the device a `User-Agent` header comes from: `'Chrome on Linux'`,
 * `'Safari on iPhone'`, `'curl'`, or `'Unknown browser'` when nothing matches (or none was recorded).
 */
export function deviceName(userAgent: string | undefined): string {
  if (!userAgent) return 'Unknown browser'
  const tool = firstMatch(TOOLS, userAgent)
  if (tool) return tool
  const browser = firstMatch(BROWSERS, userAgent) ?? 'Unknown browser'
  const system = firstMatch(SYSTEMS, userAgent)
  return system ? `${browser} on ${system}` : browser
}

/** A client address as people write it: an IPv4 address without the `::ffff:` of a dual-stack socket. */
export function shownAddress(address: string | undefined): string {
  if (!address) return 'unknown address'
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}

function firstMatch(rules: readonly [RegExp, string][], text: string): string | undefined {
  return rules.find(([pattern]) => pattern.test(text))?.[1]
}
