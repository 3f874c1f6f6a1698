#!/usr/bin/env bash
# The release artifacts of `make dist`, checked as CI checks them (`make dist-check`):
#   - SHA256SUMS verifies, and lists one archive for linux/amd64 and one for linux/arm64;
#   - each archive holds kdebug, LICENSE and README.md, and its kdebug is the staged binary
#     whose size tests/size.rs holds to that artifact's limit;
#   - the binary is static (`file`, and no dynamic section or interpreter);
#   - `kdebug version` names the platform and libc;
#   - the krew manifest has the archive's URI and sha256, installed as kubectl-kdebug;
#   - the smoke journey below passes against fakecluster, arm64 under qemu-user.
#
# usage: tests/dist/check.sh DIST_DIR STAGE_DIR FAKECLUSTER LIBC QEMU_AARCH64
set -euo pipefail

if [ $# -ne 5 ]; then
    echo "usage: $0 DIST_DIR STAGE_DIR FAKECLUSTER musl|gnu QEMU_AARCH64" >&2
    exit 2
fi
dist=$(cd "$1" && pwd)
stage=$2
fakecluster=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
libc=$4
qemu=$5
case $libc in musl) libc_name=musl ;; gnu) libc_name=glibc ;; *) echo "unknown libc $libc" >&2; exit 2 ;; esac

work=$(mktemp -d)
fake_pid=
cleanup() {
    if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; wait "$fake_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# A command of the journey, bounded in time (a hang is a failure, not a stuck CI).
run() {
    timeout 120 "${kdebug[@]}" "$@" </dev/null
}

# Start fakecluster on loopback with root filesystems (so `cp` copies real files) and a
# request log; sets KUBECONFIG.
start_cluster() {
    local dir=$1
    mkdir -p "$dir/roots/default/web-0/app/etc"
    "$fakecluster" --rootfs "$dir/roots" --request-log "$dir/requests.jsonl" \
        --write-kubeconfig "$dir/kubeconfig" >"$dir/ready" 2>"$dir/fakecluster.err" &
    fake_pid=$!
    for _ in $(seq 100); do
        grep -q '^ready' "$dir/ready" 2>/dev/null && break
        sleep 0.1
    done
    grep -q '^ready' "$dir/ready" || fail "fakecluster did not start: $(cat "$dir/fakecluster.err")"
    export KUBECONFIG=$dir/kubeconfig
}

stop_cluster() {
    kill "$fake_pid" 2>/dev/null || true
    wait "$fake_pid" 2>/dev/null || true
    fake_pid=
}

# The smoke journey: a dry run that sends nothing, a debug with --attach whose command
# prints and exits 3 (output and exit code both checked), and `kdebug cp` of a small file
# out of the pod and back in.
smoke() {
    local dir=$1 out rc
    start_cluster "$dir"

    out=$(run web-0 --image=busybox -c dbg --dry-run -- true) || fail "$platform: --dry-run exited $?"
    echo "$out" | grep -q '"method": *"PATCH"' || fail "$platform: --dry-run printed no PATCH: $out"
    if grep -Eq '"method": *"(PATCH|POST|PUT|DELETE)"' "$dir/requests.jsonl"; then
        fail "$platform: --dry-run changed the cluster: $(cat "$dir/requests.jsonl")"
    fi

    rc=0
    out=$(run web-0 --image=busybox -c dbg --attach -- sh -c 'echo hello; exit 3' 2>"$dir/attach.err") || rc=$?
    [ "$rc" = 3 ] || fail "$platform: debug --attach exited $rc, not 3: $(cat "$dir/attach.err")"
    [ "$out" = hello ] || fail "$platform: debug --attach printed '$out', not 'hello'"

    local root=$dir/roots/default/web-0/app
    printf 'key=value\nplatform=%s\n' "$platform" >"$root/etc/app.conf"
    run cp web-0:/etc/app.conf "$dir/app.conf" 2>"$dir/cp.err" || fail "$platform: cp out: $(cat "$dir/cp.err")"
    cmp "$root/etc/app.conf" "$dir/app.conf" || fail "$platform: cp out copied something else"
    echo "back=1" >>"$dir/app.conf"
    run cp "$dir/app.conf" web-0:/etc/app.conf.back 2>"$dir/cp.err" || fail "$platform: cp in: $(cat "$dir/cp.err")"
    cmp "$dir/app.conf" "$root/etc/app.conf.back" || fail "$platform: cp in copied something else"

    stop_cluster
}

(cd "$dist" && sha256sum -c SHA256SUMS) || fail "sha256sum -c SHA256SUMS"
manifest=$dist/kdebug.yaml
[ -f "$manifest" ] || fail "$manifest is missing"

for arch in amd64 arm64; do
    platform=linux/$arch
    archive=$(awk -v a="-linux-$arch.tar.gz" '{ n = $2; sub(/^\*/, "", n) } substr(n, length(n) - length(a) + 1) == a { print n }' "$dist/SHA256SUMS")
    [ -n "$archive" ] || fail "SHA256SUMS lists no archive for $platform"
    version=${archive#kdebug-}
    version=${version%-linux-$arch.tar.gz}
    sum=$(awk -v n="$archive" '$2 == n { print $1 }' "$dist/SHA256SUMS")

    dir=$work/$arch
    mkdir -p "$dir/x"
    tar -xzf "$dist/$archive" -C "$dir/x"
    [ "$(cd "$dir/x" && ls -A | sort | tr '\n' ' ')" = "LICENSE README.md kdebug " ] \
        || fail "$archive holds $(cd "$dir/x" && ls -A | tr '\n' ' '), not kdebug, LICENSE and README.md"
    bin=$dir/x/kdebug
    cmp "$bin" "$stage/linux-$arch-$libc/kdebug" \
        || fail "$archive's kdebug is not $stage/linux-$arch-$libc/kdebug, whose size tests/size.rs checked"

    desc=$(file -b "$bin")
    echo "$platform: $(stat -c %s "$bin") bytes; $desc"
    case $desc in *"statically linked"*) ;; *) fail "$platform: not statically linked: $desc" ;; esac
    readelf -d "$bin" | grep -q 'no dynamic section' || fail "$platform: has a dynamic section"
    if readelf -lW "$bin" | grep -q INTERP; then fail "$platform: asks for a program interpreter"; fi

    if [ "$arch" = arm64 ]; then kdebug=("$qemu" "$bin"); else kdebug=("$bin"); fi
    want="kdebug v$version $platform $libc_name"
    got=$(run version) || fail "$platform: kdebug version exited $?"
    [ "$got" = "$want" ] || fail "$platform: kdebug version says '$got', not '$want'"

    # The manifest's entry for this platform: its arch, then its URI ending in the archive
    # name, its sha256, and the binary krew links as kubectl-kdebug.
    awk -v arch="$arch" -v archive="$archive" -v sum="$sum" '
        $1 == "arch:" { cur = $2 }
        cur == arch && $1 == "uri:" { uri = (substr($2, length($2) - length(archive)) == "/" archive) }
        cur == arch && $1 == "sha256:" { sha = ($2 == sum) }
        cur == arch && $1 == "bin:" { bin = ($2 == "kdebug") }
        END { exit !(uri && sha && bin) }' "$manifest" \
        || fail "$manifest has no entry for $platform with uri .../$archive, sha256 $sum and bin kdebug"
    grep -qx "  version: v$version" "$manifest" || fail "$manifest does not say version v$version"

    smoke "$dir"
    echo "$platform: smoke journey passed (dry run, attach with output and exit code 3, cp out and back)"
done
echo "dist-check: 2 passed, 0 failed"
