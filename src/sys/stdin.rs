//! The process's one reader of stdin. A session takes the input for as long as it lasts and
//! gives it back; what it left unread stays for the next one, so a second `-i` target in one
//! run gets the input that follows (a reader thread per session would keep stdin locked, and
//! eat the next session's first chunk, after its own session ended).

use std::io::Read;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Mutex, MutexGuard, OnceLock};

pub enum Chunk {
    Data(Vec<u8>),
    /// stdin ended (or failed). Once it was taken, the channel is disconnected: the same.
    Eof,
}

/// The input while a session holds it.
pub type Input = MutexGuard<'static, Receiver<Chunk>>;

static READER: OnceLock<Mutex<Receiver<Chunk>>> = OnceLock::new();

/// Takes the input (the reader starts on first use); dropping it gives it back.
pub fn take() -> Input {
    READER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let mut stdin = std::io::stdin().lock();
                let mut buf = vec![0u8; 32 * 1024];
                loop {
                    match stdin.read(&mut buf) {
                        Ok(0) | Err(_) => {
                            let _ = tx.send(Chunk::Eof);
                            return;
                        }
                        Ok(n) => {
                            if tx.send(Chunk::Data(buf[..n].to_vec())).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
            Mutex::new(rx)
        })
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}
