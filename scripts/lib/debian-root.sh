# A fresh Debian 12 (bookworm) root made with debootstrap, for scripts/fresh-check and
# tests/package/check.sh. Source it, set `root`, then:
#   make_debian_root "make,git,ca-certificates"   # minbase plus these packages
#   mount_into proc proc /proc ...; in_root 'command'
# Only this machine's package-client settings are copied in (apt configuration, CA certificates
# for the egress proxy, npm settings, DNS). cleanup_root kills what runs inside, unmounts and
# (unless KEEP is set) removes the root.

mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
mounted=()

# Processes whose root directory is the fresh root (a chroot shares this machine's PIDs, so
# matching by name would hit the host's own extdata processes).
kill_in_root() {
  local p
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/root" 2>/dev/null) == "$root" ]] && kill -TERM "${p#/proc/}" 2>/dev/null
  done
  return 0
}

cleanup_root() {
  kill_in_root
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  [[ -n ${KEEP:-} ]] || rm -rf --one-file-system "$root"
}

mount_into() { # mount_into TYPE|--bind SOURCE TARGET
  mkdir -p "$root/$3"
  if [[ $1 == --bind ]]; then mount --bind "$2" "$root/$3"; else mount -t "$1" "$2" "$root/$3"; fi
  mounted+=("$root/$3")
}

make_debian_root() { # comma-separated packages to include
  command -v debootstrap >/dev/null || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
  }
  rm -rf --one-file-system "$root"
  echo "debian-root: debootstrap bookworm into $root from $mirror" >&2
  debootstrap --variant=minbase --include="$1" bookworm "$root" "$mirror" >/dev/null
  cp -a /etc/apt/apt.conf.d/. "$root/etc/apt/apt.conf.d/"
  [[ -f /etc/apt/sources.list.d/debian.sources ]] &&
    cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
  cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$root" update-ca-certificates >/dev/null 2>&1 || true
  for f in /etc/npmrc /root/.npmrc; do [[ -f $f ]] && { mkdir -p "$root$(dirname "$f")"; cp "$f" "$root$f"; }; done
  cp /etc/resolv.conf "$root/etc/resolv.conf"
}

in_root() { # command (run by bash in the root, as root, with a clean environment)
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    bash -c "$1"
}
