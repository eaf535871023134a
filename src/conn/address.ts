// Peer addresses as the servers compare and log them.

/** "::ffff:1.2.3.4" -> "1.2.3.4": IPv4 clients on a dual-stack socket. */
export function normalizeIP(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** Whether a (normalized) address is loopback: 127.0.0.0/8 or ::1 (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3). */
export function isLoopback(ip: string): boolean {
  return ip === '::1' || /^127\.\d+\.\d+\.\d+$/.test(ip);
}
