# The project's tasks. CI runs `make test` exactly as a developer does (see .ci/run).
# Every target is safe to re-run; cargo and npm only redo what changed.

CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
export RINGSIDE_DESKTOP_BIN ?= $(TARGET_DIR)/debug/ringside-desktop

.PHONY: test fmt fmt-check ui-deps ui prism-deps clippy build test-rust test-ui generated-check run

## test: everything CI checks — format, lints, Rust tests (real keychain, real desktop app under Xvfb), UI tests
test: fmt-check clippy build test-rust test-ui generated-check
	@echo "make test: all checks passed"

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

ui-deps: ui/node_modules/.package-lock.json

ui/node_modules/.package-lock.json: ui/package-lock.json ui/package.json
	npm --prefix ui ci --no-audit --no-fund

# Stoplight Prism (tools/prism): the mock server the AMS connector contract tests run against the
# vendors' OpenAPI files in ../shared/specs, validating every request the connectors send.
prism-deps: tools/prism/node_modules/.package-lock.json

tools/prism/node_modules/.package-lock.json: tools/prism/package-lock.json tools/prism/package.json
	npm --prefix tools/prism ci --no-audit --no-fund

## ui: build the desktop frontend into ui/dist (the Tauri build embeds it)
ui: ui-deps
	npm --prefix ui run build

clippy: ui
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

build: ui
	$(CARGO) build --workspace --all-targets --locked

# The keychain tests need a Secret Service (.ci/with-keyring starts a private one); the desktop
# end-to-end test needs an X display (xvfb-run provides one); the AMS contract tests need Prism.
test-rust: build prism-deps
	xvfb-run -a -s "-screen 0 1280x800x24" .ci/with-keyring $(CARGO) test --workspace --locked --no-fail-fast

test-ui: ui-deps
	npm --prefix ui test

# ui/src/generated/ is written by `cargo test -p ringside-core` from the Rust wire types; a diff
# here means someone changed a wire type without committing the regenerated TypeScript.
generated-check:
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git diff --exit-code --stat -- ui/src/generated || { echo "ui/src/generated is stale: commit the regenerated files"; exit 1; }; \
	  test -z "$$(git ls-files --others --exclude-standard ui/src/generated)" || { echo "new generated TypeScript files are not committed"; exit 1; }; \
	fi

## run: the demo — a relay on loopback over a fresh temp folder, a demo org and invitations, a
## call every few seconds (no network needed). DEMO_ARGS passes flags: make run DEMO_ARGS="--calls 5"
## (the relay on real data is `cargo run -p ringside-relay -- serve`)
DEMO_ARGS ?=
run:
	$(CARGO) run -p ringside-relay -- demo $(DEMO_ARGS)

## bench-desktop: the desktop app's figures — launch → connected, pop render, memory after 1,000
## calls — on release builds under Xvfb against the real relay (docs/benchmarks.md#the-desktop-app).
.PHONY: bench-desktop
bench-desktop: ui
	$(CARGO) build --release --locked -p ringside-desktop -p ringside-relay
	RINGSIDE_DESKTOP_BIN=$(TARGET_DIR)/release/ringside-desktop RINGSIDE_RELAY_BIN=$(TARGET_DIR)/release/ringside-relay \
	  xvfb-run -a -s "-screen 0 1280x800x24" .ci/with-keyring $(CARGO) bench --locked -p ringside-e2e --bench desktop

## bench: the relay's figures beside bare baselines measured in the same run (docs/benchmarks.md);
## BENCH_ARGS=--quick for a ~30 s smoke run. Not part of `make test`.
BENCH_ARGS ?=
.PHONY: bench
bench:
	$(CARGO) build --release --locked -p ringside-relay -p ringside-bench
	$(TARGET_DIR)/release/ringside-bench $(BENCH_ARGS)
