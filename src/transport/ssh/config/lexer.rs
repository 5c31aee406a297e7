//! Config lines split the way OpenSSH's readconf does (`Key value`, `Key=value`, quotes,
//! backslash escapes, `#` comments), with byte offsets for error positions. Shared with the
//! `~/.ssh/config` importer, so that both split a line the same way.

/// A tokenised config line: keyword and arguments with their byte offsets in the line.
#[derive(Debug)]
pub(crate) struct Line {
    pub keyword: String,
    pub keyword_offset: usize,
    pub args: Vec<Arg>,
    pub args_offset: usize,
}

#[derive(Debug)]
pub(crate) struct Arg {
    pub text: String,
    pub offset: usize,
}

/// Splits a line as OpenSSH's readconf does: keyword, whitespace or one `=`, then arguments
/// (quotes, backslash escapes, `#` starting a comment at the start of an argument). `None`
/// for blank and comment lines; `Err((byte offset, message))` for malformed ones.
pub(crate) fn tokenize(raw: &str) -> Result<Option<Line>, (usize, String)> {
    let line = raw.trim_end();
    let keyword_offset = line.len() - line.trim_start().len();
    let rest = &line[keyword_offset..];
    if rest.is_empty() || rest.starts_with('#') {
        return Ok(None);
    }
    let kw_len = rest
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(rest.len());
    if kw_len == 0 {
        return Err((keyword_offset, "missing keyword before `=`".into()));
    }
    let keyword = rest[..kw_len].to_string();
    let mut pos = keyword_offset + kw_len;
    pos += line[pos..].len() - line[pos..].trim_start().len();
    if line[pos..].starts_with('=') {
        pos += 1;
        pos += line[pos..].len() - line[pos..].trim_start().len();
    }
    if pos >= line.len() {
        return Err((pos, format!("no argument after keyword `{keyword}`")));
    }
    let args = split_args(&line[pos..])
        .map_err(|(off, msg)| (pos + off, msg))?
        .into_iter()
        .map(|a| Arg {
            text: a.text,
            offset: pos + a.offset,
        })
        .collect();
    Ok(Some(Line {
        keyword,
        keyword_offset,
        args,
        args_offset: pos,
    }))
}

/// OpenSSH `argv_split(…, terminate_on_comment = 1)`, keeping byte offsets.
fn split_args(s: &str) -> Result<Vec<Arg>, (usize, String)> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if c == ' ' || c == '\t' {
            i += 1;
            continue;
        }
        if c == '#' {
            break;
        }
        let mut text = String::new();
        let mut quote: Option<(char, usize)> = None;
        while i < chars.len() {
            let (off, c) = chars[i];
            if c == '\\' {
                if let Some(&(_, n)) = chars.get(i + 1)
                    && (matches!(n, '\'' | '"' | '\\') || (quote.is_none() && n == ' '))
                {
                    text.push(n);
                    i += 2;
                    continue;
                }
                text.push(c);
                i += 1;
                continue;
            }
            match quote {
                None if c == ' ' || c == '\t' => break,
                None if c == '"' || c == '\'' => quote = Some((c, off)),
                Some((q, _)) if c == q => quote = None,
                _ => text.push(c),
            }
            i += 1;
        }
        if let Some((q, off)) = quote {
            return Err((off, format!("unterminated {q} quote")));
        }
        out.push(Arg {
            text,
            offset: start,
        });
    }
    Ok(out)
}
