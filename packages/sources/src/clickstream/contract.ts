import { showText } from '@recomart/logging';

/**
 * The clickstream file contract: the columns every export must have (in any
 * order), the event types, and the row-level rejection reasons with their
 * exact messages.
 */

/** The header, exactly these names in any order. */
export const COLUMNS = ['user_id', 'product_id', 'event_type', 'timestamp', 'device'] as const;
export type Column = (typeof COLUMNS)[number];

/** The header as written in messages. */
export const CONTRACT_HEADER = COLUMNS.join(',');

/** Allowed `event_type` values, in funnel order. */
export const EVENT_TYPES = ['view', 'click', 'add_to_cart'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Why a row was rejected. A row may have several. */
export const REJECT_REASONS = [
  'field_count',
  'empty_user_id',
  'empty_product_id',
  'bad_event_type',
  'bad_timestamp',
  'timestamp_off_day',
  'empty_device',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Longest excerpt of an offending value quoted in a message, in characters. */
const QUOTE_MAX = 80;

/** A value as quoted in a rejection message: `showText` (escaped, cut to 80 characters with its length). */
export function quoteValue(value: string): string {
  return showText(value, { max: QUOTE_MAX });
}

/** The exact one-line messages of the rejection reasons. */
export const rejectMessages = {
  field_count: (got: number) => `expected ${COLUMNS.length} fields (${CONTRACT_HEADER}), got ${got}`,
  empty_user_id: () => 'user_id is empty',
  empty_product_id: () => 'product_id is empty',
  bad_event_type: (got: string) => `event_type must be one of ${EVENT_TYPES.join(', ')}, got ${quoteValue(got)}`,
  bad_timestamp: (got: string) => `timestamp must be ISO-8601 with a zone (e.g. 2024-05-01T13:45:00.000Z) or epoch milliseconds, got ${quoteValue(got)}`,
  timestamp_off_day: (got: string, iso: string, date: string, toleranceMs: number) =>
    `timestamp ${quoteValue(got)}${got === iso ? '' : ` (${iso})`} is not on ${date} UTC (tolerance ${toleranceMs} ms)`,
  empty_device: () => 'device is empty',
} as const;
