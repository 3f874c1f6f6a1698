CARGO ?= cargo
RELEASE_TARGET = x86_64-unknown-linux-gnu
TARGET_DIR = $(or $(CARGO_TARGET_DIR),target)
RELEASE_BIN = $(TARGET_DIR)/$(RELEASE_TARGET)/release/kdebug
FAKECLUSTER_BIN = $(TARGET_DIR)/bench-fake/fakecluster
KUBECTL ?= /usr/lib/google-cloud-sdk/bin/kubectl.1.33

.PHONY: build release test lint demo bench fuzz

build:
	$(CARGO) build --workspace

# Static and not position-independent (like kubectl): no relocations to carry or apply.
release:
	RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static" $(CARGO) build --release --target $(RELEASE_TARGET) --bin kdebug
	@printf 'size of %s: %s bytes\n' $(RELEASE_BIN) $$(stat -c %s $(RELEASE_BIN))

test:
	$(CARGO) test --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# kdebug against kubectl (see BENCHMARKS.md): the static release binary, fakecluster built
# fully optimised, then every figure for both tools; prints the table and updates BENCHMARKS.md.
bench: release
	$(CARGO) build --profile bench-fake -p fakecluster
	python3 tests/bench/bench.py --kdebug $(RELEASE_BIN) --fakecluster $(FAKECLUSTER_BIN) \
		--kubectl $(KUBECTL) --out BENCHMARKS.md
