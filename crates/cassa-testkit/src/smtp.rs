//! An SMTP sink on loopback: a real listener speaking enough SMTP
//! (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for a client
//! such as lettre to deliver to it, keeping every message it accepts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as delivered.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub from: String,
    pub to: Vec<String>,
    /// The message (headers and body) with the dot-stuffing undone.
    pub data: Vec<u8>,
}

pub struct SmtpSink {
    /// `smtp://127.0.0.1:<port>`.
    pub url: String,
    delivered: Arc<Mutex<Vec<Delivered>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("smtp://{}", listener.local_addr().expect("an address"));
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let store = delivered.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, store.clone()));
            }
        });
        SmtpSink { url, delivered }
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.delivered.lock().expect("sink lock").clone()
    }

    /// Waits until at least `count` messages arrived (at most 10 s).
    pub async fn wait_for(&self, count: usize) -> Vec<Delivered> {
        for _ in 0..500 {
            let now = self.delivered();
            if now.len() >= count {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("expected {count} messages, got {:?}", self.delivered());
    }
}

async fn session(socket: tokio::net::TcpStream, store: Arc<Mutex<Vec<Delivered>>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    let mut reply = async |text: &str| write.write_all(format!("{text}\r\n").as_bytes()).await;
    if reply("220 sink.localhost ESMTP cassa-testkit")
        .await
        .is_err()
    {
        return;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-sink.localhost\r\n250 8BITMIME".to_owned(),
            "HELO" | "NOOP" => "250 OK".to_owned(),
            "RSET" => {
                from.clear();
                to.clear();
                "250 OK".to_owned()
            }
            "MAIL" => {
                from = address(&command);
                "250 OK".to_owned()
            }
            "RCPT" => {
                to.push(address(&command));
                "250 OK".to_owned()
            }
            "DATA" => {
                if reply("354 end with <CRLF>.<CRLF>").await.is_err() {
                    return;
                }
                let mut data = Vec::new();
                loop {
                    let mut raw = Vec::new();
                    if lines.read_until(b'\n', &mut raw).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if raw == b".\r\n" || raw == b".\n" {
                        break;
                    }
                    let unstuffed = if raw.starts_with(b"..") {
                        &raw[1..]
                    } else {
                        &raw[..]
                    };
                    data.extend_from_slice(unstuffed);
                }
                store.lock().expect("sink lock").push(Delivered {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                });
                "250 OK queued".to_owned()
            }
            "QUIT" => {
                let _ = reply("221 bye").await;
                return;
            }
            _ => "502 command not implemented".to_owned(),
        };
        if reply(&answer).await.is_err() {
            return;
        }
    }
}

/// The address in `MAIL FROM:<a@b>` or `RCPT TO:<a@b>`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}
