//! The CSV that Windows console tools write with `/FO CSV` (`schtasks`, `eventtriggers`): every
//! field in double quotes, separated by commas, one record per line, `""` for a quote inside a
//! field. eventtriggers does not escape the quotes of its last field (the task's command line),
//! so [`split_first`] reads only the leading fields and returns the rest of the line.

/// The fields of one CSV line, or the byte offset (in the line) where it stops being CSV.
pub fn split(line: &str) -> Result<Vec<String>, (usize, &'static str)> {
    let mut fields = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    loop {
        if bytes.get(i) != Some(&b'"') {
            return Err((i, "expected a field in double quotes"));
        }
        let (field, next) = quoted(line, i)?;
        fields.push(field);
        i = next;
        match bytes.get(i) {
            None => return Ok(fields),
            Some(b',') => i += 1,
            Some(_) => return Err((i, "expected a comma or the end of the line after a field")),
        }
    }
}

/// The first `n` quoted fields and the rest of the line after the comma that follows them.
pub fn split_first(line: &str, n: usize) -> Result<(Vec<String>, &str), (usize, &'static str)> {
    let bytes = line.as_bytes();
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < n {
        if bytes.get(i) != Some(&b'"') {
            return Err((i, "expected a field in double quotes"));
        }
        let (field, next) = quoted(line, i)?;
        fields.push(field);
        i = next;
        if bytes.get(i) != Some(&b',') {
            return Err((i, "expected a comma after a field"));
        }
        i += 1;
    }
    Ok((fields, &line[i..]))
}

/// The quoted field starting at `start` (a `"`): its text and the offset after its closing quote.
fn quoted(line: &str, start: usize) -> Result<(String, usize), (usize, &'static str)> {
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut i = start + 1;
    let mut run = i;
    loop {
        match bytes.get(i) {
            None => return Err((start, "a quoted field is not closed on its line")),
            Some(b'"') if bytes.get(i + 1) == Some(&b'"') => {
                out.push_str(&line[run..=i]);
                i += 2;
                run = i;
            }
            Some(b'"') => {
                out.push_str(&line[run..i]);
                return Ok((out, i + 1));
            }
            Some(_) => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_with_doubled_quotes() {
        assert_eq!(
            split(r#""a","b ""c""","""#).unwrap(),
            vec!["a", "b \"c\"", ""]
        );
        assert!(split(r#""a",b"#).is_err());
        assert!(split(r#""a"#).is_err());
        let (f, rest) = split_first(r#""1","name","x "y" z""#, 2).unwrap();
        assert_eq!(f, vec!["1", "name"]);
        assert_eq!(rest, r#""x "y" z""#);
    }
}
