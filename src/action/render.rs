//! Template text: `{param}` placeholders (`{{` and `}}` are literal braces) and the shell
//! quoting of substituted values.

/// A piece of template text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    /// `{name}`; `offset` is the byte offset of the `{` in the template text.
    Param {
        name: String,
        offset: usize,
    },
}

/// A malformed placeholder: what is wrong and where (byte offset in the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

/// Splits `text` into literals and placeholders. A `{` must open `{name}` or be doubled.
pub fn parse(text: &str) -> Result<Vec<Segment>, SyntaxError> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().is_some_and(|(_, n)| *n == '}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let rest = &text[i + 1..];
                let Some(end) = rest.find('}') else {
                    return Err(SyntaxError {
                        offset: i,
                        message: "`{` is not closed: write `{{` for a literal brace".to_string(),
                    });
                };
                let name = &rest[..end];
                if !super::param::valid_name(name) {
                    return Err(SyntaxError {
                        offset: i,
                        message: format!(
                            "`{{{name}}}` is not a parameter (names are [a-z][a-z0-9_]*): \
                             write `{{{{` and `}}}}` for literal braces"
                        ),
                    });
                }
                if !literal.is_empty() {
                    segments.push(Segment::Literal(std::mem::take(&mut literal)));
                }
                segments.push(Segment::Param {
                    name: name.to_string(),
                    offset: i,
                });
                // Skip the name and the closing brace.
                while let Some((j, _)) = chars.peek() {
                    if *j > i + end + 1 {
                        break;
                    }
                    chars.next();
                }
            }
            '}' => {
                return Err(SyntaxError {
                    offset: i,
                    message: "a lone `}`: write `}}` for a literal brace".to_string(),
                });
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        segments.push(Segment::Literal(literal));
    }
    Ok(segments)
}

/// The parameter names `segments` use, each once, in order of first use.
pub fn names(segments: &[Segment]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for s in segments {
        if let Segment::Param { name, .. } = s
            && !out.contains(&name.as_str())
        {
            out.push(name);
        }
    }
    out
}

/// `value` quoted for a POSIX shell so it is one word with exactly this text.
pub fn quote(value: &str) -> Result<String, String> {
    shlex::try_quote(value)
        .map(|q| q.into_owned())
        .map_err(|_| "a value cannot contain a NUL byte".to_string())
}

/// The shell variable a secret parameter is read into.
pub fn secret_var(name: &str) -> String {
    format!("FLEETDECK_SECRET_{}", name.to_ascii_uppercase())
}

/// Joins `segments`, asking `fill` for each placeholder's text.
pub fn join(
    segments: &[Segment],
    mut fill: impl FnMut(&str) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Literal(text) => out.push_str(text),
            Segment::Param { name, .. } => out.push_str(&fill(name)?),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn placeholders_and_literal_braces() {
        let segs = parse("awk '{{print $1}}' {file} && echo {file}{n}").unwrap();
        assert_eq!(names(&segs), vec!["file", "n"]);
        let text = join(&segs, |n| Ok(format!("<{n}>"))).unwrap();
        assert_eq!(text, "awk '{print $1}' <file> && echo <file><n>");
        let Segment::Param { offset, .. } = &segs[1] else {
            panic!("{segs:?}");
        };
        assert_eq!(*offset, 19);
    }

    #[test]
    fn malformed_placeholders_say_where() {
        let e = parse("echo {unit").unwrap_err();
        assert_eq!(e.offset, 5);
        assert!(e.message.contains("not closed"));
        let e = parse("echo ${HOME}").unwrap_err();
        assert_eq!(e.offset, 6);
        assert!(e.message.contains("literal braces"), "{}", e.message);
        let e = parse("a } b").unwrap_err();
        assert_eq!(e.offset, 2);
        let e = parse("é {Bad}").unwrap_err();
        assert_eq!(e.offset, 3);
    }

    #[test]
    fn quoting_refuses_nul() {
        assert!(quote("a\0b").is_err());
        assert_eq!(quote("plain").unwrap(), "plain");
        assert_eq!(secret_var("db_pass"), "FLEETDECK_SECRET_DB_PASS");
    }

    proptest! {
        // Each case spawns a shell: keep the count bounded.
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_quoted_string_comes_back_from_sh(value in "[^\u{0}]{0,40}") {
            let quoted = quote(&value).unwrap();
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {quoted}"))
                .output()
                .unwrap();
            prop_assert!(out.status.success(), "{quoted}");
            prop_assert_eq!(String::from_utf8_lossy(&out.stdout).into_owned(), value);
        }

        #[test]
        fn hostile_ascii_comes_back_from_sh(value in "[ -~\t\n]{0,30}") {
            let quoted = quote(&value).unwrap();
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {quoted}"))
                .output()
                .unwrap();
            prop_assert_eq!(String::from_utf8_lossy(&out.stdout).into_owned(), value);
        }
    }
}
