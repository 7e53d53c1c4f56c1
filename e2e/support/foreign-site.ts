/**
 * A page of someone else's: a tiny node:http server on a free port of 127.0.0.1 whose page
 * `/post?to=<url>` submits a form to `<url>` by POST as soon as it loads, as an attacker's would.
 * Opened as `http://127.0.0.1:<port>` it is another site than an app on `localhost`; opened as
 * `http://localhost:<port>` it is the same site as that app, but another origin.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { escapeHtml } from '../../examples/views'

/** The foreign server, reachable under two names. */
export interface ForeignSite {
  /** `http://127.0.0.1:<port>`: another site than `localhost`. */
  crossSite: string
  /** `http://localhost:<port>`: the same site as an app on `localhost`, another origin. */
  sameSite: string
  /** The page on `base` that posts a form to `target` when it loads. */
  pageAt(base: string, target: string): string
  close(): Promise<void>
}

export async function startForeignSite(): Promise<ForeignSite> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://foreign.invalid')
    const target = url.searchParams.get('to')
    if (url.pathname !== '/post' || target === null) {
      res.statusCode = 404
      return res.end()
    }
    res.setHeader('content-type', 'text/html; charset=utf-8')
    res.end(`<!doctype html>
<title>You won a prize</title>
<form method="post" action="${escapeHtml(target)}"><input type="hidden" name="id" value="x"></form>
<script>document.forms[0].submit()</script>
`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    crossSite: `http://127.0.0.1:${port}`,
    sameSite: `http://localhost:${port}`,
    pageAt: (base, target) => `${base}/post?to=${encodeURIComponent(target)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
