// Folding of the header fields we add (Authentication-Results, Received-SPF): lines of at
// most 78 characters where whitespace allows (RFC 5322 §2.1.1, §2.2.3).

const lineWidth = 78; // RFC 5322 §2.1.1: SHOULD be no more than 78 characters

/** One header field, CRLF-terminated, with a CRLF inserted before whitespace wherever a line would exceed 78 characters (RFC 5322 §2.2.3). */
export function foldField(field: string): string {
  return `${field.replace(/\r?\n$/, '').split(/\r?\n/).map(foldLine).join('\r\n')}\r\n`;
}

function foldLine(line: string): string {
  if (line.length <= lineWidth) return line;
  const lines: string[] = [];
  let current = '';
  for (const [word] of line.matchAll(/[ \t]*[^ \t]+|[ \t]+$/g)) { // each word with the whitespace before it
    if (current.trim() !== '' && /^[ \t]/.test(word) && current.length + word.length > lineWidth) {
      lines.push(current);
      current = word; // the whitespace starts the continuation line (RFC 5322 §2.2.3)
    } else {
      current += word;
    }
  }
  lines.push(current);
  return lines.join('\r\n');
}
