import type { SeededRandom } from './seeded-random.js';

const DAY_MS = 86_400_000;

/** The kinds of defect `--dirty` injects, each as real exports get them wrong. */
export const DEFECT_KINDS = [
  'bad_event_type',
  'empty_user_id',
  'empty_product_id',
  'timestamp_wrong_day',
  'timestamp_unreadable',
  'empty_device',
  'ragged_row',
] as const;

const BAD_EVENT_TYPES = ['purchase', 'View', 'add-to-cart', 'clicked', ''];

/** Rewrites a good row into one with a realistic defect, drawing from the model's generator. */
export class DefectInjector {
  constructor(
    private readonly rng: SeededRandom,
    private readonly date: string,
  ) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[this.rng.int(xs.length)] as T;
  }

  /** The row with one defect, newline included. `instant` is the row's epoch ms. */
  row(user: string, product: string, event: string, time: string, device: string, instant: number): string {
    switch (this.pick(DEFECT_KINDS)) {
      case 'bad_event_type':
        return `${user},${product},${this.pick(BAD_EVENT_TYPES)},${time},${device}\n`;
      case 'empty_user_id':
        return `,${product},${event},${time},${device}\n`;
      case 'empty_product_id':
        return `${user},,${event},${time},${device}\n`;
      case 'timestamp_wrong_day': {
        const shifted = new Date(instant + (this.rng.next() < 0.5 ? -DAY_MS : DAY_MS)).toISOString();
        return `${user},${product},${event},${shifted},${device}\n`;
      }
      case 'timestamp_unreadable': {
        const clock = time.slice(11, 19);
        const bad = this.pick([`${this.date} ${clock}`, time.slice(0, -1), 'N/A', `${this.date}T25:${clock.slice(3)}Z`]);
        return `${user},${product},${event},${bad},${device}\n`;
      }
      case 'empty_device':
        return `${user},${product},${event},${time},\n`;
      case 'ragged_row':
        return this.rng.next() < 0.5 ? `${user},${product},${event},${time}\n` : `${user},${product},${event},${time},${device},1\n`;
    }
  }
}
