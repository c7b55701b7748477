import type { IncomingHttpHeaders } from 'node:http';

/** Who sent a request the board admitted, and when it arrived. */
export interface OperatorIdentity {
  /** The basic-auth user, or `anonymous` on a board running with BOARD_AUTH=off. */
  readonly operator: string;
  readonly receivedAt: Date;
}

/**
 * Identities keyed by the request's headers object, which Express hands to
 * Bull Board's handlers unchanged: set by the auth middleware, read by the
 * operator-action hook. A client cannot forge an entry with a header.
 */
const identities = new WeakMap<object, OperatorIdentity>();

export function rememberOperator(headers: IncomingHttpHeaders, identity: OperatorIdentity): void {
  identities.set(headers, identity);
}

export function operatorOf(headers: object): OperatorIdentity | undefined {
  return identities.get(headers);
}
