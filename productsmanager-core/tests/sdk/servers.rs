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
        Self::start_with(folder, test, "")
    }

    /// The same server with explicit FTPS (`AUTH TLS`) required, under a certificate for 127.0.0.1 signed by a test
    /// CA made with `openssl`; returns the server and the CA's PEM file (the trust anchor a client needs).
    pub(crate) fn start_tls(folder: &Path, test: &str) -> Option<(Self, PathBuf)> {
        let file = |name: &str| folder.join(name);
        let openssl = |args: &[&str], files: &[PathBuf]| {
            // Each `{}` in `args` is replaced by the next file.
            let mut files = files.iter();
            let args: Vec<std::ffi::OsString> = args
                .iter()
                .map(|a| if *a == "{}" { files.next().unwrap().as_os_str().to_owned() } else { a.into() })
                .collect();
            let made = Command::new("openssl").args(&args).stdout(Stdio::null()).stderr(Stdio::null()).status();
            assert!(made.unwrap().success(), "openssl {args:?} failed");
        };
        std::fs::write(file("ftps-ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
            .unwrap();
        let ca = ["-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=pm-test-ca", "-keyout", "{}"];
        openssl(&[&["req"], &ca[..], &["-out", "{}"]].concat(), &[file("ca-key.pem"), file("ca.pem")]);
        let csr = ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "{}", "-out", "{}"];
        openssl(&csr, &[file("ftps-key.pem"), file("ftps.csr")]);
        let sign = ["x509", "-req", "-in", "{}", "-CA", "{}", "-CAkey", "{}", "-CAcreateserial", "-days", "1"];
        openssl(
            &[&sign[..], &["-extfile", "{}", "-out", "{}"]].concat(),
            &[file("ftps.csr"), file("ca.pem"), file("ca-key.pem"), file("ftps-ext.cnf"), file("ftps-cert.pem")],
        );
        let tls = format!(
            "ssl_enable=YES\nallow_anon_ssl=YES\nforce_anon_logins_ssl=YES\nforce_anon_data_ssl=YES\n\
             ssl_sslv2=NO\nssl_sslv3=NO\nrequire_ssl_reuse=NO\nrsa_cert_file={}\nrsa_private_key_file={}\n",
            file("ftps-cert.pem").display(),
            file("ftps-key.pem").display()
        );
        Some((Self::start_with(folder, test, &tls)?, file("ca.pem")))
    }

    fn start_with(folder: &Path, test: &str, extra_config: &str) -> Option<Self> {
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
                 secure_chroot_dir={empty}\nxferlog_enable=NO\nvsftpd_log_file={log}\n{extra_config}",
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

/// A dovecot serving IMAP (no TLS) for one user with a password, mail in Maildir folders under the test's folder.
pub(crate) struct ImapServer {
    child: Child,
    pub(crate) port: u16,
    /// The user's Maildir (INBOX); other mailboxes are `.<name>` inside it.
    pub(crate) maildir: PathBuf,
    owner: (u32, u32),
    delivered: usize,
    /// Its own folder, outside the SDK's data folder (which is its owner's only): dovecot's login and auth
    /// processes, running as other users, read the password file and the mail in it.
    _folder: tempfile::TempDir,
}

impl ImapServer {
    pub(crate) fn start(test: &str, user: &str, password: &str) -> Option<Self> {
        let program = server_program("dovecot", test)?;
        let owner = account("nobody");
        let folder = tempfile::Builder::new().prefix("pm-imap-").tempdir().unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(folder.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let base = folder.path().join("imap");
        let maildir = base.join("mail").join(user);
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        for dir in [base.join("mail"), maildir.clone(), maildir.join("cur"), maildir.join("new"), maildir.join("tmp")] {
            chown(&dir, owner);
        }
        let users = base.join("users");
        std::fs::write(&users, format!("{user}:{{PLAIN}}{password}\n")).unwrap();
        let port = free_port();
        let log = base.join("dovecot.log");
        let config = base.join("dovecot.conf");
        std::fs::write(
            &config,
            format!(
                "base_dir = {base}/run\nstate_dir = {base}/state\nlog_path = {log}\ninstance_name = pm-test-{port}\n\
                 protocols = imap\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n\
                 auth_mechanisms = plain login\nmail_location = maildir:{base}/mail/%u\nfirst_valid_uid = 1\n\
                 passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {users}\n}}\n\
                 userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={base}/mail/%u\n}}\n\
                 service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
                 inet_listener imaps {{\n    port = 0\n  }}\n}}\nservice anvil {{\n  chroot =\n}}\n",
                base = base.display(),
                log = log.display(),
                users = users.display(),
                uid = owner.0,
                gid = owner.1,
            ),
        )
        .unwrap();
        let child = Command::new(program)
            .args(["-F", "-c"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port, "dovecot", &log);
        Some(ImapServer { child, port, maildir, owner, delivered: 0, _folder: folder })
    }

    /// Delivers a message into INBOX, as a mail delivery agent does (a file in the Maildir's `new`).
    pub(crate) fn deliver(&mut self, message: &str) {
        self.delivered += 1;
        let name = format!("{}.M{}P{}.pm-test", 1_700_000_000 + self.delivered, self.delivered, std::process::id());
        let staged = self.maildir.join("tmp").join(&name);
        std::fs::write(&staged, message.replace('\n', "\r\n")).unwrap();
        chown(&staged, self.owner);
        std::fs::rename(&staged, self.maildir.join("new").join(&name)).unwrap();
    }

    /// Messages of a mailbox (`INBOX` or another one) as Maildir file names, which carry the flags (`:2,S` = seen).
    pub(crate) fn messages(&self, mailbox: &str) -> Vec<String> {
        let folder = if mailbox == "INBOX" { self.maildir.clone() } else { self.maildir.join(format!(".{mailbox}")) };
        let mut names = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(folder.join(sub)) {
                names.extend(entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()));
            }
        }
        names
    }
}

impl Drop for ImapServer {
    fn drop(&mut self) {
        // SIGTERM lets dovecot's master stop its login and auth processes.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}
