/**
 * The verdict of one prober: healthy until `unhealthyThreshold` consecutive failures, then
 * unhealthy until `healthyThreshold` consecutive passes. Pure and clock-free, so the thresholds can
 * be tested without sockets.
 */
export class HealthState {
  readonly #healthyThreshold: number;
  readonly #unhealthyThreshold: number;
  #healthy = true;
  /** Consecutive results that disagree with the current verdict. */
  #streak = 0;

  /** Thresholds below 1 count as 1: one result is always enough to decide. */
  constructor(healthyThreshold: number, unhealthyThreshold: number) {
    this.#healthyThreshold = Math.max(1, healthyThreshold);
    this.#unhealthyThreshold = Math.max(1, unhealthyThreshold);
  }

  /** The current verdict; a new state starts healthy. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Records one probe result; true when it flips the verdict. */
  record(pass: boolean): boolean {
    if (pass === this.#healthy) {
      // A result that agrees with the verdict breaks any streak towards the other one.
      this.#streak = 0;
      return false;
    }
    this.#streak++;
    if (this.#streak < (this.#healthy ? this.#unhealthyThreshold : this.#healthyThreshold)) return false;
    this.#healthy = !this.#healthy;
    this.#streak = 0;
    return true;
  }
}
