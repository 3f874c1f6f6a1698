CARGO ?= cargo
RELEASE_TARGET = x86_64-unknown-linux-gnu
TARGET_DIR = $(or $(CARGO_TARGET_DIR),target)
RELEASE_BIN = $(TARGET_DIR)/$(RELEASE_TARGET)/release/kdebug
FAKECLUSTER_BIN = $(TARGET_DIR)/bench-fake/fakecluster
KUBECTL ?= /usr/lib/google-cloud-sdk/bin/kubectl.1.33

.PHONY: build release test lint demo bench bench-fleet fuzz dist dist-deps dist-check dist-check-deps

build:
	$(CARGO) build --workspace

# Static and not position-independent (like kubectl): no relocations to carry or apply.
# Linked by the toolchain's own lld when it ships one, folding identical functions
# (--icf=all, 22 kB smaller than GNU ld); otherwise by the system linker as usual.
comma := ,
LLD_DIR := $(shell rustc --print sysroot 2>/dev/null)/lib/rustlib/$(RELEASE_TARGET)/bin/gcc-ld
RELEASE_LINK := $(if $(wildcard $(LLD_DIR)/ld.lld),-C link-arg=-fuse-ld=lld -C link-arg=-B$(LLD_DIR) -C link-arg=-Wl$(comma)--icf=all)
release:
	RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static $(RELEASE_LINK)" $(CARGO) build --release --target $(RELEASE_TARGET) --bin kdebug
	@printf 'size of %s: %s bytes\n' $(RELEASE_BIN) $$(stat -c %s $(RELEASE_BIN))

test:
	$(CARGO) test --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The main journey against the bundled test cluster: a real shell in a "debug container"
# (fakecluster runs /bin/sh locally in a pseudo-terminal; loopback only). Exit the shell to end.
demo:
	$(CARGO) build --workspace --quiet
	@tmp=$$(mktemp -d); \
	./target/debug/fakecluster --container shell --write-kubeconfig $$tmp/kubeconfig > $$tmp/ready & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; rm -rf $$tmp' EXIT INT TERM; \
	for i in $$(seq 100); do grep -q '^ready' $$tmp/ready 2>/dev/null && break; sleep 0.1; done; \
	echo "kdebug web-0 -it --image busybox -- sh   (against $$(cut -d' ' -f2 $$tmp/ready))"; \
	KUBECONFIG=$$tmp/kubeconfig ./target/debug/kdebug web-0 -it --image busybox -- sh; \
	echo "(kdebug exited with $$?: the shell's exit code)"

# Fuzzing (nightly + cargo-fuzz): each target runs FUZZ_SECONDS from the committed seeds in
# tests/fuzz/seeds/<target>; what it learns goes to FUZZ_WORK, crashes to
# tests/fuzz/artifacts/<target>/ (turn each into a unit test next to the code, then fix it).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= yaml kubeconfig watch frames status
FUZZ_DIR = tests/fuzz
FUZZ_WORK ?= $(CURDIR)/target/fuzz-corpus
FUZZ_FLAGS ?= --fuzz-dir $(FUZZ_DIR) -s none -a

fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz
	$(CARGO) +nightly fuzz build $(FUZZ_FLAGS)
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_WORK)/$$t; \
		echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
		$(CARGO) +nightly fuzz run $(FUZZ_FLAGS) $$t $(FUZZ_WORK)/$$t $(FUZZ_DIR)/seeds/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 -print_final_stats=1; \
	done

# kdebug against kubectl (see BENCHMARKS.md): the static release binary, fakecluster built
# fully optimised, then every figure for both tools; the released linux/amd64 artifact
# (make dist) too, for the figures its libc can change; prints the table and updates
# BENCHMARKS.md.
bench: release dist
	$(CARGO) build --profile bench-fake -p fakecluster
	python3 tests/bench/bench.py --kdebug $(RELEASE_BIN) --fakecluster $(FAKECLUSTER_BIN) \
		--artifact $(call dist_stage,amd64)/kdebug --kubectl $(KUBECTL) --out BENCHMARKS.md

# Issue 14's "done when" at fleet scale: the 1,000-pod audit at N=50 and N=100, five runs in
# a row of each on a fresh fakecluster, and peak RSS over 200, 1,000 and 5,000 pods (about 10
# minutes on 2 cores); writes its own block of BENCHMARKS.md (bench-fleet markers).
bench-fleet: release
	$(CARGO) build --profile bench-fake -p fakecluster
	python3 tests/bench/bench.py --kdebug $(RELEASE_BIN) --fakecluster $(FAKECLUSTER_BIN) \
		--kubectl $(KUBECTL) --only fleet,fleet_scale --fleet-runs 5 --scale-runs 3 \
		--section fleet --how "make bench-fleet" --out BENCHMARKS.md

# ---- Release artifacts --------------------------------------------------------------------
# `make dist [DIST_URL=https://.../v0.1.0]` builds kdebug for linux/amd64 and linux/arm64 with
# Debian's Rust (rustc-web; rustup cannot add targets here) into dist/: one tar.gz per
# platform (kdebug, LICENSE, README.md), SHA256SUMS, and the krew manifest kdebug.yaml whose
# URIs are DIST_URL/ARCHIVE. `make dist-check` checks them (tests/dist/check.sh).
# DIST_LIBC=musl (the default, README "Which libc") or DIST_LIBC=gnu (static glibc, stable
# flags only: the fallback for when the musl recipe's unstable flags break).
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
DIST_DIR ?= dist
DIST_URL ?= https://example.invalid/kdebug/releases/v$(VERSION)
DIST_LIBC ?= musl
DIST_WORK = $(abspath $(TARGET_DIR))/dist
DIST_RUSTC ?= /usr/bin/rustc
# Reproducible archives: their times are the last commit's.
DIST_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

# amd64 -> x86_64-unknown-linux-musl, linked by x86_64-linux-musl-gcc (Debian's musl-gcc
# wrappers; x86_64-linux-gnu-gcc and aarch64-linux-gnu-gcc for glibc); dist_ident is the
# triple as the cc crate's variables spell it (CC_x86_64_unknown_linux_musl).
dist_arch = $(if $(filter amd64,$1),x86_64,aarch64)
dist_triple = $(call dist_arch,$1)-unknown-linux-$(DIST_LIBC)
dist_ident = $(subst -,_,$(call dist_triple,$1))
dist_stage = $(DIST_WORK)/stage/linux-$1-$(DIST_LIBC)
dist_archive = kdebug-$(VERSION)-linux-$1.tar.gz

# The musl recipe's unstable part, in one place. Debian ships no musl std for Rust, so std is
# compiled from its source (rust-web-src) with cargo's -Zbuild-std, which a stable toolchain
# accepts only under RUSTC_BOOTSTRAP=1. Unstable flags change spelling between releases
# (1.96 made panic_immediate_abort a build error): when this breaks, DIST_LIBC=gnu still
# builds. link-self-contained=no links Debian's musl (rustc bundles none here); the musl std
# unwinds with LLVM's libunwind.a (libunwind-16-dev; for arm64 the package is unpacked, not
# installed: it conflicts with the amd64 one), which calls glibc's __fprintf_chk
# (src/musl_fortify.c supplies it). force-unwind-tables=no: the release build aborts on panic
# and unwinds nothing, so the tables are dead bytes (panic messages stay). Linked by LLVM's
# lld (lld-16) folding identical functions, as make release does: 28,864 bytes less on amd64;
# --no-dynamic-linker because lld, unlike GNU ld, would keep the musl-gcc wrapper's
# interpreter in a static binary (which then crashes at start).
DIST_UNWIND_amd64 = /usr/lib/llvm-16/lib
DIST_UNWIND_arm64 = $(DIST_WORK)/unwind-arm64/usr/lib/llvm-16/lib
ifeq ($(DIST_LIBC),musl)
DIST_ENV = RUSTC_BOOTSTRAP=1
DIST_BUILD_STD = -Zbuild-std=std,panic_abort
DIST_TEST_STD = -Zbuild-std
dist_libc_flags = -C link-self-contained=no -L $(DIST_UNWIND_$1) -C link-arg=$(DIST_WORK)/musl_fortify-$1.o
DIST_RELEASE_FLAGS = -C force-unwind-tables=no -C link-arg=-fuse-ld=lld -C link-arg=-B/usr/lib/llvm-16/bin \
	-C link-arg=-Wl$(comma)--icf=all$(comma)--no-dynamic-linker
DIST_PKGS = rustc-web rust-web-src musl-tools musl-dev:arm64 libunwind-16-dev lld-16 gcc-aarch64-linux-gnu
else ifeq ($(DIST_LIBC),gnu)
# Under qemu-user, glibc's posix_spawn (a vfork-style clone) becomes a fork, so a program that
# does not exist is a child exiting 127 instead of spawn's error, which plugin_errors checks.
# musl's std spawns with fork and a pipe for exec's error, and passes it under qemu too.
DIST_TEST_SKIP = --skip kubeconfig::exec::tests::plugin_errors
DIST_PKGS = rustc-web libstd-rust-web-dev:arm64 gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross
else
$(error DIST_LIBC must be musl or gnu, not "$(DIST_LIBC)")
endif
# Debian's cargo when there is no cargo at all (rustup's works as well).
DIST_PKGS += $(if $(shell command -v $(CARGO)),,cargo-web)
# The development build's static flags (make release), and the cross linker.
dist_rustflags = -C target-feature=+crt-static -C relocation-model=static \
	-C linker=$(call dist_arch,$1)-linux-$(DIST_LIBC)-gcc $(call dist_libc_flags,$1)
dist_cargo = env $(DIST_ENV) RUSTC=$(DIST_RUSTC) CARGO_TARGET_DIR=$(DIST_WORK)/cargo \
	CC_$(call dist_ident,$1)=$(call dist_arch,$1)-linux-$(DIST_LIBC)-gcc \
	AR_$(call dist_ident,$1)=$(call dist_arch,$1)-linux-gnu-ar $(CARGO)

# Debian packages a target needs: installed with apt-get when missing and we are root (the
# arm64 architecture added first), otherwise named, and make stops.
define apt_need
@missing=; for p in $1; do \
	dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
done; \
if [ -n "$$missing" ]; then \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "make $2 needs these Debian packages:$$missing"; \
		echo "install them as root (dpkg --add-architecture arm64; apt-get update; apt-get install$$missing)"; \
		exit 1; \
	fi; \
	echo "installing:$$missing"; \
	update=; \
	dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; update=1; }; \
	apt-cache show rustc-web >/dev/null 2>&1 || update=1; \
	if [ -n "$$update" ]; then apt-get update -q >/dev/null || exit 1; fi; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing || exit 1; \
fi
endef

dist-deps:
	$(call apt_need,$(DIST_PKGS),dist)
ifeq ($(DIST_LIBC),musl)
	@test -f $(DIST_UNWIND_arm64)/libunwind.a || { \
		mkdir -p $(DIST_WORK)/unwind-arm64 && cd $(DIST_WORK)/unwind-arm64 && rm -f ./*.deb && \
		apt-get download -q libunwind-16-dev:arm64 2>/dev/null && dpkg -x libunwind-16-dev_*_arm64.deb . ; } && \
		test -f $(DIST_UNWIND_arm64)/libunwind.a || { echo "make dist: could not unpack libunwind-16-dev:arm64"; exit 1; }
	x86_64-linux-musl-gcc -Os -c src/musl_fortify.c -o $(DIST_WORK)/musl_fortify-amd64.o
	aarch64-linux-musl-gcc -Os -c src/musl_fortify.c -o $(DIST_WORK)/musl_fortify-arm64.o
endif

# One platform: the static binary, staged with LICENSE and README.md (tests/size.rs reads the
# staged binary), then its archive.
dist_build = RUSTFLAGS="$(call dist_rustflags,$1) $(DIST_RELEASE_FLAGS)" $(call dist_cargo,$1) \
	build --release --target $(call dist_triple,$1) $(DIST_BUILD_STD) --bin kdebug
dist_package = rm -rf $(call dist_stage,$1) && mkdir -p $(call dist_stage,$1) && \
	cp $(DIST_WORK)/cargo/$(call dist_triple,$1)/release/kdebug LICENSE README.md $(call dist_stage,$1)/ && \
	touch -d @$(DIST_EPOCH) $(call dist_stage,$1)/* && \
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(DIST_EPOCH) \
		-C $(call dist_stage,$1) -cf - kdebug LICENSE README.md | gzip -9n > $(DIST_DIR)/$(call dist_archive,$1) && \
	echo "linux/$1 $(DIST_LIBC): $$(stat -c %s $(call dist_stage,$1)/kdebug) bytes in $(DIST_DIR)/$(call dist_archive,$1)"
# A platform of the krew manifest; its sha256 from SHA256SUMS.
dist_krew_platform = printf '%s\n' \
	'  - selector:' \
	'      matchLabels:' \
	'        os: linux' \
	'        arch: $1' \
	'    uri: $(DIST_URL)/$(call dist_archive,$1)' \
	"    sha256: $$(grep ' $(call dist_archive,$1)$$' $(DIST_DIR)/SHA256SUMS | cut -d' ' -f1)" \
	'    files:' \
	'    - from: kdebug' \
	'      to: .' \
	'    - from: LICENSE' \
	'      to: .' \
	'    bin: kdebug'

dist: dist-deps
	$(call dist_build,amd64)
	$(call dist_build,arm64)
	@mkdir -p $(DIST_DIR) && rm -f $(DIST_DIR)/kdebug-*.tar.gz $(DIST_DIR)/SHA256SUMS $(DIST_DIR)/kdebug.yaml
	@$(call dist_package,amd64)
	@$(call dist_package,arm64)
	@cd $(DIST_DIR) && sha256sum $(call dist_archive,amd64) $(call dist_archive,arm64) > SHA256SUMS
	@{ printf '%s\n' \
		'apiVersion: krew.googlecontainertools.github.com/v1alpha2' \
		'kind: Plugin' \
		'metadata:' \
		'  name: kdebug' \
		'spec:' \
		'  version: v$(VERSION)' \
		'  shortDescription: kubectl debug as one small static binary' \
		'  description: |' \
		'    kubectl debug as one static file: ephemeral debug containers, pod copies and' \
		'    node shells with the flags of kubectl 1.33, plus cleanup (--rm), the command'"'"'s' \
		'    exit code, fan-out over selectors, and kdebug cp for images without tar.' \
		'  platforms:' && \
	$(call dist_krew_platform,amd64) && \
	$(call dist_krew_platform,arm64); } > $(DIST_DIR)/kdebug.yaml
	@echo "$(DIST_DIR)/SHA256SUMS and $(DIST_DIR)/kdebug.yaml (URIs under $(DIST_URL))"

# The artifacts in dist/, checked as CI does: static, within tests/size.rs's limits, a smoke
# journey against fakecluster (arm64 under qemu-aarch64-static), SHA256SUMS and the manifest;
# then the unit tests built for arm64 and run under qemu.
DIST_QEMU = qemu-aarch64-static
# Optimised a little and without debug info: under qemu the unit tests' mutation loops took
# 330-440 s unoptimised, which CI's time cannot afford.
DIST_TEST_PROFILE = --config profile.test.opt-level=1 --config profile.test.debug=false
dist-check-deps:
	$(call apt_need,$(DIST_PKGS) qemu-user-static file binutils,dist-check)

dist-check: dist-check-deps
	$(CARGO) build -p fakecluster --quiet
	$(CARGO) test --test size --quiet
	tests/dist/check.sh $(DIST_DIR) $(DIST_WORK)/stage $(TARGET_DIR)/debug/fakecluster $(DIST_LIBC) $(DIST_QEMU)
	RUSTFLAGS="$(call dist_rustflags,arm64)" $(call dist_cargo,arm64) \
		test --target $(call dist_triple,arm64) $(DIST_TEST_STD) --lib \
		--config 'target.$(call dist_triple,arm64).runner="$(DIST_QEMU)"' $(DIST_TEST_PROFILE) \
		-- $(DIST_TEST_SKIP)
