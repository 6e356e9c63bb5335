//! Product feeds in XML: Google Merchant's RSS 2.0 (`<item>`) and Atom (`<entry>`) feeds, the way many suppliers
//! publish their catalog. Each item is a row and its child elements are the columns (named without their namespace
//! prefix: `<g:price>` is `price`), in the order first met in the feed. The feed is read twice, once for its columns
//! and item count and once for the rows, so memory stays flat whatever its size.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Seek};

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{ParseError, Row, check_headers};

/// Whether a file starting with `magic` is XML (a declaration or an element first, after a byte-order mark and
/// blanks; a UTF-16 one is XML too, refused when read).
pub(crate) fn is_xml(magic: &[u8]) -> bool {
    if magic.starts_with(b"\xFF\xFE<\0") || magic.starts_with(b"\xFE\xFF\0<") {
        return true;
    }
    let text = magic.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(magic);
    let start = text.iter().position(|b| !b.is_ascii_whitespace()).map(|at| &text[at..]).unwrap_or_default();
    start.starts_with(b"<?xml") || start.starts_with(b"<rss") || start.starts_with(b"<feed")
}

/// A reader that knows on which line a byte position of its input is: it notes the newlines it hands out and
/// forgets those before the last position asked about (asked in order, so it holds a few at most).
struct LineCounter<R> {
    inner: R,
    handed_out: u64,
    newlines: RefCell<VecDeque<u64>>,
    lines_before: Cell<u64>,
}

impl<R: BufRead> LineCounter<R> {
    fn new(inner: R) -> Self {
        LineCounter { inner, handed_out: 0, newlines: RefCell::new(VecDeque::new()), lines_before: Cell::new(0) }
    }

    /// The 1-based line of byte `position` (not before the last position asked about).
    fn line_at(&self, position: u64) -> u64 {
        let mut newlines = self.newlines.borrow_mut();
        while newlines.front().is_some_and(|at| *at < position) {
            newlines.pop_front();
            self.lines_before.set(self.lines_before.get() + 1);
        }
        self.lines_before.get() + 1
    }
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        let start = self.handed_out;
        self.newlines
            .get_mut()
            .extend(buf[..read].iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| start + i as u64));
        self.handed_out += read as u64;
        Ok(read)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        // The bytes being consumed are the start of the buffer `fill_buf` gave (asked again: no reading).
        if let Ok(buffer) = self.inner.fill_buf() {
            let start = self.handed_out;
            let newlines = buffer[..amount.min(buffer.len())]
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| start + i as u64);
            self.newlines.get_mut().extend(newlines);
        }
        self.handed_out += amount as u64;
        self.inner.consume(amount);
    }
}

type FeedReader<R> = Reader<LineCounter<R>>;

/// Separates the values of an element an item gives several times (`additional_image_link`): no value holds it.
pub(crate) const REPEAT_SEPARATOR: &str = "\u{1f}";

/// One item: its line and its (column, value) pairs, one per column, in document order.
type Item = (u64, Vec<(String, String)>);

/// An item being read: its line and its (column, value, in Google's namespace) triples.
type Reading = (u64, Vec<(String, String, bool)>);

/// An element's name without its namespace prefix (`g:price` → `price`), and whether it is in Google's (`g:`).
fn name_of(name: quick_xml::name::QName<'_>) -> (String, bool) {
    let google = name.prefix().is_some_and(|prefix| AsRef::<str>::as_ref(&prefix) == "g");
    (AsRef::<str>::as_ref(&name.local_name()).to_string(), google)
}

fn is_item(name: &str) -> bool {
    name == "item" || name == "entry"
}

/// Moves the text read so far, trimmed, into `parts` (blank text between nested elements is no part).
fn take_part(parts: &mut Vec<String>, text: &mut String) {
    let part = text.trim();
    if !part.is_empty() {
        parts.push(part.to_string());
    }
    text.clear();
}

/// An item's values by column: Google's element wins over a plain one of the same name (`<g:id>` over Atom's
/// `<id>`, `<g:title>` over RSS's `<title>`); an element given several times keeps each distinct value.
fn merged(values: Vec<(String, String, bool)>) -> Vec<(String, String)> {
    let mut merged: Vec<(String, Vec<String>, bool)> = Vec::new();
    for (name, value, google) in values {
        match merged.iter_mut().find(|(n, ..)| *n == name) {
            None => merged.push((name, vec![value], google)),
            Some((_, kept, kept_google)) if google && !*kept_google => {
                *kept = vec![value];
                *kept_google = true;
            }
            Some((_, kept, kept_google)) if google == *kept_google => {
                if !value.is_empty() && !kept.contains(&value) {
                    kept.retain(|v| !v.is_empty());
                    kept.push(value);
                }
            }
            Some(_) => {} // a plain element after Google's
        }
    }
    merged.into_iter().map(|(name, values, _)| (name, values.join(REPEAT_SEPARATOR))).collect()
}

/// Reads up to the next item and returns it; `None` at the end of the feed.
fn next_item<R: BufRead>(
    file: &str,
    reader: &mut FeedReader<R>,
    buf: &mut Vec<u8>,
) -> Result<Option<Item>, ParseError> {
    let failure =
        |line: u64, reason: String| ParseError { file: file.to_string(), line: Some(line), column: None, reason };
    let mut item: Option<Reading> = None;
    // Inside an item: the child being read (its name, whether Google's, the texts of its nested elements, the text
    // being read) and how deep we are below the item.
    let mut child: Option<(String, bool, Vec<String>, String)> = None;
    let mut depth = 0_usize;
    loop {
        buf.clear();
        // Asked at every event, so the counter forgets the newlines behind it (memory stays flat).
        let line = reader.get_ref().line_at(reader.buffer_position());
        let event = match reader.read_event_into(buf) {
            Ok(event) => event,
            Err(e) => {
                let line = reader.get_ref().line_at(reader.error_position());
                return Err(failure(line, format!("not well-formed XML: {e}")));
            }
        };
        match event {
            Event::Decl(declaration) => {
                // The bytes are read as UTF-8: another encoding is refused rather than read garbled.
                if let Some(Ok(encoding)) = declaration.encoding() {
                    let encoding = encoding.to_ascii_lowercase();
                    if encoding != "utf-8" && encoding != "utf8" {
                        return Err(failure(
                            line,
                            format!("the feed is in {encoding}: only UTF-8 XML feeds are read (save it as UTF-8)"),
                        ));
                    }
                }
            }
            Event::Start(start) => {
                let (name, google) = name_of(start.name());
                match (&item, depth) {
                    (None, _) if is_item(&name) => {
                        item = Some((reader.get_ref().line_at(reader.buffer_position()), Vec::new()));
                        depth = 0;
                    }
                    (None, _) => {}
                    (Some(_), 0) => {
                        child = Some((name, google, Vec::new(), String::new()));
                        depth = 1;
                    }
                    (Some(_), _) => {
                        // A nested element (`<g:shipping><g:country>…`): the texts of its elements are the child's
                        // value, `:`-separated as Google's text feeds write them (`FR:Standard:9.90 EUR`).
                        if let Some((_, _, parts, text)) = &mut child {
                            take_part(parts, text);
                        }
                        depth += 1;
                    }
                }
            }
            Event::Empty(start) if item.is_some() && depth == 0 => {
                // `<link href="…"/>` (Atom): the link is its `href`.
                let href = start
                    .try_get_attribute("href")
                    .ok()
                    .flatten()
                    .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok());
                if let (Some((_, values)), Some(href)) = (&mut item, href) {
                    let (name, google) = name_of(start.name());
                    values.push((name, href.into_owned(), google));
                }
            }
            Event::Text(text) => {
                if let Some((.., value)) = &mut child {
                    value.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let Some((.., value)) = &mut child {
                    value.push_str(&data.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                if let Some((.., value)) = &mut child {
                    // An entity XML does not define (`&nbsp;`, from HTML) is kept as written.
                    let entity = format!("&{};", &*reference);
                    match quick_xml::escape::unescape(&entity) {
                        Ok(text) => value.push_str(&text),
                        Err(_) => value.push_str(&entity),
                    }
                }
            }
            Event::End(end) => {
                let (name, _) = name_of(end.name());
                match depth {
                    0 if is_item(&name) => {
                        if let Some((line, values)) = item.take() {
                            return Ok(Some((line, merged(values))));
                        }
                    }
                    0 => {}
                    1 => {
                        depth = 0;
                        if let (Some((_, values)), Some((name, google, mut parts, mut text))) =
                            (&mut item, child.take())
                        {
                            take_part(&mut parts, &mut text);
                            values.push((name, parts.join(":"), google));
                        }
                    }
                    _ => {
                        if let Some((_, _, parts, text)) = &mut child {
                            take_part(parts, text);
                        }
                        depth -= 1;
                    }
                }
            }
            Event::Eof => {
                return match item {
                    Some((line, _)) => Err(failure(line, "the feed ends inside this item".into())),
                    None => Ok(None),
                };
            }
            _ => {}
        }
    }
}

/// The items of an XML product feed after its columns, one row at a time.
pub struct XmlFeedRows<R: BufRead> {
    file: String,
    reader: FeedReader<R>,
    buf: Vec<u8>,
    headers: Vec<String>,
    column_of: HashMap<String, usize>,
    items: u64,
    done: bool,
}

impl<R: BufRead> std::fmt::Debug for XmlFeedRows<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XmlFeedRows").field("file", &self.file).field("headers", &self.headers).finish()
    }
}

fn feed_reader<R: BufRead>(input: R) -> FeedReader<R> {
    let mut reader = Reader::from_reader(LineCounter::new(input));
    reader.config_mut().trim_text(false);
    reader
}

impl XmlFeedRows<BufReader<std::fs::File>> {
    /// Reads the feed once for its columns and item count, then stands before its first item. A feed without items
    /// is refused.
    pub fn open_file(file: &str, mut input: std::fs::File) -> Result<Self, ParseError> {
        let io_failure = |e: std::io::Error| ParseError {
            file: file.to_string(),
            line: None,
            column: None,
            reason: format!("cannot be read: {e}"),
        };
        let mut magic = [0_u8; 2];
        let read = input.read(&mut magic).map_err(io_failure)?;
        if read == 2 && (magic == *b"\xFF\xFE" || magic == *b"\xFE\xFF") {
            return Err(ParseError {
                file: file.to_string(),
                line: Some(1),
                column: None,
                reason: "the feed is in UTF-16: only UTF-8 XML feeds are read (save it as UTF-8)".into(),
            });
        }
        input.rewind().map_err(io_failure)?;
        let mut buf = Vec::new();
        let (mut headers, mut items, mut first_line) = (Vec::<String>::new(), 0_u64, None);
        {
            let mut reader = feed_reader(BufReader::with_capacity(1 << 20, &input));
            while let Some((line, fields)) = next_item(file, &mut reader, &mut buf)? {
                items += 1;
                first_line.get_or_insert(line);
                for (name, _) in fields {
                    if !headers.contains(&name) {
                        headers.push(name);
                    }
                }
            }
        }
        let Some(first_line) = first_line else {
            return Err(ParseError {
                file: file.to_string(),
                line: None,
                column: None,
                reason: "an XML file without <item> or <entry> elements: not a product feed (RSS 2.0 or Atom)".into(),
            });
        };
        let headers = check_headers(file, first_line, headers)?;
        input.rewind().map_err(io_failure)?;
        let column_of = headers.iter().enumerate().map(|(at, name)| (name.clone(), at)).collect();
        Ok(XmlFeedRows {
            file: file.to_string(),
            reader: feed_reader(BufReader::with_capacity(1 << 20, input)),
            buf,
            headers,
            column_of,
            items,
            done: false,
        })
    }
}

impl<R: BufRead> XmlFeedRows<R> {
    /// The columns: every child element name of the feed's items.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// How many items the feed has.
    pub fn items(&self) -> u64 {
        self.items
    }
}

impl<R: BufRead> Iterator for XmlFeedRows<R> {
    type Item = Result<Row, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match next_item(&self.file, &mut self.reader, &mut self.buf) {
            Ok(Some((line, values))) => {
                let mut fields = vec![String::new(); self.headers.len()];
                for (name, value) in values {
                    if let Some(at) = self.column_of.get(&name) {
                        fields[*at] = value;
                    }
                }
                Some(Ok(Row { line, fields }))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> Result<(Vec<String>, Vec<Row>), ParseError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.xml");
        std::fs::write(&path, xml).unwrap();
        let rows = XmlFeedRows::open_file("feed.xml", std::fs::File::open(&path).unwrap())?;
        let headers = rows.headers().to_vec();
        let rows: Result<Vec<Row>, ParseError> = rows.collect();
        Ok((headers, rows?))
    }

    #[test]
    fn rss_and_atom_items_are_rows() {
        let rss = "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\n<channel>\n\
                   <title>Shop</title>\n<item>\n<g:id>A1</g:id>\n<title>Mug &amp; saucer</title>\n\
                   <g:price>9.90 EUR</g:price>\n<g:image_link>https://img/a.jpg</g:image_link>\n\
                   <g:additional_image_link>https://img/b.jpg</g:additional_image_link>\n\
                   <g:additional_image_link>https://img/c.jpg</g:additional_image_link>\n\
                   <g:shipping><g:country>FR</g:country><g:price>4.90 EUR</g:price></g:shipping>\n</item>\n\
                   <item><g:id>A2</g:id><g:title><![CDATA[Cup <small>]]></g:title><g:color>Red</g:color></item>\n\
                   </channel></rss>\n";
        let (headers, rows) = read(rss).unwrap();
        assert_eq!(headers, ["id", "title", "price", "image_link", "additional_image_link", "shipping", "color"]);
        assert_eq!(rows[0].line, 5);
        assert_eq!(rows[0].fields[1], "Mug & saucer");
        assert_eq!(rows[0].fields[4], format!("https://img/b.jpg{REPEAT_SEPARATOR}https://img/c.jpg"));
        assert_eq!(rows[0].fields[5], "FR:4.90 EUR");
        assert_eq!((rows[1].line, rows[1].fields[1].as_str(), rows[1].fields[6].as_str()), (14, "Cup <small>", "Red"));

        // Atom's own `<id>` and an RSS `<title>` give way to Google's elements; an HTML entity is kept as written.
        let atom = "<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:g=\"http://base.google.com/ns/1.0\">\n\
                    <entry>\n<id>urn:uuid:1</id><title>Pot, red</title>\n<g:id>B1</g:id><g:title>Pot, red</g:title>\n\
                    <link href=\"https://shop/b1\"/><g:description>A&nbsp;pot</g:description>\n</entry>\n</feed>";
        let (headers, rows) = read(atom).unwrap();
        assert_eq!(headers, ["id", "title", "link", "description"]);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].fields, ["B1", "Pot, red", "https://shop/b1", "A&nbsp;pot"]);
    }

    #[test]
    fn broken_or_empty_feeds_are_refused_with_their_line() {
        let error =
            read("<rss><channel>\n<item><g:id>A</g:id>\n<g:title>x</g:price></item></channel></rss>").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        assert!(error.reason.contains("not well-formed"), "{error}");
        let error = read("<?xml version=\"1.0\"?><catalog><product/></catalog>").unwrap_err();
        assert!(error.reason.contains("not a product feed"), "{error}");
        let latin = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<rss><channel><item><g:id>A</g:id></item></channel></rss>";
        let error = read(latin).unwrap_err();
        assert!(error.reason.contains("iso-8859-1: only UTF-8"), "{error}");
        assert!(is_xml(b"\xEF\xBB\xBF  <?xml version") && is_xml(b"<rss") && !is_xml(b"sku,title"));
    }
}
