//! The oidc auth-provider with refresh (issue 16), against a fake issuer on loopback
//! (discovery and token endpoint, plain HTTP).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use base64::Engine;

use crate::util::Env;

/// One request the issuer saw: method, path, the Authorization header and the body.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    auth: String,
    body: String,
}

struct Issuer {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn jwt(exp: u64, who: &str) -> String {
    let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.c2ln",
        b(r#"{"alg":"RS256"}"#),
        b(&format!(r#"{{"exp":{exp},"sub":"{who}"}}"#))
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Serves discovery and the token endpoint; `token_reply` is (status line, JSON body).
fn issuer(token_reply: (&'static str, String)) -> Issuer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (log, base) = (seen.clone(), url.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            let head_end = loop {
                let n = conn.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break None;
                }
                raw.extend_from_slice(&buf[..n]);
                if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(i);
                }
            };
            let Some(head_end) = head_end else { continue };
            let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
            let header = |name: &str| {
                head.lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                    })
                    .unwrap_or_default()
            };
            let len: usize = header("content-length").parse().unwrap_or(0);
            while raw.len() < head_end + 4 + len {
                let n = conn.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                raw.extend_from_slice(&buf[..n]);
            }
            let mut first = head.lines().next().unwrap_or("").split(' ');
            let method = first.next().unwrap_or("").to_string();
            let path = first.next().unwrap_or("").to_string();
            let body = String::from_utf8_lossy(&raw[head_end + 4..]).into_owned();
            log.lock().unwrap().push(Seen {
                method: method.clone(),
                path: path.clone(),
                auth: header("authorization"),
                body,
            });
            let (status, reply) = match path.as_str() {
                "/.well-known/openid-configuration" => (
                    "200 OK",
                    format!(r#"{{"issuer":"{base}","token_endpoint":"{base}/token"}}"#),
                ),
                "/token" => (token_reply.0, token_reply.1.clone()),
                _ => ("404 Not Found", "{}".to_string()),
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    Issuer { url, seen }
}

const OLD_REFRESH: &str = "s3cr3t-old-refresh-QX7";
const CLIENT_SECRET: &str = "s3cr3t-client-QX7";

/// A kubeconfig whose user `me` has an expired id-token; other users and comments around.
fn write_kubeconfig(env: &Env, issuer: &str, old_id: &str) -> (std::path::PathBuf, String) {
    let ca = base64::engine::general_purpose::STANDARD.encode(env.cluster.ca_pem().unwrap());
    let text = format!(
        "# managed by hand\napiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: me\n    namespace: default\ncurrent-context: c\nusers:\n- name: someone-else\n  user:\n    token: not-this-one\n- name: me\n  user:\n    auth-provider:\n      name: oidc\n      config:\n        client-id: kdebug  # the CLI client\n        client-secret: {CLIENT_SECRET}\n        id-token: {old_id}\n        idp-issuer-url: {issuer}\n        refresh-token: \"{OLD_REFRESH}\"\n",
        server = env.cluster.url()
    );
    let path = env.dir.write("oidc-kubeconfig", &text);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    (path, text)
}

fn changed_lines(before: &str, after: &str) -> Vec<(String, String)> {
    assert_eq!(before.lines().count(), after.lines().count(), "{after}");
    before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn an_expired_id_token_is_refreshed_once_used_and_written_back() {
    let env = Env::new("oidc-refresh");
    let old_id = jwt(now() - 3600, "old");
    let new_id = jwt(now() + 3600, "new");
    env.cluster.add_token(&new_id);
    let iss = issuer((
        "200 OK",
        format!(
            r#"{{"access_token":"at","token_type":"Bearer","expires_in":3600,"id_token":"{new_id}","refresh_token":"s3cr3t-new-refresh-QX7"}}"#
        ),
    ));
    let (kc, before) = write_kubeconfig(&env, &iss.url, &old_id);
    let kc_s = kc.to_str().unwrap();
    let r = env.run(&[
        "--kubeconfig",
        kc_s,
        "-v=9",
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
    ]);
    r.assert_code(0);
    // Nothing secret in the trace: not the tokens, old or new, nor the client secret.
    for secret in [
        old_id.as_str(),
        new_id.as_str(),
        OLD_REFRESH,
        "s3cr3t-new-refresh-QX7",
        CLIENT_SECRET,
    ] {
        assert!(
            !r.stderr().contains(secret) && !r.stdout().contains(secret),
            "{secret} leaked: {}",
            r.dump()
        );
    }
    // The API server saw the new token (fake-admin through add_token), never a rejected one.
    let reqs = env.cluster.requests();
    assert!(!reqs.is_empty());
    assert!(reqs.iter().all(|q| q["auth"]["ok"] == true), "{reqs:#?}");
    // One discovery, one refresh, with the grant and the client's Basic credentials.
    let seen = iss.seen.lock().unwrap().clone();
    let paths: Vec<_> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        paths,
        ["GET /.well-known/openid-configuration", "POST /token"]
    );
    assert_eq!(
        seen[1].body,
        format!("grant_type=refresh_token&refresh_token={OLD_REFRESH}")
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("kdebug:{CLIENT_SECRET}"));
    assert_eq!(seen[1].auth, format!("Basic {basic}"));
    // Only the two token lines changed, the mode kept.
    let after = std::fs::read_to_string(&kc).unwrap();
    assert_eq!(
        changed_lines(&before, &after),
        [
            (
                format!("        id-token: {old_id}"),
                format!("        id-token: {new_id}")
            ),
            (
                format!("        refresh-token: \"{OLD_REFRESH}\""),
                "        refresh-token: s3cr3t-new-refresh-QX7".to_string()
            ),
        ]
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&kc).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The next run uses the stored token: no more issuer requests.
    env.run(&["list", "--kubeconfig", kc_s]).assert_code(0);
    assert_eq!(iss.seen.lock().unwrap().len(), 2);
}

#[test]
fn a_failed_refresh_gives_the_issuers_error_and_leaves_the_file() {
    let env = Env::new("oidc-fail");
    let iss = issuer((
        "400 Bad Request",
        r#"{"error":"invalid_grant","error_description":"Token is not active"}"#.to_string(),
    ));
    let (kc, before) = write_kubeconfig(&env, &iss.url, &jwt(now() - 60, "old"));
    let r = env.run(&["list", "--kubeconfig", kc.to_str().unwrap(), "-v=9"]);
    r.assert_code(1).assert_stderr_contains(
        r#"failed to refresh token: oauth2: "invalid_grant" "Token is not active""#,
    );
    assert!(!r.stderr().contains(OLD_REFRESH) && !r.stderr().contains(CLIENT_SECRET));
    assert_eq!(std::fs::read_to_string(&kc).unwrap(), before);
    assert!(
        env.cluster.requests().is_empty(),
        "nothing reached the API server"
    );
}

#[test]
fn a_read_only_kubeconfig_is_not_written_and_the_run_warns() {
    let env = Env::new("oidc-ro");
    let new_id = jwt(now() + 3600, "new");
    env.cluster.add_token(&new_id);
    let iss = issuer((
        "200 OK",
        format!(r#"{{"access_token":"at","token_type":"Bearer","id_token":"{new_id}"}}"#),
    ));
    let (kc, before) = write_kubeconfig(&env, &iss.url, &jwt(now() - 60, "old"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&kc, std::fs::Permissions::from_mode(0o400)).unwrap();
    let r = env.run(&["list", "--kubeconfig", kc.to_str().unwrap()]);
    r.assert_code(0)
        .assert_stderr_contains("warning: could not write the refreshed OIDC tokens back");
    assert_eq!(std::fs::read_to_string(&kc).unwrap(), before);
    // Given on stdin (a pipe): the same, nothing to write to.
    let text = std::fs::read_to_string(&kc).unwrap();
    let r = env.run_with_stdin(&["list", "--kubeconfig", "/dev/stdin"], Some(&text));
    r.assert_code(0)
        .assert_stderr_contains("is not a regular file");
}
