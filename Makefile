CARGO ?= cargo
RELEASE_TARGET = x86_64-unknown-linux-gnu
RELEASE_BIN = target/$(RELEASE_TARGET)/release/kdebug

.PHONY: build release test lint demo bench fuzz

build:
	$(CARGO) build --workspace

release:
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --release --target $(RELEASE_TARGET) --bin kdebug
	@printf 'size of %s: %s bytes\n' $(RELEASE_BIN) $$(stat -c %s $(RELEASE_BIN))

test:
	$(CARGO) test --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
