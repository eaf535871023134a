#!/usr/bin/env bash
# Installs, from Debian's packages, the peers the tests talk to (DNS servers, and later
# mail clients and servers). Idempotent: installs only what is missing. Run as root (CI
# and the developer machines are root); elsewhere it uses sudo when available.
set -euo pipefail

# One package per line; later issues append what their tests need.
packages=(
  nsd        # DNS: authoritative server for the signed test zones (test/dns-unbound.test.ts)
  unbound    # DNS: validating recursive resolver that sets the AD bit
  ldnsutils  # DNS: ldns-keygen and ldns-signzone to sign the test zones at test time
  swaks      # SMTP: pipelining, STARTTLS and AUTH interop (test/smtp-interop.test.ts)
  libnet-ssleay-perl      # swaks: TLS
  libio-socket-ssl-perl   # swaks: TLS
  libauthen-sasl-perl     # swaks: AUTH
  gsasl      # SMTP: SCRAM-SHA-256(-PLUS) and EXTERNAL from GNU SASL's client
  openssl    # TLS: s_client with and without client certificates
  python3    # SMTP: smtplib interop (the standard library is enough)
  isync      # IMAP: mbsync, a syncing client (interop tests)
  postfix    # SMTP: private relay and receiver instances (test/postfix.ts); also bench/smtp.ts and bench/queue.ts (smtp-sink)
  microsocks # SOCKS5 proxy for the queue's SOCKS transport (src/queue/queue.test.ts)
  prometheus # promtool check metrics on our /metrics output (test/metrics-promtool.test.ts)
  zip        # mailbox export/import: archives checked with zip/unzip (src/mailexport)
  unzip
  chromium   # browser tests of the web pages, driven by playwright-core (test/browser.ts)
  pebble     # ACME: Let's Encrypt's test CA, validating our tls-alpn-01 and http-01 answers on loopback (test/acme-pebble.test.ts)
)
# Bench-only peers are not installed here (CI does not run bench/): dovecot-imapd for
# bench/imap.ts; each bench says what it needs.

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-peers: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-test-peers: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if [[ " ${missing[*]} " == *" postfix "* ]]; then
  # postfix asks debconf what kind of mail system this is: none. The system instance stays
  # unconfigured; tests write their own config for each private instance.
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  echo "postfix postfix/mailname string localhost" | $sudo debconf-set-selections
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian starts some servers on install (e.g. unbound on port 53, postfix on 25): tests run
# their own instances on loopback ports, so stop the system ones if they were started.
for svc in unbound nsd postfix; do
  if command -v systemctl >/dev/null 2>&1; then $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
done
for svc in unbound nsd; do
  $sudo pkill -x "$svc" >/dev/null 2>&1 || true
done
# Postfix's daemon is "master", too common a name to pkill: ask the system instance (default
# config directory, never a test's) to stop, if it runs.
if [ -x /usr/sbin/postfix ] && $sudo /usr/sbin/postfix status >/dev/null 2>&1; then $sudo /usr/sbin/postfix stop >/dev/null 2>&1 || true; fi
