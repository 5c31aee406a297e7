//! One pass over the frames that come by the thousand: heartbeats and output. The derived
//! decoder of `Frame` (a flattened, internally tagged enum) first copies every frame into a
//! generic tree and then decodes that; these frames are read straight into their types when
//! `v` and `type` come first, as every fleetdeck agent writes them. Anything else (other
//! types, other key orders, escapes in those keys) is left to the derived decoder.

use std::fmt;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer as _, MapAccess, Visitor};

use super::{Frame, Heartbeat, Message, Stream, VERSION};

/// The fields of an `output` message after its `type`.
#[derive(Deserialize)]
struct OutputBody {
    id: String,
    stream: Stream,
    data: String,
}

struct Fast;

impl<'de> Visitor<'de> for Fast {
    type Value = Frame;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a heartbeat or output frame that starts with v and type")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Frame, A::Error> {
        if map.next_key::<&str>()? != Some("v") {
            return Err(de::Error::custom("v is not the first key"));
        }
        let v: u32 = map.next_value()?;
        if v != VERSION || map.next_key::<&str>()? != Some("type") {
            return Err(de::Error::custom(
                "not this version, or type is not the second key",
            ));
        }
        let msg = match map.next_value::<&str>()? {
            "heartbeat" => {
                Message::Heartbeat(Heartbeat::deserialize(MapAccessDeserializer::new(map))?)
            }
            "output" => {
                let body = OutputBody::deserialize(MapAccessDeserializer::new(map))?;
                Message::Output {
                    id: body.id,
                    stream: body.stream,
                    data: body.data,
                }
            }
            _ => return Err(de::Error::custom("not a heartbeat or output")),
        };
        Ok(Frame { v, msg })
    }
}

/// The frame, if `text` is a well-formed heartbeat or output frame of this version with `v`
/// and `type` first; `None` for anything else (the caller decodes it the general way).
pub(super) fn decode(text: &str) -> Option<Frame> {
    let mut de = serde_json::Deserializer::from_str(text);
    let frame = (&mut de).deserialize_map(Fast).ok()?;
    de.end().ok()?;
    Some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{DiskUsage, Metrics, encode_bytes};

    fn heartbeat() -> Frame {
        Frame::new(Message::Heartbeat(Heartbeat {
            jobs: 2,
            last_alert_seq: 7,
            metrics: Metrics {
                cpu_pct: 12.5,
                mem_used_bytes: 1 << 30,
                mem_total_bytes: 4 << 30,
                load1: 0.5,
                disks: vec![DiskUsage {
                    mount: "/".into(),
                    used_bytes: 10,
                    total_bytes: 100,
                }],
                ..Metrics::default()
            },
        }))
    }

    #[test]
    fn reads_what_the_agent_writes_as_the_derived_decoder_does() {
        let output = Frame::new(Message::Output {
            id: "j1".into(),
            stream: Stream::Stderr,
            data: encode_bytes(b"hello\n"),
        });
        for frame in [heartbeat(), output] {
            let text = frame.encode();
            assert_eq!(decode(&text), Some(frame.clone()), "{text}");
            let derived: Frame = serde_json::from_str(&text).expect("derived decoder");
            assert_eq!(derived, frame);
        }
    }

    #[test]
    fn leaves_everything_else_to_the_general_decoder() {
        let text = heartbeat().encode();
        let reordered = text.replacen(
            r#"{"v":1,"type":"heartbeat""#,
            r#"{"type":"heartbeat","v":1"#,
            1,
        );
        assert_ne!(reordered, text, "the agent writes v then type");
        for other in [
            reordered.as_str(),
            &text.replacen(r#""v":1"#, r#""v":2"#, 1),
            &text[..text.len() - 1],
            &format!("{text} x"),
            r#"{"v":1,"type":"exit","id":"j1","outcome":{"kind":"code","code":0},"duration_ms":1}"#,
            r#"{"v":1,"type":"heartbeat"}"#,
            r#"{"v":1,"type":"output","id":"j1","stream":"stdout"}"#,
            "[]",
            "",
        ] {
            assert_eq!(decode(other), None, "{other}");
        }
    }
}
