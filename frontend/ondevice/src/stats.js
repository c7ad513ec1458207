// Rolling measurements of the frame loop: medians of each step over the last frames, frames per second
// over the last two seconds.

export const STEPS = ["resize", "pixels", "tensor", "model", "draw"];
const WINDOW = 30; // frames in a median
const FPS_SPAN_MS = 2000;

const median = (values) => {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b), mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export class FrameStats {
  constructor() {
    this.reset();
  }

  reset() {
    this.frames = 0; // classified since the model was loaded
    this.skipped = 0; // camera frames that arrived while the network was busy: never queued
    this.steps = Object.fromEntries(STEPS.map((s) => [s, []]));
    this.ends = [];
  }

  add(times, now) {
    this.frames += 1;
    for (const s of STEPS) {
      const list = this.steps[s];
      list.push(times[s]);
      if (list.length > WINDOW) list.shift();
    }
    this.ends.push(now);
    while (this.ends.length && this.ends[0] < now - FPS_SPAN_MS) this.ends.shift();
  }

  medians() {
    return Object.fromEntries(STEPS.map((s) => [s, median(this.steps[s])]));
  }

  fps(now) {
    const recent = this.ends.filter((t) => t >= now - FPS_SPAN_MS);
    if (recent.length < 2) return 0;
    return (recent.length - 1) / Math.max((now - recent[0]) / 1000, 1e-3);
  }
}
