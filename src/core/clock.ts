// Owns time for everything that must be testable without sleeping: an injected Clock, and the
// one system implementation (the only place in core allowed to read Date and timers).

export interface Clock {
  /** Epoch milliseconds. */
  now(): number
}

export const systemClock: Clock = {
  now: () => Date.now(),
}
