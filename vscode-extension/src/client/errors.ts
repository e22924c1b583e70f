// What a failed request means to the user. The server answers JSON-RPC errors with documented
// codes; codeloupe/ask and codeloupe/context answer RequestFailed "… not available yet" until
// the server has its semantic layer.
import { ErrorCodes } from "../protocol";

export interface ErrorInfo {
  code: number | undefined;
  message: string;
  /** The request was cancelled (by us, because newer input came): not worth showing. */
  cancelled: boolean;
  /** The method exists but the server cannot serve it yet (semantic layer missing). */
  notAvailable: boolean;
  /** The server said the request was wrong (bad regex, unknown rev, …): show its words. */
  invalidParams: boolean;
}

export function errorInfo(error: unknown): ErrorInfo {
  const e = (error ?? {}) as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof e.code === "number" ? e.code : undefined;
  const message = typeof e.message === "string" ? e.message : String(error);
  const cancelled = code === ErrorCodes.requestCancelled || e.name === "Canceled" ||
    e.name === "CancellationError" || message === "Canceled";
  return {
    code,
    message,
    cancelled,
    notAvailable: code === ErrorCodes.requestFailed && /not available yet/i.test(message),
    invalidParams: code === ErrorCodes.invalidParams,
  };
}

/** The first line of a server message (regex errors carry a caret diagram below it). */
export function firstLine(message: string): string {
  const nl = message.indexOf("\n");
  return nl < 0 ? message : message.slice(0, nl);
}

/** A message for a method the server does not serve yet, with what to do about it. */
export function notAvailableMessage(feature: string, serverMessage: string): string {
  return `${feature} needs the codeloupe server's semantic layer, which this server does not have yet ` +
    `(${firstLine(serverMessage)}). Update codeloupe (pip install -U codeloupe) and restart the server ` +
    "(command: codeloupe: Restart language server). Regex search, symbols and branches work meanwhile.";
}
