/** `cosgo-session/testing`: the store contract suite, for authors of stores to run against theirs. */
export { describeStoreContract, type StoreContractOptions, sampleRecord } from './stores/testing'
