/** One HTTP attempt, as kept in the manifest's `provenance.requests`. */
export interface RequestLogEntry {
  /** 1-based page index within the snapshot. */
  page: number;
  /** 1-based attempt at this page. */
  attempt: number;
  /** The URL asked for, without credentials. */
  url: string;
  /** HTTP status; null when no answer came (timeout, reset). */
  status: number | null;
  /** Body bytes received. */
  bytes: number;
  /** Milliseconds from sending to the last body byte (or the failure). */
  durationMs: number;
  /** What was wrong with this attempt, when something was. */
  error?: string;
  /** Every redirect on the way (followed or refused), in order: its status and the URL it named, without credentials. */
  redirects?: Array<{ status: number; to: string }>;
}
