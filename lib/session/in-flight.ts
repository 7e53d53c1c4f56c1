/**
 * A session's operations still under way (create, refresh, destroy): the response waits for them
 * before any of its bytes go out, so that a token the app did not await still reaches the client.
 */
export class InFlight {
  readonly #running = new Set<Promise<unknown>>()

  /** Keeps `operation` until it settles, and answers it unchanged. */
  track<T>(operation: Promise<T>): Promise<T> {
    this.#running.add(operation)
    const forget = () => this.#running.delete(operation)
    operation.then(forget, forget)
    return operation
  }

  /** Settles once every tracked operation has, whatever their outcome; `undefined` when none runs. */
  settled(): Promise<void> | undefined {
    if (this.#running.size === 0) return undefined
    return Promise.allSettled([...this.#running]).then(() => this.settled())
  }
}
