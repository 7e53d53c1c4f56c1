/**
 * A session's operations still under way (create, refresh, destroy): the response waits for them
 * before any of its bytes go out, so that a token the app did not await still reaches the client.
 */
export class InFlight {
  /** Made at the first operation: a request that only reads or writes values allocates none. */
  #running: Set<Promise<unknown>> | undefined

  /** Keeps `operation` until it settles, and answers it unchanged. */
  track<T>(operation: Promise<T>): Promise<T> {
    this.#running ??= new Set()
    const running = this.#running
    running.add(operation)
    const forget = () => running.delete(operation)
    operation.then(forget, forget)
    return operation
  }

  /** Settles once every tracked operation has, whatever their outcome; `undefined` when none runs. */
  settled(): Promise<void> | undefined {
    const running = this.#running
    if (running === undefined || running.size === 0) return undefined
    return Promise.allSettled([...running]).then(() => this.settled())
  }
}
