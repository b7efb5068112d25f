#!/bin/sh
# rootfs.sh BINARY DEST   (runs in the image's build stage; POSIX sh)
# Lays out in DEST the smallest root filesystem BINARY runs from: the binary,
# stripped, in /usr/local/bin; every shared library it loads, found by ldd,
# plus the Cyrus SASL mechanism plugins librdkafka's libsasl2 dlopen()s
# (ldd cannot see those) and their own libraries; the dynamic loader; the
# system CA bundle (Kafka TLS without an explicit CA); and passwd/group
# entries for the unprivileged user 65532 the images run as. No shell, no
# package manager, nothing writable: /tmp comes from the pod as a volume.
set -eu
binary="$1" dest="$2"
sasl_dir=/usr/lib/x86_64-linux-gnu/sasl2

mkdir -p "${dest}/usr/local/bin" "${dest}/etc/ssl/certs" "${dest}/tmp"
strip --strip-unneeded -o "${dest}/usr/local/bin/$(basename "${binary}")" "${binary}"

# copy_with_parents FILE: FILE (following symlinks) at the same path in DEST.
copy_with_parents() {
  mkdir -p "${dest}$(dirname "$1")"
  cp -L "$1" "${dest}$1"
}

# Every object whose libraries we need: the binary and the SASL plugins.
objects="${binary}"
if ldd "${binary}" | grep -q libsasl2; then
  for plugin in "${sasl_dir}"/*.so; do
    [ -e "${plugin}" ] || continue
    copy_with_parents "${plugin}"
    objects="${objects} ${plugin}"
  done
fi
for object in ${objects}; do
  # "libx.so.1 => /lib/.../libx.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
  ldd "${object}" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r library; do
  copy_with_parents "${library}"
done

cp -L /etc/ssl/certs/ca-certificates.crt "${dest}/etc/ssl/certs/"
echo "nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin" > "${dest}/etc/passwd"
echo "nonroot:x:65532:" > "${dest}/etc/group"
chmod 1777 "${dest}/tmp"
