//! Real servers the source tests start on loopback ports: vsftpd (FTP) and dovecot (IMAP).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use productsmanager_core::testing::{free_port, server_program};

/// Waits until `port` accepts connections (the server is up), up to 10 s.
fn wait_for_port(port: u16, server: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        let log = std::fs::read_to_string(log).unwrap_or_default();
        assert!(Instant::now() < deadline, "{server} did not start on port {port}: {log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The uid and gid of a system account (`ftp`, `dovecot`), from `id`.
fn account(name: &str) -> (u32, u32) {
    let id = |flag: &str| {
        let out = Command::new("id").args([flag, name]).output().unwrap();
        assert!(out.status.success(), "no system account {name}");
        String::from_utf8(out.stdout).unwrap().trim().parse::<u32>().unwrap()
    };
    (id("-u"), id("-g"))
}

fn chown(path: &Path, (uid, gid): (u32, u32)) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

/// A vsftpd serving `root` to anonymous logins (any password), with `root/outgoing` writable (delete, rename).
pub(crate) struct FtpServer {
    child: Child,
    pub(crate) port: u16,
    pub(crate) outgoing: PathBuf,
}

impl FtpServer {
    pub(crate) fn start(folder: &Path, test: &str) -> Option<Self> {
        let program = server_program("vsftpd", test)?;
        let root = folder.join("ftp-root");
        let outgoing = root.join("outgoing");
        let empty = folder.join("vsftpd-empty");
        std::fs::create_dir_all(&outgoing).unwrap();
        std::fs::create_dir_all(&empty).unwrap();
        chown(&outgoing, account("ftp"));
        let port = free_port();
        let passive = free_port();
        let log = folder.join("vsftpd.log");
        let config = folder.join("vsftpd.conf");
        std::fs::write(
            &config,
            format!(
                "listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.0.1\nlisten_port={port}\nbackground=NO\n\
                 anonymous_enable=YES\nlocal_enable=NO\nanon_root={root}\nwrite_enable=YES\nanon_upload_enable=YES\n\
                 anon_mkdir_write_enable=YES\nanon_other_write_enable=YES\nanon_umask=022\npasv_enable=YES\n\
                 pasv_min_port={passive}\npasv_max_port={passive}\npasv_address=127.0.0.1\nseccomp_sandbox=NO\n\
                 secure_chroot_dir={empty}\nxferlog_enable=NO\nvsftpd_log_file={log}\n",
                root = root.display(),
                empty = empty.display(),
                log = log.display(),
            ),
        )
        .unwrap();
        let child = Command::new(program).arg(&config).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        wait_for_port(port, "vsftpd", &log);
        Some(FtpServer { child, port, outgoing })
    }

    /// A folder under `outgoing/` the server may write in.
    pub(crate) fn folder(&self, name: &str) -> PathBuf {
        let path = self.outgoing.join(name);
        std::fs::create_dir_all(&path).unwrap();
        chown(&path, account("ftp"));
        path
    }
}

impl Drop for FtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
