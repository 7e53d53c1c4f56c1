/** Small statistics over the per-round samples of a run. */

/** The median; the mean of the middle pair for an even count, NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Smallest and largest value, for the spread column. */
export function range(values: readonly number[]): [number, number] {
  const finite = values.filter((value) => Number.isFinite(value))
  return finite.length === 0 ? [Number.NaN, Number.NaN] : [Math.min(...finite), Math.max(...finite)]
}

/** `items` rotated left by `by` places: the order of round `by`, so no scenario always runs first. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = ((by % items.length) + items.length) % items.length
  return [...items.slice(shift), ...items.slice(0, shift)]
}
