#!/usr/bin/env bash
# Issue 19, items 1 and 2: the Debian packages as an administrator meets them. Run by hand
# (`make package-check`, as root: debootstrap and chroot), not by CI.
#   1. lintian reports no error on either package;
#   2. the service unit's exposure by `systemd-analyze security --offline=true` is at most 2.0
#      (the figure is printed), and the installed unit passes `systemd-analyze verify`;
#   3. extdata_*.deb installs with apt into a fresh Debian 12 root (dependencies from the
#      package's Depends), creating the user extdata, /var/lib/extdata (0700), the master key
#      (0600) and the conffile;
#   4. the unit's ExecStart runs there as user extdata, with the unit's environment and the key
#      handed over as a credential, and answers /healthz; SIGHUP reloads, SIGTERM stops it.
#
#   tests/package/check.sh [PACKAGE_DIR]     KEEP=1 keeps the root for a look
set -uo pipefail
cd "$(dirname "$0")/../.."
packages=$(realpath "${1:-build/package}")
root=${PACKAGE_ROOT:-/var/tmp/extdata-package-root}
. scripts/lib/debian-root.sh

n=0 passed=0 failed=0
pass() { n=$((n + 1)) passed=$((passed + 1)); printf 'PASS %2d  %s\n' "$n" "$1"; }
fail() { n=$((n + 1)) failed=$((failed + 1)); printf 'FAIL %2d  %s\n        %s\n' "$n" "$1" "$2"; }
expect_eq() { if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "got: ${2:0:600} | want: $3"; fi; }
expect_match() { if [[ $2 =~ $3 ]]; then pass "$1"; else fail "$1" "got: ${2:0:600} | want match: $3"; fi; }
section() { printf '\n== %s\n' "$1"; }

[[ $(id -u) -eq 0 ]] || { echo "package check: run as root (debootstrap and chroot)"; echo "0 passed, 1 failed"; exit 1; }
deb=$(ls "$packages"/extdata_*.deb 2>/dev/null | head -1)
sim=$(ls "$packages"/extdata-graphsim_*.deb 2>/dev/null | head -1)
[[ -n $deb && -n $sim ]] || { echo "no packages in $packages: run make package"; echo "0 passed, 1 failed"; exit 1; }

section "lintian"
for p in "$deb" "$sim"; do
  out=$(lintian --no-tag-display-limit "$p" 2>&1)
  expect_eq "$(basename "$p"): no lintian errors" "$(grep -c '^E:' <<<"$out")" "0"
  grep -E '^(E|W):' <<<"$out" | sed 's/^/        /' | head -20
done

section "the service unit"
unit=$(mktemp -d)
trap 'rm -rf "$unit"; cleanup_root' EXIT
dpkg-deb -x "$deb" "$unit"
out=$(systemd-analyze security --offline=true --root="$unit" "$unit/lib/systemd/system/extdata.service" 2>&1 | tail -1)
exposure=$(sed -n 's/.*Overall exposure level for extdata.service: \([0-9.]*\).*/\1/p' <<<"$out")
echo "        $out"
expect_eq "exposure ≤ 2.0 (is ${exposure:-unknown})" "$(awk -v e="${exposure:-99}" 'BEGIN { print (e <= 2.0) ? "yes" : "no" }')" "yes"
expect_match "the master key comes as a credential, not from the environment" \
  "$(grep -E '^(LoadCredential|Environment)' "$unit/lib/systemd/system/extdata.service")" \
  "LoadCredential=master.key:/etc/extdata/master.key"
expect_eq "no key in the unit or its environment file" \
  "$(grep -c 'EXTDATA_MASTER_KEY=' "$unit/lib/systemd/system/extdata.service" "$unit/etc/extdata/extdata.env" | awk -F: '{ s += $2 } END { print s }')" "0"

section "install into a fresh Debian 12 root"
make_debian_root ca-certificates,curl,systemd,man-db >/dev/null
mount_into proc proc /proc
mount_into --bind /dev /dev
cp "$deb" "$root/tmp/"
out=$(in_root "DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /tmp/$(basename "$deb")" 2>&1)
status=$?
expect_eq "apt-get install ./$(basename "$deb") (dependencies from Depends) exits 0" "$status" "0"
[[ $status -eq 0 ]] || echo "$out" | tail -20 | sed 's/^/        /'
expect_eq "the user extdata exists, a system user" "$(in_root 'id -u extdata' | awk '{ print ($1 < 1000) ? "system" : "regular" }')" "system"
expect_eq "an empty store was made by extdata, 0600" "$(in_root 'stat -c "%U %a" /var/lib/extdata/extdata.db')" "extdata 600"
expect_eq "/var/lib/extdata: extdata, 0700" "$(in_root 'stat -c "%U %a" /var/lib/extdata')" "extdata 700"
expect_eq "/etc/extdata/master.key: root, 0600, 64 hex characters" \
  "$(in_root 'stat -c "%U %a" /etc/extdata/master.key; tr -d "\n" </etc/extdata/master.key | grep -cE "^[0-9a-f]{64}$"')" $'root 600\n1'
expect_eq "the conffile is registered" "$(in_root 'dpkg-query -W -f="\${Conffiles}" extdata' | awk '{ print $1 }' | sed '/^$/d')" "/etc/extdata/extdata.env"
expect_eq "the web UI is installed" "$(in_root 'test -f /usr/share/extdata/web/index.html && echo yes')" "yes"
expect_match "the man page is installed" "$(in_root 'zcat /usr/share/man/man1/extdata.1.gz | head -5')" "TH EXTDATA"
out=$(in_root 'systemd-analyze verify /lib/systemd/system/extdata.service 2>&1')
expect_eq "systemd-analyze verify of the installed unit: no complaint" "$out" ""

section "ExecStart as user extdata"
# What systemd does for the unit: the environment file, the unit's Environment= lines, the
# credential (a copy readable by the service user only), the StateDirectory; then ExecStart.
in_root 'install -d -o extdata -m 0700 /run/credentials/extdata.service &&
  install -o extdata -m 0400 /etc/extdata/master.key /run/credentials/extdata.service/master.key'
exec_start=$(sed -n 's/^ExecStart=//p' "$unit/lib/systemd/system/extdata.service")
envs=$(sed -n 's/^Environment=//p' "$unit/lib/systemd/system/extdata.service" | tr '\n' ' ')
in_root "sed -i 's/^EXTDATA_LISTEN=.*/EXTDATA_LISTEN=127.0.0.1:0/' /etc/extdata/extdata.env"
# "cd /;" not "cd / &&": an AND-list sent to the background runs in a root-owned subshell, and
# $! would name that shell instead of the service.
in_root "cd /; setpriv --reuid=extdata --regid=extdata --init-groups env -i PATH=/usr/bin:/bin \
  \$(grep -v '^#' /etc/extdata/extdata.env | sed '/^\$/d' | tr '\n' ' ') $envs \
  CREDENTIALS_DIRECTORY=/run/credentials/extdata.service $exec_start >/tmp/serve.out 2>/tmp/serve.log & echo \$! >/tmp/serve.pid"
url=""
for _ in $(seq 300); do
  url=$(sed -n 's/^extdata listening on \(http[^ ]*\).*/\1/p' "$root/tmp/serve.out" 2>/dev/null | head -1)
  [[ -n $url ]] && break
  sleep 0.1
done
expect_match "the service starts and says where it listens" "$url" "^http://127.0.0.1:[0-9]+$"
expect_eq "/healthz answers" "$(in_root "curl -sS $url/healthz")" '{"status":"ok"}'
expect_eq "it runs as extdata" "$(in_root "ps -o user= -p \$(cat /tmp/serve.pid)" | tr -d ' ')" "extdata"
expect_eq "no master.key was made in the data directory (the credential is used)" \
  "$(in_root 'test -e /var/lib/extdata/master.key && echo made || echo none')" "none"
token=$(in_root "sh -c 'cat /etc/extdata/master.key | runuser -u extdata -- env EXTDATA_DATA=/var/lib/extdata \
  EXTDATA_MASTER_KEY_FILE=- extdata token create --role admin --label ops'" 2>"$root/tmp/token.err")
# (the token is on stdout; "shown once" goes to stderr)
expect_match "docs/operations.md: an admin token made as extdata with the key on stdin" "$token" "^[A-Za-z0-9_.~-]{20,}$"
expect_eq "  ... is accepted by the service" \
  "$(in_root "curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $token' $url/api/v1/sources")" "200"
expect_eq "  ... and left every file in /var/lib/extdata to extdata" \
  "$(in_root 'find /var/lib/extdata ! -user extdata | wc -l')" "0"
in_root "echo EXTDATA_LOG_LEVEL=debug >>/etc/extdata/extdata.env; kill -HUP \$(cat /tmp/serve.pid)"
for _ in $(seq 100); do grep -q reloaded "$root/tmp/serve.log" && break; sleep 0.1; done
expect_match "SIGHUP (systemctl reload) re-reads the settings file" "$(grep reloaded "$root/tmp/serve.log")" "log level: debug"
expect_eq "  ... and the server still answers" "$(in_root "curl -sS $url/healthz")" '{"status":"ok"}'
in_root 'kill -TERM $(cat /tmp/serve.pid)'
for _ in $(seq 150); do in_root 'kill -0 $(cat /tmp/serve.pid) 2>/dev/null' || break; sleep 0.1; done
expect_eq "SIGTERM stops it" "$(in_root 'kill -0 $(cat /tmp/serve.pid) 2>/dev/null && echo running || echo stopped')" "stopped"

printf '\n%d passed, %d failed\n' "$passed" "$failed"
[[ $failed -eq 0 ]]
