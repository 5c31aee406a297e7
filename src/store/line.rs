//! One record as one line: encoding for the writer, classification for the readers.

use std::path::Path;

use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;

use super::StoreError;
use super::timestamp::now_rfc3339;

/// Longest line (including its `\n`) the writer produces and the readers accept. Longer lines
/// are refused by the writer and reported as corrupt by the readers, so a damaged file cannot
/// make a reader hold gigabytes in memory.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Serializes `record` as one JSONL line ending in `\n`, with `"v"` and `"ts"` as its first two
/// keys. An existing `"ts"` is kept; an existing `"v"` must equal `version`.
pub(crate) fn encode_line<T: Serialize + ?Sized>(
    path: &Path,
    version: u32,
    record: &T,
) -> Result<Vec<u8>, StoreError> {
    let ser_err = |source| StoreError::Serialize {
        path: path.to_path_buf(),
        source,
    };
    let Value::Object(map) = serde_json::to_value(record).map_err(ser_err)? else {
        return Err(StoreError::NotAnObject {
            path: path.to_path_buf(),
        });
    };
    if let Some(v) = map.get("v")
        && v.as_u64() != Some(u64::from(version))
    {
        return Err(ser_err(serde::ser::Error::custom(format_args!(
            "record has its own \"v\" ({v}) that differs from the schema version {version}"
        ))));
    }
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"{\"v\":");
    out.extend_from_slice(version.to_string().as_bytes());
    out.extend_from_slice(b",\"ts\":");
    match map.get("ts") {
        Some(ts) => serde_json::to_writer(&mut out, ts).map_err(ser_err)?,
        None => serde_json::to_writer(&mut out, &now_rfc3339()).map_err(ser_err)?,
    }
    for (key, value) in map.iter().filter(|(k, _)| *k != "v" && *k != "ts") {
        out.push(b',');
        serde_json::to_writer(&mut out, key).map_err(ser_err)?;
        out.push(b':');
        serde_json::to_writer(&mut out, value).map_err(ser_err)?;
    }
    out.extend_from_slice(b"}\n");
    if out.len() > MAX_LINE_BYTES {
        return Err(StoreError::TooLarge {
            path: path.to_path_buf(),
            bytes: out.len(),
            max: MAX_LINE_BYTES,
        });
    }
    Ok(out)
}

/// What one line of a file turned out to be.
#[derive(Debug)]
pub(crate) enum Parsed<T> {
    /// Only whitespace: skipped silently (it still counts as a line).
    Blank,
    Record(T),
    /// Not a record; the message says why.
    Corrupt(String),
    /// The unterminated last line is not valid JSON: a write cut short by a crash.
    Torn,
}

/// Classifies one line (without its `\n`). `terminated` says whether a `\n` followed it; only
/// an unterminated line can be a torn tail, and only when it is not valid JSON at all (valid
/// JSON of the wrong shape is corrupt, a complete record missing just its `\n` is a record).
pub(crate) fn parse_line<T: DeserializeOwned>(bytes: &[u8], terminated: bool) -> Parsed<T> {
    let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Parsed::Blank;
    };
    if *first != b'{' {
        return match serde_json::from_slice::<IgnoredAny>(bytes) {
            Ok(_) => Parsed::Corrupt("not a JSON object".to_owned()),
            Err(_) if !terminated => Parsed::Torn,
            Err(e) => Parsed::Corrupt(e.to_string()),
        };
    }
    match serde_json::from_slice::<T>(bytes) {
        Ok(record) => Parsed::Record(record),
        Err(e) if !terminated && !e.is_data() => Parsed::Torn,
        Err(e) => Parsed::Corrupt(e.to_string()),
    }
}

/// The message used for a line longer than [`MAX_LINE_BYTES`].
pub(crate) fn too_long_message() -> String {
    format!("line longer than {MAX_LINE_BYTES} bytes, skipped")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn encode(v: u32, record: &Value) -> String {
        let line = encode_line(Path::new("h.jsonl"), v, record).unwrap();
        String::from_utf8(line).unwrap()
    }

    #[test]
    fn v_and_ts_come_first() {
        let line = encode(3, &json!({"a": 1, "z": "x", "id": "r1"}));
        assert!(line.starts_with("{\"v\":3,\"ts\":\""), "{line}");
        assert!(line.ends_with("}\n"));
        assert_eq!(line.matches('\n').count(), 1);
        let back: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["a"], 1);
        assert_eq!(back["id"], "r1");
    }

    #[test]
    fn existing_ts_is_kept_and_matching_v_accepted() {
        let line = encode(
            1,
            &json!({"b": [1, 2], "ts": "2026-01-01T00:00:00.000Z", "v": 1}),
        );
        assert_eq!(
            line,
            "{\"v\":1,\"ts\":\"2026-01-01T00:00:00.000Z\",\"b\":[1,2]}\n"
        );
    }

    #[test]
    fn conflicting_v_and_non_objects_are_refused() {
        let path = Path::new("h.jsonl");
        let err = encode_line(path, 1, &json!({"v": 2})).unwrap_err();
        assert!(matches!(err, StoreError::Serialize { .. }), "{err}");
        assert!(err.to_string().starts_with("h.jsonl: "), "{err}");
        let err = encode_line(path, 1, &json!([1, 2])).unwrap_err();
        assert!(matches!(err, StoreError::NotAnObject { .. }), "{err}");
        let err = encode_line(path, 1, &42).unwrap_err();
        assert!(matches!(err, StoreError::NotAnObject { .. }), "{err}");
    }

    #[test]
    fn newlines_inside_strings_stay_escaped() {
        let line = encode(1, &json!({"out": "a\nb\r\n"}));
        assert_eq!(line.matches('\n').count(), 1);
    }

    #[test]
    fn classifies_lines() {
        assert!(matches!(parse_line::<Value>(b"  \r", true), Parsed::Blank));
        assert!(matches!(
            parse_line::<Value>(b"{\"a\":1}\r", true),
            Parsed::Record(_)
        ));
        assert!(matches!(
            parse_line::<Value>(b"{\"a\":1}", false),
            Parsed::Record(_)
        ));
        assert!(matches!(
            parse_line::<Value>(b"{\"a\":", false),
            Parsed::Torn
        ));
        assert!(matches!(
            parse_line::<Value>(b"{\"a\":", true),
            Parsed::Corrupt(_)
        ));
        assert!(matches!(
            parse_line::<Value>(b"[1]", true),
            Parsed::Corrupt(_)
        ));
        assert!(matches!(
            parse_line::<Value>(b"[1]", false),
            Parsed::Corrupt(_)
        ));
        assert!(matches!(parse_line::<Value>(b"[1", false), Parsed::Torn));
        #[derive(serde::Deserialize, Debug)]
        struct Typed {
            #[allow(dead_code)]
            n: u32,
        }
        assert!(matches!(
            parse_line::<Typed>(b"{\"n\":\"x\"}", false),
            Parsed::Corrupt(_)
        ));
        assert!(matches!(
            parse_line::<Typed>(b"{\"n\":", false),
            Parsed::Torn
        ));
    }
}
