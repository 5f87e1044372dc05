/**
 * Text that PostgreSQL can store and every client can decode. PostgreSQL `text`
 * cannot hold NUL (U+0000), and a lone UTF-16 surrogate has no UTF-8 encoding, so
 * either one in an accepted field would fail at the database as a 500 after the
 * request was judged valid. Every accepted string field refuses both, by name.
 */
import { z } from 'zod';

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `value` holds neither NUL nor a lone surrogate. */
export function isSafeText(value: string): boolean {
  return !value.includes('\u0000') && !loneSurrogate.test(value);
}

/** The message a refused field gets. */
export const unsafeTextMessage = 'must not contain NUL (\\u0000) or an unpaired surrogate';

/** A zod string that refuses NUL and lone surrogates; chain further checks after it. */
export function safeText() {
  return z.string().refine(isSafeText, unsafeTextMessage);
}

/** `value` with NUL and lone surrogates replaced by U+FFFD, for text that must be kept anyway (the audit log). */
export function toSafeText(value: string): string {
  return isSafeText(value) ? value : value.replace(/\u0000/g, '\uFFFD').replace(new RegExp(loneSurrogate.source, 'g'), '\uFFFD');
}
