//! Python's `shlex.split(line, comments=True)` (POSIX mode), which Ansible uses for INI host
//! lines, keeping where each token starts.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub text: String,
    /// Byte offset of the token's first character in the line.
    pub offset: usize,
}

/// Splits on whitespace; `'…'` is literal, `"…"` honours `\"` and `\\`, a backslash outside
/// quotes escapes the next character, and `#` outside quotes ends the line. Errors carry the
/// byte offset of the problem.
pub(super) fn split(line: &str) -> Result<Vec<Token>, (usize, String)> {
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().peekable();
    let mut current: Option<Token> = None;
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some(t) = current.take() {
                    tokens.push(t);
                }
            }
            '#' => break,
            '\'' | '"' => {
                let token = current.get_or_insert_with(|| Token {
                    text: String::new(),
                    offset: i,
                });
                let mut closed = false;
                while let Some((_, q)) = chars.next() {
                    if q == c {
                        closed = true;
                        break;
                    }
                    if c == '"'
                        && q == '\\'
                        && let Some(&(_, n)) = chars.peek()
                        && (n == '"' || n == '\\')
                    {
                        token.text.push(n);
                        chars.next();
                        continue;
                    }
                    token.text.push(q);
                }
                if !closed {
                    return Err((i, "no closing quotation".into()));
                }
            }
            '\\' => {
                let Some((_, n)) = chars.next() else {
                    return Err((i, "no escaped character after `\\`".into()));
                };
                current
                    .get_or_insert_with(|| Token {
                        text: String::new(),
                        offset: i,
                    })
                    .text
                    .push(n);
            }
            c => current
                .get_or_insert_with(|| Token {
                    text: String::new(),
                    offset: i,
                })
                .text
                .push(c),
        }
    }
    if let Some(t) = current {
        tokens.push(t);
    }
    Ok(tokens)
}

/// Just the words, for values such as `ansible_ssh_common_args`.
pub(super) fn words(line: &str) -> Option<Vec<String>> {
    split(line)
        .ok()
        .map(|ts| ts.into_iter().map(|t| t.text).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        split(line).unwrap().into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn splits_like_python_shlex() {
        assert_eq!(texts("web01  a=1 b=\"x y\""), ["web01", "a=1", "b=x y"]);
        assert_eq!(texts("h a='q \"z\"' # comment"), ["h", "a=q \"z\""]);
        assert_eq!(texts("h a=\"q \\\"z\\\" \\n\""), ["h", "a=q \"z\" \\n"]);
        assert_eq!(texts("h a\\ b c#d"), ["h", "a b", "c"]);
        assert_eq!(texts("h x=\"\""), ["h", "x="]);
        assert_eq!(split("web01 a=1").unwrap()[1].offset, 6);
    }

    #[test]
    fn errors_point_at_the_quote() {
        assert_eq!(split("h a=\"open").unwrap_err().0, 4);
        assert_eq!(split("h \\").unwrap_err().0, 2);
    }
}
