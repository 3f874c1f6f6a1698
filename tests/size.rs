//! The binaries stay small and static, each within its limit:
//! - the development build (`make release`, static glibc x86_64): at most 3.25 MiB
//!   (3,407,872 bytes). The limit was 3 MiB until the jump-host features (SOCKS5/HTTPS
//!   proxies, OIDC refresh, completion) and `kdebug cp` came; issue 15 allows 3.25 MiB;
//! - each release artifact of `make dist` (issue 22), staged in `target/dist/stage/`: at most
//!   2 MiB (2,097,152 bytes) for a musl one, the released kind; at most 3.25 MiB for the static
//!   glibc fallback (`DIST_LIBC=gnu`), which carries static glibc's resolver, stdio and iconv.
//!
//! BENCHMARKS.md says what each addition cost. A binary that was not built is skipped with a
//! message (plain `cargo test` builds neither), except under CI=true, where .ci/run builds
//! them all first and a missing one fails.

use std::path::{Path, PathBuf};
use std::process::Command;

const GLIBC_LIMIT: u64 = 3 * 1024 * 1024 + 256 * 1024;
const MUSL_LIMIT: u64 = 2 * 1024 * 1024;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The limit of a staged artifact, from its directory's name (`linux-ARCH-LIBC`).
fn artifact_limit(stage_name: &str) -> Option<u64> {
    let (_, libc) = stage_name.rsplit_once('-')?;
    match libc {
        "musl" => Some(MUSL_LIMIT),
        "gnu" => Some(GLIBC_LIMIT),
        _ => None,
    }
}

/// Checks `bin` against `limit` and that it is statically linked; false when it does not exist.
fn check(bin: &Path, limit: u64) -> bool {
    let Ok(meta) = std::fs::metadata(bin) else {
        return false;
    };
    let size = meta.len();
    println!("{}: {size} bytes (limit {limit})", bin.display());
    assert!(
        size <= limit,
        "{} is {size} bytes, more than {limit}",
        bin.display()
    );
    match Command::new("file").arg("-b").arg(bin).output() {
        Ok(out) => {
            let desc = String::from_utf8_lossy(&out.stdout);
            println!("file: {}", desc.trim());
            assert!(
                desc.contains("statically linked") || desc.contains("static-pie linked"),
                "{} is not statically linked: {}",
                bin.display(),
                desc.trim()
            );
        }
        Err(e) if in_ci() => panic!("`file` is not available ({e}) under CI=true"),
        Err(e) => println!("`file` is not available ({e}); static linking not checked"),
    }
    true
}

#[test]
fn release_binary_is_small_and_static() {
    let bin = target_dir().join("x86_64-unknown-linux-gnu/release/kdebug");
    if !check(&bin, GLIBC_LIMIT) {
        assert!(!in_ci(), "{} does not exist under CI=true", bin.display());
        println!(
            "skipped: {} does not exist (run `make release` to check its size)",
            bin.display()
        );
    }
}

#[test]
fn release_artifacts_are_small_and_static() {
    let stage = target_dir().join("dist/stage");
    for arch in ["amd64", "arm64"] {
        let mut found = false;
        for libc in ["musl", "gnu"] {
            let name = format!("linux-{arch}-{libc}");
            let limit = artifact_limit(&name).unwrap();
            found |= check(&stage.join(&name).join("kdebug"), limit);
        }
        if !found {
            assert!(
                !in_ci(),
                "no linux/{arch} artifact in {} under CI=true",
                stage.display()
            );
            println!(
                "skipped: no linux/{arch} artifact in {} (run `make dist` to check its size)",
                stage.display()
            );
        }
    }
}

#[test]
fn each_libc_has_its_limit() {
    assert_eq!(artifact_limit("linux-arm64-musl"), Some(2_097_152));
    assert_eq!(artifact_limit("linux-amd64-gnu"), Some(3_407_872));
    assert_eq!(artifact_limit("linux-amd64-uclibc"), None);
    assert_eq!(artifact_limit("linux"), None);
}
