//! A report for people: one HTML page with SVG charts, readable with no script, no network and
//! no other file (`uba report`).
//!
//! Written by hand rather than with a charting crate because the page must be byte-for-byte the
//! same for the same results: every coordinate and number is formatted here, with a fixed number
//! of decimals, and nothing depends on the clock, the locale or the order of a hash map. The
//! charts carry their numbers (`data-value`, and a `<title>` a browser shows on hover), so a test
//! or a reader can check each mark against the results it was drawn from.

/// Escapes text for HTML and SVG, in content and in attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The page, built top to bottom: headings, paragraphs, code, tables and charts.
pub struct Page {
    title: String,
    body: String,
}

/// Inline, so that the page needs no other file; system fonts only (no web fonts to fetch).
const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',\
sans-serif;margin:24px auto;max-width:1000px;padding:0 16px;color:#222;background:#fff}\
h1{font-size:26px;margin:0 0 8px}h2{font-size:20px;margin:36px 0 8px;padding-top:8px;\
border-top:1px solid #ddd}p{line-height:1.45;margin:6px 0}\
pre{background:#f4f4f4;padding:6px 10px;font-size:12px;white-space:pre-wrap;word-break:break-all}\
.note{color:#8a5a00;background:#fff6e0;padding:6px 10px;border-left:3px solid #e0a000}\
svg{display:block;margin:12px 0;max-width:100%;height:auto}\
table{border-collapse:collapse;font-size:13px;margin:8px 0}\
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f0f0f0}";

impl Page {
    pub fn new(title: &str) -> Self {
        Page {
            title: title.to_owned(),
            body: format!("<h1>{}</h1>\n", escape(title)),
        }
    }

    pub fn heading(&mut self, text: &str) {
        self.body.push_str(&format!("<h2>{}</h2>\n", escape(text)));
    }

    pub fn paragraph(&mut self, text: &str) {
        self.body.push_str(&format!("<p>{}</p>\n", escape(text)));
    }

    /// A paragraph that stands out: why a section is missing, or what to read with care.
    pub fn note(&mut self, text: &str) {
        self.body
            .push_str(&format!("<p class=\"note\">{}</p>\n", escape(text)));
    }

    /// Preformatted text, such as the commands whose results a section draws.
    pub fn code(&mut self, text: &str) {
        self.body
            .push_str(&format!("<pre>{}</pre>\n", escape(text)));
    }

    /// An SVG written by a chart (`Chart::svg` or `Grid::svg`), as it is.
    pub fn svg(&mut self, svg: &str) {
        self.body.push_str(svg);
    }

    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) {
        let mut html = String::from("<table><tr>");
        for h in headers {
            html.push_str(&format!("<th>{}</th>", escape(h)));
        }
        html.push_str("</tr>\n");
        for row in rows {
            html.push_str("<tr>");
            for cell in row {
                html.push_str(&format!("<td>{}</td>", escape(cell)));
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</table>\n");
        self.body.push_str(&html);
    }

    /// The whole document.
    pub fn finish(self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
            escape(&self.title),
            self.body
        )
    }
}
