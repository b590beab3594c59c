/**
 * A doubly linked list through its items' own `older`/`newer` links (no node objects): the
 * tracker's least-recently-active list of open connections, and its list of tombstones in
 * order of release. Moving an item to the newest end is O(1), on every packet.
 */
export interface RecencyLinks<T> {
  older: T | null
  newer: T | null
}

export class RecencyList<T extends RecencyLinks<T>> {
  oldest: T | null = null
  newest: T | null = null

  /** Marks `item` (listed or not) the newest. */
  touch(item: T): void {
    if (item === this.newest) return
    if (item.older !== null || item.newer !== null || item === this.oldest) this.remove(item)
    this.append(item)
  }

  /** Adds an item not in the list at the newest end. */
  append(item: T): void {
    item.older = this.newest
    item.newer = null
    if (this.newest !== null) this.newest.newer = item
    else this.oldest = item
    this.newest = item
  }

  remove(item: T): void {
    if (item.older !== null) item.older.newer = item.newer
    else this.oldest = item.newer
    if (item.newer !== null) item.newer.older = item.older
    else this.newest = item.older
    item.older = item.newer = null
  }

  clear(): void {
    this.oldest = this.newest = null
  }
}
