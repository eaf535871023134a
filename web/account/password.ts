// Generated passwords: 20 characters from an alphabet without look-alikes (0/O, 1/l/I),
// drawn with crypto.getRandomValues by rejection (no modulo bias): about 116 bits.

const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // 56 characters
const length = 20;
const groups = 4; // shown as xxxxx-xxxxx-...: easier to read out and type; the dashes are part of it

export function generatePassword(): string {
  const limit = 256 - (256 % alphabet.length); // bytes at or above are dropped: each character equally likely
  const chars: string[] = [];
  while (chars.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < limit && chars.length < length) chars.push(alphabet[b % alphabet.length]!);
    }
  }
  const per = length / groups;
  return Array.from({ length: groups }, (_, i) => chars.slice(i * per, (i + 1) * per).join('')).join('-');
}
