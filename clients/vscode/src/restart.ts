// How often a crashed server is started again. Pure (the clock comes in as a function).

export class RestartBudget {
  private readonly times: number[] = [];

  constructor(
    public maxRestarts: number,
    private readonly windowMs: number = 3 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a crash; true when the server may be restarted once more. */
  allowRestart(): boolean {
    const t = this.now();
    while (this.times.length > 0 && t - this.times[0]! > this.windowMs) {
      this.times.shift();
    }
    if (this.times.length >= this.maxRestarts) {
      return false;
    }
    this.times.push(t);
    return true;
  }

  /** How many restarts happened inside the window. */
  get recent(): number {
    return this.times.length;
  }

  reset(): void {
    this.times.length = 0;
  }
}
