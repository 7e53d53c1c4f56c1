import { MemoryStore } from '../lib/memory-store'
import { describeStoreContract } from '../lib/testing'

describeStoreContract('MemoryStore', () => new MemoryStore(), { close: (store) => store.close() })
