// The MIME index: the byte-exact part tree stored with each message at delivery, header
// and address parsing for ENVELOPE, decoding helpers for BODY/BINARY/SEARCH, and previews.
export type { MessageIndex, MimeDefect, MimeParam, MimePart } from './types.ts';
export { MimeIndexer, indexMessageFile, mimeLimits, parseMessage } from './indexer.ts';
export { parseStructuredValue, type StructuredValue } from './params.ts';
export { decodeEncodedWords, headerEnd, headerValue, headerValues, parseHeader, unfold, type HeaderField } from './header.ts';
export { parseAddressList, type Address } from './address.ts';
export { parseEnvelope, type Envelope } from './envelope.ts';
export { decodeBase64, decodeCharset, decodeQuotedPrintable, decodeTransfer, decodeUtf8OrLegacy, isKnownCharset } from './decode.ts';
export { htmlToText, PREVIEW_MAX_CHARS, previewText, type PreviewSource } from './preview.ts';
export { preview, previewPart } from './messagepreview.ts';
export { decodePartBody, decodePartText, partParam } from './partbody.ts';
export { formatDate } from './date.ts';
export { encodeMutf7, decodeMutf7, decodeMutf7Lenient, Mutf7Error } from './mutf7.ts';
