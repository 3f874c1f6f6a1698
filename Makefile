CARGO ?= cargo
RELEASE_TARGET = x86_64-unknown-linux-gnu
TARGET_DIR = $(or $(CARGO_TARGET_DIR),target)
RELEASE_BIN = $(TARGET_DIR)/$(RELEASE_TARGET)/release/kdebug
FAKECLUSTER_BIN = $(TARGET_DIR)/bench-fake/fakecluster
KUBECTL ?= /usr/lib/google-cloud-sdk/bin/kubectl.1.33

.PHONY: build release test lint demo bench bench-fleet fuzz

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
# fully optimised, then every figure for both tools; prints the table and updates BENCHMARKS.md.
bench: release
	$(CARGO) build --profile bench-fake -p fakecluster
	python3 tests/bench/bench.py --kdebug $(RELEASE_BIN) --fakecluster $(FAKECLUSTER_BIN) \
		--kubectl $(KUBECTL) --out BENCHMARKS.md

# Issue 14's "done when" at fleet scale: the 1,000-pod audit at N=50 and N=100, five runs in
# a row of each on a fresh fakecluster, and peak RSS over 200, 1,000 and 5,000 pods (about 10
# minutes on 2 cores); writes its own block of BENCHMARKS.md (bench-fleet markers).
bench-fleet: release
	$(CARGO) build --profile bench-fake -p fakecluster
	python3 tests/bench/bench.py --kdebug $(RELEASE_BIN) --fakecluster $(FAKECLUSTER_BIN) \
		--kubectl $(KUBECTL) --only fleet,fleet_scale --fleet-runs 5 --scale-runs 3 \
		--section fleet --how "make bench-fleet" --out BENCHMARKS.md
