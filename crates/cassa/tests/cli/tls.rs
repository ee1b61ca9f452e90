//! `cassa serve` over HTTPS by itself: the portal with `tls_cert` /
//! `tls_key`, the node listener checking pagoPA's client certificate
//! (`node_client_ca`), a renewed certificate taken on SIGHUP (a broken one
//! refused while the old one stays), and PostgreSQL verified through
//! `extra_ca_file` when the URL names no `sslrootcert`.

use std::process::Stdio;
use std::time::Duration;

use cassa_testkit::Backend;
use cassa_testkit::tls::TestCa;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::{Env, Server, announced, url_in};

/// The certificate the server presented on a fresh connection to `url`.
async fn presented(roots: &cassa_net::TrustedRoots, url: &str) -> Vec<u8> {
    let client = roots.http_client().tls_info(true).build().unwrap();
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("a TLS connection")
        .to_vec()
}

fn der(path: &std::path::Path) -> Vec<u8> {
    CertificateDer::from_pem_file(path).unwrap().to_vec()
}

async fn node_call(
    roots: &cassa_net::TrustedRoots,
    identity: Option<&cassa_testkit::tls::IssuedFiles>,
    url: &str,
    secret: &str,
) -> Result<(u16, String), String> {
    let tls = match identity {
        Some(files) => roots
            .client_config_presenting(&files.cert, &files.key)
            .unwrap(),
        None => roots.client_config(),
    };
    let client = cassa_net::http_client()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap();
    let response = client
        .post(url)
        .header("content-type", "text/xml; charset=utf-8")
        .header("SOAPAction", "\"paVerifyPaymentNotice\"")
        .header("Ocp-Apim-Subscription-Key", secret)
        .body("<x/>")
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok((
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    ))
}

pub async fn serves_https_and_checks_the_node_s_certificate(backend: Backend) {
    let env = Env::new(backend).await;
    let ca = TestCa::new("cassa CLI test CA");
    let served = ca.server("cassa");
    let pagopa = ca.client("pagopa-node");
    let other_ca = TestCa::new("someone else's CA");
    let stranger = other_ca.client("stranger");
    // One file for every private CA cassa trusts: ours, and PostgreSQL's.
    let trusted = env.data_dir.path().join("trusted-cas.pem");
    let mut pem = std::fs::read(ca.ca_file()).unwrap();
    if backend == Backend::Postgres {
        let postgres_ca = std::env::var("CASSA_TEST_POSTGRES_CA")
            .expect("CASSA_TEST_POSTGRES_CA: ./scripts/test.sh starts a TLS-only cluster");
        pem.extend(std::fs::read(postgres_ca).unwrap());
    }
    std::fs::write(&trusted, pem).unwrap();
    let secret = "a-node-secret-for-the-tls-test";
    let mut command = env.command(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--node-listen",
        "127.0.0.1:0",
    ]);
    if backend == Backend::Postgres {
        // The URL asks for verify-full but names no CA: extra_ca_file is it.
        let url = &env.db.url;
        let (base, query) = url.split_once('?').unwrap();
        let query: Vec<&str> = query
            .split('&')
            .filter(|p| !p.starts_with("sslrootcert="))
            .collect();
        assert!(query.contains(&"sslmode=verify-full"), "{url}");
        command.env("DATABASE_URL", format!("{base}?{}", query.join("&")));
    }
    let mut child = command
        .env("CASSA_EXTRA_CA_FILE", &trusted)
        .env("CASSA_TLS_CERT", &served.cert)
        .env("CASSA_TLS_KEY", &served.key)
        .env("CASSA_NODE_CLIENT_CA", ca.ca_file())
        .env("CASSA_NODE_AUTH_SECRET", secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (base, node_line) = announced(&mut child);
    let pid = child.id();
    let _server = Server(child);
    assert!(base.starts_with("https://"), "{base}");
    assert!(
        node_line.contains("certificate signed by node_client_ca"),
        "{node_line}"
    );
    let node = url_in(&node_line);
    assert!(node.starts_with("https://"), "{node}");

    let roots = cassa_net::TrustedRoots::load(Some(ca.ca_file())).unwrap();
    assert_eq!(
        presented(&roots, &format!("{base}/")).await,
        der(&served.cert)
    );

    // The node listener: only pagoPA's certificate gets as far as the fence.
    // Under TLS 1.3 the refusal reaches the client after its handshake:
    // it reads either the certificate_required alert or a closed
    // connection, depending on timing. Either way no HTTP answer comes.
    let anonymous = node_call(&roots, None, node, secret).await.unwrap_err();
    assert!(!anonymous.is_empty());
    let foreign = node_call(&roots, Some(&stranger), node, secret)
        .await
        .unwrap_err();
    assert!(!foreign.is_empty());
    let (status, body) = node_call(&roots, Some(&pagopa), node, secret)
        .await
        .unwrap();
    assert_eq!(
        status, 500,
        "past TLS and the fence, a broken request: {body}"
    );
    assert!(body.contains("faultstring"), "{body}");

    // A renewal replaces the files; SIGHUP makes new connections use it.
    let renewed = ca.server("cassa-renewed");
    std::fs::copy(&renewed.cert, &served.cert).unwrap();
    std::fs::copy(&renewed.key, &served.key).unwrap();
    hang_up(pid);
    let url = format!("{base}/");
    let mut now_presented = Vec::new();
    for _ in 0..100 {
        now_presented = presented(&roots, &url).await;
        if now_presented == der(&renewed.cert) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(now_presented, der(&renewed.cert), "the renewed certificate");

    // A half-written renewal is refused: the one in use stays.
    std::fs::write(&served.cert, "-----BEGIN CERTIFICATE-----\ntruncated").unwrap();
    hang_up(pid);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(presented(&roots, &url).await, der(&renewed.cert));
}

fn hang_up(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
