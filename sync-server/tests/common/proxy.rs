//! A TCP proxy on loopback that cuts a connection: for the tests of resumable uploads.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A TCP proxy on loopback that forwards both ways and, on its first connection only, cuts
/// both directions after `cut_after` client→server bytes. Counts each connection's bytes.
pub struct CutProxy {
    addr: String,
    up: Arc<Mutex<Vec<u64>>>,
}

impl CutProxy {
    pub fn start(target: String, cut_after: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let up: Arc<Mutex<Vec<u64>>> = Arc::default();
        let counters = up.clone();
        let accepted = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let n = accepted.fetch_add(1, Ordering::SeqCst);
                counters.lock().unwrap().push(0);
                let limit = if n == 0 { cut_after } else { u64::MAX };
                let (counters, target) = (counters.clone(), target.clone());
                std::thread::spawn(move || relay(client, &target, n, limit, &counters));
            }
        });
        Self { addr, up }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn up_bytes(&self) -> Vec<u64> {
        self.up.lock().unwrap().clone()
    }
}

fn relay(mut client: TcpStream, target: &str, n: usize, limit: u64, counters: &Mutex<Vec<u64>>) {
    let Ok(mut server) = TcpStream::connect(target) else {
        return;
    };
    let (mut server_read, mut client_write) =
        (server.try_clone().unwrap(), client.try_clone().unwrap());
    let down = std::thread::spawn(move || {
        let _ = std::io::copy(&mut server_read, &mut client_write);
        let _ = client_write.shutdown(Shutdown::Write);
    });
    let mut forwarded = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let read = match client.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = server.shutdown(Shutdown::Write);
                break;
            }
            Ok(k) => k,
        };
        let allowed = (limit - forwarded).min(read as u64) as usize;
        if server.write_all(&buf[..allowed]).is_err() {
            break;
        }
        forwarded += allowed as u64;
        counters.lock().unwrap()[n] = forwarded;
        if forwarded == limit {
            // The cable is pulled: both directions die mid-request.
            let _ = server.shutdown(Shutdown::Both);
            let _ = client.shutdown(Shutdown::Both);
            break;
        }
    }
    let _ = down.join();
}
