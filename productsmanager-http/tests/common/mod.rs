//! What the HTTP test binaries share: a real server on 127.0.0.1:0 and a small HTTP/1.1 client over raw TCP
//! (so the tests see exactly the bytes the server sends).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use productsmanager_core::Sdk;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Where requests go, and the bearer credential they carry (none when empty).
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub socket: std::net::SocketAddr,
    pub bearer: &'static str,
}

impl Endpoint {
    /// The same server, without credentials.
    pub fn anonymous(self) -> Self {
        Endpoint { bearer: "", ..self }
    }

    /// The same server, with another credential.
    pub fn with(self, bearer: &str) -> Self {
        Endpoint { bearer: Box::leak(bearer.to_string().into_boxed_str()), ..self }
    }
}

/// A server running on a free loopback port until `stop` is called. `addr` carries an API key of an admin, so
/// tests of the catalog routes pass the permission checks; `addr.anonymous()` carries none.
pub struct TestServer {
    pub addr: Endpoint,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

/// An admin with an API key holding every permission; the key's secret.
pub async fn admin_key(sdk: &Sdk) -> String {
    use productsmanager_core::auth::{NewApiKey, NewUser, PERMISSIONS};
    let email = format!("admin-{}@example.com", uuid::Uuid::new_v4().simple());
    let user =
        NewUser { email, display_name: None, password: "test admin password".into(), roles: vec!["admin".into()] };
    let user = sdk.auth().create_user(user).await.unwrap();
    let scopes = PERMISSIONS.iter().map(|(code, _)| code.to_string()).collect();
    let key = NewApiKey { user_id: user.id, name: "tests".into(), scopes, expires_at: None };
    sdk.auth().create_api_key(key, None).await.unwrap().secret
}

impl TestServer {
    pub async fn start(sdk: Sdk) -> Self {
        let bearer: &'static str = Box::leak(admin_key(&sdk).await.into_boxed_str());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = Endpoint { socket: listener.local_addr().unwrap(), bearer };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(productsmanager_http::serve(listener, sdk, async move {
            let _ = stopped.await;
        }));
        TestServer { addr, stop: Some(stop), task }
    }

    /// Stops accepting, lets in-flight requests finish, and returns the server's result.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.unwrap()
    }
}

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A GET over a fresh connection.
pub async fn get(addr: Endpoint, path: &str, extra_headers: &str) -> Reply {
    request(addr, "GET", path, extra_headers, None).await
}

/// One request over a fresh connection (`Connection: close`, so the body ends at EOF), with a JSON body if given.
pub async fn request(addr: Endpoint, method: &str, path: &str, extra_headers: &str, body: Option<&str>) -> Reply {
    let mut stream = TcpStream::connect(addr.socket).await.unwrap();
    let body_headers = match body {
        Some(body) => format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()),
        None => String::new(),
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{}{extra_headers}{body_headers}\r\n{}",
        addr.socket,
        authorization(addr),
        body.unwrap_or("")
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect::<Vec<_>>();
    let reply = Reply { status, headers, body: String::new() };
    if reply.header("content-encoding").is_some() {
        return reply; // compressed: the tests look at the headers only
    }
    let body = std::str::from_utf8(&raw[end + 4..]).unwrap();
    let chunked = reply.header("transfer-encoding") == Some("chunked");
    Reply { body: if chunked { dechunk(body) } else { body.to_string() }, ..reply }
}

/// The `Authorization` header line of `addr`'s credential, if any.
pub fn authorization(addr: Endpoint) -> String {
    if addr.bearer.is_empty() { String::new() } else { format!("Authorization: Bearer {}\r\n", addr.bearer) }
}

/// A `multipart/form-data` POST: (name, file name, content) parts.
pub async fn post_form(addr: Endpoint, path: &str, parts: &[(&str, Option<&str>, &str)]) -> Reply {
    let boundary = "pm-test-boundary-7f3a";
    let mut body = String::new();
    for (name, file, content) in parts {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\""));
        if let Some(file) = file {
            body.push_str(&format!("; filename=\"{file}\"\r\nContent-Type: text/csv"));
        }
        body.push_str(&format!("\r\n\r\n{content}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let headers =
        format!("Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n", body.len());
    let mut stream = TcpStream::connect(addr.socket).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{}{headers}\r\n",
        addr.socket,
        authorization(addr)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.lines().next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    Reply { status, headers: Vec::new(), body: if head.contains("chunked") { dechunk(body) } else { body.to_string() } }
}

pub fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// A response whose body is kept as bytes (images).
#[derive(Debug)]
pub struct BinaryReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl BinaryReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Every value of a header that may come more than once (`Set-Cookie`).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }
}

/// One request with a binary body (and its own `Content-Type`/`Content-Length` lines in `headers`, and a `Host`
/// line when it should not be the server's address), its answer as bytes. Not for compressed answers.
pub async fn request_bytes(addr: Endpoint, method: &str, path: &str, headers: &str, body: &[u8]) -> BinaryReply {
    let mut stream = TcpStream::connect(addr.socket).await.unwrap();
    let own_host = headers.lines().any(|line| line.to_ascii_lowercase().starts_with("host:"));
    let host = if own_host { String::new() } else { format!("Host: {}\r\n", addr.socket) };
    let head = format!("{method} {path} HTTP/1.1\r\n{host}Connection: close\r\n{}{headers}\r\n", authorization(addr));
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    parse_binary(&raw)
}

pub fn parse_binary(raw: &[u8]) -> BinaryReply {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_string(), v.trim().to_string())).collect();
    let mut body = raw[end + 4..].to_vec();
    if headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v == "chunked") {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap().trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest = &rest[line_end + 2 + size + 2..];
        }
        body = out;
    }
    BinaryReply { status, headers, body }
}

/// A `multipart/form-data` body of (name, file name, bytes) parts, and the header lines announcing it.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "pm-test-boundary-bin-51c2";
    let mut body = Vec::new();
    for (name, file, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
        if let Some(file) = file {
            body.extend_from_slice(
                format!("; filename=\"{file}\"\r\nContent-Type: application/octet-stream").as_bytes(),
            );
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let headers =
        format!("Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n", body.len());
    (headers, body)
}

/// `/api/v1/products/{id}` → `/api/v1/products/00000000-…`: the policy answers before any handler looks.
pub fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        out.push_str(&uuid::Uuid::nil().to_string());
        rest = &rest[rest[start..].find('}').unwrap() + start + 1..];
    }
    out.push_str(rest);
    out
}

/// The metric names a PromQL expression reads: identifiers outside `{…}` label matchers and `by (…)` /
/// `without (…)` / `on (…)` / `ignoring (…)` lists, not followed by `(` (a function), not a keyword, not inside
/// quotes or `[…]` ranges.
pub fn promql_metric_names(expression: &str) -> Vec<String> {
    let mut plain = String::new();
    let (mut braces, mut brackets, mut quoted) = (0, 0, false);
    for c in expression.chars() {
        match c {
            '"' => quoted = !quoted,
            '{' if !quoted => braces += 1,
            '}' if !quoted => braces -= 1,
            '[' if !quoted => brackets += 1,
            ']' if !quoted => brackets -= 1,
            _ if quoted || braces > 0 || brackets > 0 => {}
            _ => plain.push(c),
        }
    }
    let mut names = Vec::new();
    let mut rest = plain.as_str();
    let mut skip_list = false;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic() || c == '_') {
        rest = &rest[start..];
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        let word = &rest[..end];
        let after = rest[end..].trim_start();
        rest = &rest[end..];
        if skip_list {
            // Inside a grouping list: skip to its closing parenthesis.
            if let Some(close) = rest.find(')') {
                rest = &rest[close + 1..];
            }
            skip_list = false;
            continue;
        }
        if matches!(word, "by" | "without" | "on" | "ignoring" | "group_left" | "group_right") {
            skip_list = after.starts_with('(');
            continue;
        }
        // Aggregations may put their grouping before the parenthesis: `sum by (le) (…)`.
        const AGGREGATIONS: [&str; 12] = [
            "sum",
            "min",
            "max",
            "avg",
            "count",
            "stddev",
            "stdvar",
            "topk",
            "bottomk",
            "quantile",
            "count_values",
            "group",
        ];
        if after.starts_with('(')
            || AGGREGATIONS.contains(&word)
            || matches!(word, "and" | "or" | "unless" | "bool" | "offset")
        {
            continue;
        }
        if !names.iter().any(|n: &String| n == word) {
            names.push(word.to_string());
        }
    }
    names
}
