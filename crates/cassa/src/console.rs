//! What the CLI says to whoever started it.

/// Writes to stdout for whoever started us; a closed stdout must not stop
/// the server (println! would panic).
pub fn announce(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
