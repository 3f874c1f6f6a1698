//! Integration tests: the real binary against the fake cluster.

mod attach;
mod completion;
mod connect;
mod converge;
mod cp;
mod fanout;
mod faults;
mod fleet;
mod hostshell;
mod journeys;
mod lifecycle;
mod oidc;
mod proxies;
mod pty;
mod real;
mod security;
mod util;

#[test]
fn version_prints_name_and_version() {
    let out = util::kdebug().arg("--version").output().unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.starts_with("kdebug v"), "{s}");
    // Then the platform and libc of the release artifact (this test is built for the same
    // target as the binary it runs), and `kdebug version` says the same.
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let libc = if cfg!(target_env = "musl") {
        "musl"
    } else {
        "glibc"
    };
    let want = format!(
        "kdebug v{} linux/{arch} {libc}\n",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(s, want);
    let verb = util::kdebug().arg("version").output().unwrap();
    assert!(verb.status.success());
    assert_eq!(String::from_utf8(verb.stdout).unwrap(), want);
}
