//! A `wss://` echo server: tokio-rustls in front of the tokio adapter, with a self-signed
//! certificate for `localhost` and `127.0.0.1` generated at start-up (rcgen) and written as PEM
//! for clients to trust.
//!
//! ```sh
//! cargo run --manifest-path examples/integrations/Cargo.toml --bin wss_server -- \
//!     127.0.0.1:9443 target/wss-cert.pem
//! python -c 'import ssl, asyncio, websockets ...'   # trust target/wss-cert.pem
//! ```

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_proto::Config;
use ws_proto::adapters::tokio::accept;
use ws_proto::message::Message;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9443".into());
    let cert_path = args.next().unwrap_or_else(|| "wss-cert.pem".into());

    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let certified = rcgen::generate_simple_self_signed(names)?;
    std::fs::write(&cert_path, certified.cert.pem())?;
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let tls = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)?;
    let acceptor = TlsAcceptor::from(Arc::new(tls));

    let listener = TcpListener::bind(&addr).await?;
    println!(
        "wss: listening on wss://{}/ (certificate in {cert_path})",
        listener.local_addr()?
    );
    loop {
        let (tcp, peer) = listener.accept().await?;
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(tls) => tls,
                Err(e) => return eprintln!("wss: {peer}: TLS: {e}"),
            };
            let mut ws = match accept(tls, Config::default()).await {
                Ok(ws) => ws,
                Err(e) => return eprintln!("wss: {peer}: handshake: {e}"),
            };
            while let Some(message) = ws.recv().await {
                let sent = match message {
                    Ok(m @ (Message::Text(_) | Message::Binary(_))) => ws.send(m).await,
                    Ok(_) => Ok(()),
                    Err(e) => Err(e),
                };
                if let Err(e) = sent {
                    return eprintln!("wss: {peer}: {e}");
                }
            }
        });
    }
}
