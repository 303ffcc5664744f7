//! Bulk import, the parsing half: a CSV file whose columns are named after the JSON body of
//! `POST /api/phone-numbers` (nested settings flattened with dots, `exotelConfig.sid`) read into
//! one input per row. Pure: no database, and no rule beyond the shape (the service validates).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use domain::FieldError;
use domain::phone_number::PhoneNumberInput;
use serde_json::{Map, Value};

#[cfg(test)]
mod tests;

/// Largest file accepted; a larger one is refused before parsing.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
/// Most numbers (non-empty data rows) one file may hold.
pub const MAX_ROWS: usize = 20_000;

/// How a cell becomes JSON.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    /// A JSON number when the cell is an integer, else a string the deserialiser refuses.
    Integer,
}

/// Every column a file may have, in template order: name, kind, the template's example value
/// (empty outside the example Exotel row).
const COLUMNS: &[(&str, Kind, &str)] = &[
    ("phoneNumber", Kind::Text, "+919876543210"),
    ("displayName", Kind::Text, "Support"),
    ("provider", Kind::Text, "exotel"),
    ("linkedAgentId", Kind::Text, ""),
    ("status", Kind::Text, "active"),
    ("exotelConfig.apiKey", Kind::Text, "your-exotel-api-key"),
    ("exotelConfig.apiToken", Kind::Text, "your-exotel-api-token"),
    ("exotelConfig.sid", Kind::Text, "your-exotel-sid"),
    ("exotelConfig.appId", Kind::Text, ""),
    ("exotelConfig.domain", Kind::Text, "api.in.exotel.com"),
    ("exotelConfig.region", Kind::Text, "in"),
    ("twilioConfig.accountSid", Kind::Text, ""),
    ("twilioConfig.authToken", Kind::Text, ""),
    ("vonageConfig.apiKey", Kind::Text, ""),
    ("vonageConfig.apiSecret", Kind::Text, ""),
    ("vonageConfig.applicationId", Kind::Text, ""),
    ("vonageConfig.privateKey", Kind::Text, ""),
    ("vonageConfig.signatureSecret", Kind::Text, ""),
    ("vonageConfig.sampleRate", Kind::Integer, ""),
    ("plivoConfig.authId", Kind::Text, ""),
    ("plivoConfig.authToken", Kind::Text, ""),
    ("plivoConfig.contentType", Kind::Text, ""),
];

/// The one column every file needs.
const PHONE_NUMBER: &str = "phoneNumber";

/// A whole-file problem: nothing is imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("The file is larger than {} MB; split it into smaller files.", .limit / (1024 * 1024))]
    TooLarge { limit: usize },
    #[error("The file is not UTF-8 text{}; save it as \"CSV UTF-8 (Comma delimited)\" and upload it again.", on_line(.line))]
    NotUtf8 { line: Option<u64> },
    #[error("The file is saved as UTF-16 (\"Unicode Text\"); save it as \"CSV UTF-8 (Comma delimited)\" and upload it again.")]
    Utf16Bom,
    #[error("The file is empty; its first line must name the columns (phoneNumber, provider, …). Download the template to start from.")]
    Empty,
    #[error("The file has a header but no numbers; add one row per number under the header.")]
    NoRows,
    #[error("The header has an unknown column {column:?}. {}", did_you_mean(.suggestion))]
    UnknownColumn { column: String, suggestion: Option<String> },
    #[error("The header has the column {column:?} twice; delete one of them.")]
    DuplicateColumn { column: String },
    #[error("The header has no {column:?} column; add it, with one number per row.")]
    MissingColumn { column: &'static str },
    #[error("Line {line}: {reason}.")]
    Malformed { line: u64, reason: String },
    #[error("The file has more than {limit} numbers; split it into files of at most {limit} rows.")]
    TooManyRows { limit: usize },
}

fn on_line(line: &Option<u64>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("Did you mean {s:?}? Otherwise use the column names of the template."),
        None => "Use the column names of the template.".into(),
    }
}

/// One data row: the 1-based line it starts on (the header is line 1 unless blank lines precede
/// it) and either the parsed input or its field errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: u64,
    pub result: Result<PhoneNumberInput, Vec<FieldError>>,
}

/// Every column a file may have, in template order.
pub fn columns() -> impl Iterator<Item = &'static str> {
    COLUMNS.iter().map(|(name, ..)| *name)
}

/// A header line with every column and one example Exotel row (the "download template" file).
pub fn template() -> String {
    let header: Vec<&str> = columns().collect();
    let example: Vec<&str> = COLUMNS.iter().map(|(.., example)| *example).collect();
    format!("{}\n{}\n", header.join(","), example.join(","))
}

/// Parses `bytes`. `defaults` is a JSON object of the same shape as the body (e.g.
/// `{"provider":"exotel","exotelConfig":{"sid":"…","apiKey":"…"}}`) laid under every row: a
/// non-empty cell wins, an empty cell or missing column takes the default (`null` means none).
pub fn parse(bytes: &[u8], defaults: &Value) -> Result<Vec<Row>, FileError> {
    if bytes.len() > MAX_BYTES {
        return Err(FileError::TooLarge { limit: MAX_BYTES });
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(FileError::Utf16Bom);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| FileError::NotUtf8 { line: Some(Lines::new(bytes).at(e.valid_up_to())) })?;
    // UTF-16 without its BOM is valid UTF-8 with a NUL after every ASCII letter.
    if text.lines().next().is_some_and(|l| l.contains('\0')) {
        return Err(FileError::Utf16Bom);
    }
    let mut file = File {
        reader: csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes),
        record: csv::StringRecord::new(),
        lines: Lines::new(bytes),
        open_quote: unclosed_quote(bytes),
    };
    if file.next()?.is_none() {
        return Err(FileError::Empty);
    }
    let header = header(&file.record)?;
    let mut rows: Vec<Row> = Vec::new();
    let mut numbers = HashMap::new();
    while let Some(line) = file.next()? {
        let record = &file.record;
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        // Checked here rather than by the reader (`flexible(false)`) so a row of blanks of any
        // length is skipped instead of refused.
        if record.len() != header.len() {
            return Err(FileError::Malformed { line, reason: unequal(record.len(), header.len()) });
        }
        if rows.len() == MAX_ROWS {
            return Err(FileError::TooManyRows { limit: MAX_ROWS });
        }
        let mut cells = Map::new();
        for (i, (cell, column)) in record.iter().zip(&header).enumerate() {
            let cell = cell.trim();
            match column {
                _ if cell.is_empty() => {}
                Some((name, kind)) => put(&mut cells, name, cell_value(*kind, cell)),
                None => {
                    let reason = format!(
                        "column {} has no name in the header but this row has a value in it; name the column or delete the value",
                        i + 1
                    );
                    return Err(FileError::Malformed { line, reason });
                }
            }
        }
        rows.push(Row { line, result: read_row(Value::Object(cells), defaults, line, &mut numbers) });
    }
    if rows.is_empty() {
        return Err(FileError::NoRows);
    }
    Ok(rows)
}

/// Why a row's field count differs from the header's, and the usual cause.
fn unequal(len: usize, expected: usize) -> String {
    let hint = if len > expected {
        "a value containing a comma must be in double quotes"
    } else {
        "a quote may be unclosed, or a comma is missing"
    };
    format!("this row has {len} fields, the header has {expected} ({hint})")
}

/// The header's columns by position: a known column with its kind, or `None` for an unnamed
/// one (spreadsheets leave empty columns at the edge; their cells must stay empty).
fn header(record: &csv::StringRecord) -> Result<Vec<Option<(&'static str, Kind)>>, FileError> {
    let mut columns = Vec::with_capacity(record.len());
    for name in record.iter().map(str::trim) {
        if name.is_empty() {
            columns.push(None);
            continue;
        }
        let known = COLUMNS.iter().find(|(c, ..)| *c == name).or_else(|| COLUMNS.iter().find(|(c, ..)| c.eq_ignore_ascii_case(name)));
        let Some(&(canonical, kind, _)) = known else {
            return Err(FileError::UnknownColumn { column: clip(name), suggestion: suggest(name) });
        };
        if columns.iter().flatten().any(|(c, _)| *c == canonical) {
            return Err(FileError::DuplicateColumn { column: canonical.to_string() });
        }
        columns.push(Some((canonical, kind)));
    }
    if columns.iter().all(Option::is_none) {
        return Err(FileError::Empty);
    }
    if !columns.iter().flatten().any(|(c, _)| *c == PHONE_NUMBER) {
        return Err(FileError::MissingColumn { column: PHONE_NUMBER });
    }
    Ok(columns)
}

/// At most 60 characters of a name, for a message.
fn clip(name: &str) -> String {
    match name.char_indices().nth(60) {
        Some((end, _)) => format!("{}…", &name[..end]),
        None => name.to_string(),
    }
}

/// The known column an unknown name most likely meant: a bare setting (`sid`) names its dotted
/// column, otherwise the nearest name by edit distance if it is near enough.
fn suggest(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    if lower.chars().count() > 60 {
        return None;
    }
    let leaf = |c: &str| c.split_once('.').is_some_and(|(_, leaf)| leaf.eq_ignore_ascii_case(&lower));
    if let Some((c, ..)) = COLUMNS.iter().find(|(c, ..)| leaf(c)) {
        return Some(c.to_string());
    }
    COLUMNS
        .iter()
        .map(|(c, ..)| (strsim::levenshtein(&lower, &c.to_ascii_lowercase()), *c))
        .min_by_key(|(distance, _)| *distance)
        .filter(|(distance, c)| *distance <= (c.len() / 3).max(2))
        .map(|(_, c)| c.to_string())
}

fn cell_value(kind: Kind, cell: &str) -> Value {
    match kind {
        Kind::Integer => {
            cell.parse::<i64>().map(Value::from).or_else(|_| cell.parse::<u64>().map(Value::from)).unwrap_or_else(|_| cell.into())
        }
        Kind::Text => cell.into(),
    }
}

/// Sets the dotted column `name` (one level of nesting at most) in `cells`.
fn put(cells: &mut Map<String, Value>, name: &str, value: Value) {
    match name.split_once('.') {
        Some((group, key)) => {
            if let Value::Object(settings) = cells.entry(group).or_insert_with(|| Value::Object(Map::new())) {
                settings.insert(key.to_string(), value);
            }
        }
        None => {
            cells.insert(name.to_string(), value);
        }
    }
}

/// A number as compared for duplicates: its digits, a leading `00` read as `+`.
fn number_key(raw: &str) -> String {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix("00") {
        Some(rest) if raw.trim_start().starts_with("00") => rest.to_string(),
        _ => digits,
    }
}

/// One row's cells over the defaults, read as an input; `numbers` maps each number seen so far
/// to its line.
fn read_row(cells: Value, defaults: &Value, line: u64, numbers: &mut HashMap<String, u64>) -> Result<PhoneNumberInput, Vec<FieldError>> {
    let mut value = match defaults {
        Value::Null => Value::Object(Map::new()),
        Value::Object(_) => defaults.clone(),
        _ => return Err(vec![FieldError::new("defaults", "The defaults must be a JSON object shaped like the request body.")]),
    };
    super::partial::overlay(&mut value, cells);
    let mut errors = Vec::new();
    let key = value.get(PHONE_NUMBER).and_then(Value::as_str).map(number_key).unwrap_or_default();
    if !key.is_empty() {
        match numbers.entry(key) {
            Entry::Occupied(first) => errors.push(FieldError::new(PHONE_NUMBER, format!("Same number as line {}.", first.get()))),
            Entry::Vacant(slot) => {
                slot.insert(line);
            }
        }
    }
    match serde_path_to_error::deserialize::<_, PhoneNumberInput>(value) {
        Ok(input) if errors.is_empty() => Ok(input),
        Ok(_) => Err(errors),
        Err(e) => {
            let field = e.path().to_string();
            errors.push(FieldError::new(if field == "." { "row" } else { &field }, e.inner().to_string()));
            Err(errors)
        }
    }
}

/// The reader and what locates its records.
struct File<'a> {
    reader: csv::Reader<&'a [u8]>,
    record: csv::StringRecord,
    lines: Lines<'a>,
    open_quote: Option<usize>,
}

impl File<'_> {
    /// Reads the next record into `self.record` and returns its line.
    fn next(&mut self) -> Result<Option<u64>, FileError> {
        let start = offset(self.reader.position());
        let read = self.reader.read_record(&mut self.record);
        let line = self.lines.record_at(start);
        match read {
            Ok(false) => Ok(None),
            Ok(true) => match self.open_quote {
                Some(quote) if (start..offset(self.reader.position())).contains(&quote) => Err(FileError::Malformed {
                    line: self.lines.at(quote),
                    reason: "a quoted value starts here and is never closed; add the closing \" (write \"\" for a quote inside a value)"
                        .into(),
                }),
                _ => Ok(Some(line)),
            },
            // Input is a byte slice already checked as UTF-8 and rows may differ in length, so
            // this is not expected; it is still reported, never a panic.
            Err(e) => match e.kind() {
                csv::ErrorKind::Utf8 { .. } => Err(FileError::NotUtf8 { line: Some(line) }),
                _ => Err(FileError::Malformed { line, reason: e.to_string() }),
            },
        }
    }
}

fn offset(position: &csv::Position) -> usize {
    usize::try_from(position.byte()).unwrap_or(usize::MAX)
}

/// Line numbers of byte offsets, counted forward once. The reader's own positions are not used:
/// a record's position is where the reader stopped after the previous one, which is the
/// previous line for CRLF files and before any blank lines skipped.
struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0, line: 1 }
    }

    /// The 1-based line of byte `at`.
    fn at(&mut self, at: usize) -> u64 {
        let at = at.min(self.bytes.len());
        if at < self.pos {
            (self.pos, self.line) = (0, 1);
        }
        self.line += self.bytes[self.pos..at].iter().filter(|&&b| b == b'\n').count() as u64;
        self.pos = at;
        self.line
    }

    /// The line of the record the reader starts reading at `start`: past the line ends it skips.
    fn record_at(&mut self, start: usize) -> u64 {
        let start = start.min(self.bytes.len());
        let skipped = self.bytes[start..].iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
        self.at(start + skipped)
    }
}

/// Where a quoted value opens and never closes. The reader takes such a value to the end of the
/// file without complaint, so this follows its rules: a quote opens a value only as its first
/// character, and `""` inside one is a quote.
fn unclosed_quote(bytes: &[u8]) -> Option<usize> {
    enum S {
        Start,
        Plain,
        Quoted(usize),
        Closing(usize),
    }
    let mut state = S::Start;
    for (i, &b) in bytes.iter().enumerate() {
        state = match (state, b) {
            (S::Start, b'"') => S::Quoted(i),
            (S::Quoted(at), b'"') => S::Closing(at),
            (S::Quoted(at), _) => S::Quoted(at),
            (S::Closing(at), b'"') => S::Quoted(at),
            (S::Start | S::Plain | S::Closing(_), b',' | b'\r' | b'\n') => S::Start,
            (S::Start | S::Plain | S::Closing(_), _) => S::Plain,
        };
    }
    match state {
        S::Quoted(at) => Some(at),
        _ => None,
    }
}
