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
}
