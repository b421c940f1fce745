#!/usr/bin/env bash
# appliance/build-image.sh: build pfd's bootable appliance image, a
# Debian kernel and an initramfs that boots straight into pfd.
#
#   appliance/build-image.sh [--bin-dir DIR] [--out DIR] [--etc DIR]...
#                            [--module NAME]... [--busybox] [--fetch-kernel]
#
# Writes OUT/vmlinuz and OUT/initrd.img (OUT: target/appliance). The
# initramfs holds:
#   /init                  pfd-init: mounts, NIC drivers, lo and the NICs
#                          up, then `pfd run --etc /etc/pfd/NAME`
#   /bin/pfd, pfctl, ifctl (debug symbols stripped) and the shared
#                          libraries they link
#   /lib/modules/*.ko      virtio_net and virtio_pci with what they need,
#                          and tun (pfd's pfsync0 mirror for tcpdump)
#                          (--module NAME adds a driver, e.g. e1000);
#                          pfd-init.list loads them in dependency order
#   /etc/pfd/NAME          each etc directory (default: etc/fw1, etc/fw2)
#   /etc/services, protocols, hosts, nsswitch.conf
# Boot it with `pfd.etc=NAME` on the kernel command line (see README.md,
# "The appliance image").
#
# The kernel is Debian's linux-image-amd64, fetched with `apt-get
# download` into target/appliance/cache ($PFD_APPLIANCE_CACHE) once;
# delete the cached .deb to take a newer one. --fetch-kernel only does
# that. Binaries come from --bin-dir, else from `cargo build --release`.
# --busybox adds the host's busybox as /bin/sh for debugging (boot with
# rdinit=/bin/sh); the boot itself never uses a shell.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/target/appliance
cache=${PFD_APPLIANCE_CACHE:-$root/target/appliance/cache}
bin_dir=
etcs=()
modules=(virtio_pci virtio_net af_packet tun)
busybox=0
fetch_only=0

die() {
	echo "build-image.sh: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--bin-dir) bin_dir=${2:?--bin-dir DIR}; shift 2 ;;
	--out) out=${2:?--out DIR}; shift 2 ;;
	--etc) etcs+=("${2:?--etc DIR}"); shift 2 ;;
	--module) modules+=("${2:?--module NAME}"); shift 2 ;;
	--busybox) busybox=1; shift ;;
	--fetch-kernel) fetch_only=1; shift ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done

for tool in dpkg-deb cpio gzip; do
	command -v "$tool" >/dev/null || die "needs $tool (apt-get install ${tool/dpkg-deb/dpkg})"
done

# --- the kernel: Debian's, from the cache or apt ---------------------
kernel_deb() {
	local deb pkg
	deb=$(ls -t "$cache"/linux-image-*-amd64_*.deb 2>/dev/null | head -n 1 || true)
	if [ -n "$deb" ]; then
		echo "$deb"
		return
	fi
	resolve() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }'; }
	pkg=$(resolve)
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
		apt-get update -qq >&2
		pkg=$(resolve)
	fi
	[ -n "$pkg" ] || die "cannot find Debian's linux-image-amd64 (apt-get update as root, or put a linux-image-*-amd64_*.deb in $cache)"
	mkdir -p "$cache"
	(cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) ||
		die "apt-get download $pkg failed"
	ls -t "$cache"/"$pkg"_*.deb | head -n 1
}

deb=$(kernel_deb)
kdir=$cache/$(basename "$deb" .deb)
if [ ! -d "$kdir/boot" ]; then
	rm -rf "$kdir.tmp"
	dpkg-deb -x "$deb" "$kdir.tmp"
	mv "$kdir.tmp" "$kdir"
fi
[ "$fetch_only" -eq 1 ] && { echo "kernel: $deb"; exit 0; }

vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -n 1)
kver=${vmlinuz##*/vmlinuz-}
moddir=
for d in "$kdir/lib/modules/$kver" "$kdir/usr/lib/modules/$kver"; do
	[ -d "$d" ] && moddir=$d && break
done
[ -n "$moddir" ] || die "no modules for $kver in $deb"

# --- the binaries ------------------------------------------------------
if [ -z "$bin_dir" ]; then
	(cd "$root" && cargo build --release -p mgmt --bins)
	bin_dir=$root/target/release
fi
for b in pfd pfctl ifctl pfd-init; do
	[ -x "$bin_dir/$b" ] || die "no $bin_dir/$b (cargo build -p mgmt --bins)"
done
[ ${#etcs[@]} -gt 0 ] || etcs=("$root"/etc/fw*)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,etc/pfd,lib/modules,proc,sys,dev,run,tmp}

# Copy a binary and the shared libraries it links, at the paths the
# dynamic loader looks for them.
copy_libs() {
	local lib
	for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*' || true); do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}
install_bin() { # SRC DEST
	if command -v strip >/dev/null; then
		strip --strip-debug -o "$stage$2" "$1"
	else
		cp "$1" "$stage$2"
	fi
	chmod 0755 "$stage$2"
	copy_libs "$1"
}
install_bin "$bin_dir/pfd-init" /init
for b in pfd pfctl ifctl; do
	install_bin "$bin_dir/$b" "/bin/$b"
done
if [ "$busybox" -eq 1 ]; then
	bb=$(command -v busybox) || die "--busybox: no busybox here (apt-get install busybox-static)"
	cp "$bb" "$stage/bin/busybox"
	copy_libs "$bb"
	ln -s busybox "$stage/bin/sh"
fi

# --- the NIC drivers, dependencies first ---------------------------------
declare -A seen=()
: >"$stage/lib/modules/pfd-init.list"
add_module() {
	local m=$1 f deps d
	[ -n "${seen[$m]:-}" ] && return
	seen[$m]=1
	f=$(find "$moddir/kernel" -name "$(echo "$m" | sed 's/[-_]/[-_]/g').ko*" | head -n 1)
	if [ -z "$f" ]; then
		grep -q "/$m.ko" "$moddir/modules.builtin" || die "$kver has no module $m"
		return # built in
	fi
	deps=$(tr '\0' '\n' <"$f" | sed -n 's/^depends=//p' | tr ',' ' ')
	for d in $deps; do
		add_module "$d"
	done
	local name=${f##*/}
	case $name in
	*.ko) cp "$f" "$stage/lib/modules/$name" ;;
	*.ko.xz) xz -dc "$f" >"$stage/lib/modules/${name%.xz}"; name=${name%.xz} ;;
	*.ko.zst) zstd -qdc "$f" >"$stage/lib/modules/${name%.zst}"; name=${name%.zst} ;;
	*.ko.gz) gzip -dc "$f" >"$stage/lib/modules/${name%.gz}"; name=${name%.gz} ;;
	*) die "$f: unknown module compression" ;;
	esac
	echo "/lib/modules/$name" >>"$stage/lib/modules/pfd-init.list"
}
for m in "${modules[@]}"; do
	add_module "$m"
done

# --- etc -------------------------------------------------------------------
for e in "${etcs[@]}"; do
	[ -f "$e/pf.conf" ] || die "$e: no pf.conf"
	cp -r "$e" "$stage/etc/pfd/$(basename "$e")"
done
for f in services protocols; do
	[ -f "/etc/$f" ] || die "no /etc/$f (apt-get install netbase)"
	cp "/etc/$f" "$stage/etc/$f"
done
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost\n' >"$stage/etc/hosts"
printf 'hosts: files\nservices: files\nprotocols: files\n' >"$stage/etc/nsswitch.conf"

# --- the image ---------------------------------------------------------------
mkdir -p "$out"
cp "$vmlinuz" "$out/vmlinuz"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
	gzip -n -6 >"$out/initrd.img.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"

names=$(cd "$stage/etc/pfd" && echo *)
echo "kernel:    $out/vmlinuz (Debian $kver)"
echo "initramfs: $out/initrd.img ($(du -k "$out/initrd.img" | cut -f1) KiB; modules: $(xargs -n1 basename <"$stage/lib/modules/pfd-init.list" | tr '\n' ' ')etc: $names)"
echo "boot:      qemu-system-x86_64 -m 256 -kernel $out/vmlinuz -initrd $out/initrd.img \\"
echo "             -append 'console=ttyS0 quiet panic=5 pfd.etc=${names%% *}' -nographic \\"
echo "             -netdev ... -device virtio-net-pci,... (one per hostname.ethN, in order)"
