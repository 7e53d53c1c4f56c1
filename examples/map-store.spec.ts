// The store contract suite against MapStore, in Jest or Vitest with globals.
import { describeStoreContract } from '../lib/testing'
import { MapStore } from './map-store'

describeStoreContract('MapStore', () => new MapStore(), { perUser: false })
