//! CSV as spreadsheets and scripts read it: RFC 4180 (CRLF line ends; a field holding `"`, `,`,
//! CR or LF is quoted, with inner quotes doubled), and safe to open in a spreadsheet: a cell
//! that starts with `=`, `+`, `-`, `@`, a tab or a CR would be read as a formula (CSV
//! injection, OWASP), so it is prefixed with a single quote `'`, which spreadsheets show as
//! text. Pure: no I/O, used by the export handlers a page at a time.

/// The characters that make a spreadsheet read a cell as a formula (OWASP's list).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One cell as written: neutralised, then quoted when RFC 4180 requires it.
pub fn cell(value: &str) -> String {
    let neutral = if value.starts_with(FORMULA_STARTS) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if neutral.contains(['"', ',', '\r', '\n']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// Appends one record (its cells and the CRLF that ends it) to `out`.
pub fn push_record<'a>(out: &mut String, cells: impl IntoIterator<Item = &'a str>) {
    for (i, value) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&cell(value));
    }
    out.push_str("\r\n");
}

/// A `Content-Disposition` value for a download (`name` is ours: slugs, digits, `-`, `.`).
pub fn attachment(name: &str) -> String {
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    format!("attachment; filename=\"{safe}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader with RFC 4180's rules, to prove what is written reads back the same.
    fn parse(text: &str) -> Vec<Vec<String>> {
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut field = String::new();
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') if field.is_empty() => quoted = true,
                (false, ',') => record.push(std::mem::take(&mut field)),
                (false, '\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                (false, c) => field.push(c),
            }
        }
        records
    }

    #[test]
    fn plain_cells_are_written_as_they_are() {
        for plain in [
            "",
            "GU-2026-000042",
            "Institut Curie",
            "0.33",
            "2026-12-04T17:00:00Z",
        ] {
            assert_eq!(cell(plain), plain);
        }
    }

    #[test]
    fn fields_with_separators_quotes_or_line_breaks_are_quoted() {
        let table = [
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("cr\rhere", "\"cr\rhere\""),
            ("crlf\r\nhere", "\"crlf\r\nhere\""),
            ("\"", "\"\"\"\""),
        ];
        for (value, written) in table {
            assert_eq!(cell(value), written, "{value:?}");
        }
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_prefixed_with_a_quote() {
        let table = [
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("=1+1", "'=1+1"),
            ("+33 1 23", "'+33 1 23"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\rcmd", "\"'\rcmd\""),
        ];
        for (value, written) in table {
            assert_eq!(cell(value), written, "{value:?}");
        }
        // Only the first character matters.
        assert_eq!(cell("a=b"), "a=b");
        assert_eq!(cell(" =1"), " =1");
    }

    #[test]
    fn records_end_with_crlf_and_read_back_as_written() {
        let rows: Vec<Vec<&str>> = vec![
            vec!["reference", "title"],
            vec!["GU-2026-000001", "Sites, \"quoted\" and\nmultiline"],
            vec!["GU-2026-000002", ""],
            vec!["GU-2026-000003", "=cmd|' /C calc'!A0"],
        ];
        let mut out = String::new();
        for row in &rows {
            push_record(&mut out, row.iter().copied());
        }
        assert!(out.starts_with("reference,title\r\n"));
        assert!(out.ends_with("GU-2026-000003,'=cmd|' /C calc'!A0\r\n"));
        let back = parse(&out);
        assert_eq!(back.len(), 4);
        assert_eq!(back[1][1], "Sites, \"quoted\" and\nmultiline");
        assert_eq!(back[2], vec!["GU-2026-000002", ""]);
        // The neutralised cell reads back with its quote, and never as a formula.
        assert_eq!(back[3][1], "'=cmd|' /C calc'!A0");
    }

    #[test]
    fn an_attachment_name_cannot_break_out_of_its_quotes() {
        assert_eq!(
            attachment("referrals-curie-20261204T101500Z.csv"),
            "attachment; filename=\"referrals-curie-20261204T101500Z.csv\""
        );
        assert_eq!(
            attachment("a\"b;\r\nc.csv"),
            "attachment; filename=\"abc.csv\""
        );
    }
}
