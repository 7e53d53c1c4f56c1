import { debuglog } from 'node:util'

/** Silent unless `NODE_DEBUG=cosgo-session`: what the package did and why, for operators. */
export const debug = debuglog('cosgo-session')
