//! Two kinds of chart, as SVG: values per category ([`Chart`]: bars or lines, one or more
//! series, a legend), and a table of colored cells ([`Grid`]: rows by columns, such as the ranks
//! of items per window, where a line per item would be a tangle).
//!
//! Layout rules that keep a chart readable whatever the data: category labels are thinned so
//! that they never overlap, values are written on bars only where they fit, long row names are
//! cut (in full on hover), and the vertical axis ends at a round number.

use super::page::escape;

/// One number of a chart: its value, the text it had in the results (written verbatim into
/// `data-value`), and how it is shown to a reader.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub number: f64,
    pub text: String,
    pub label: String,
}

impl Value {
    /// A number as the results wrote it; `None` if it is not one.
    pub fn parse(text: &str) -> Option<Value> {
        let number: f64 = text.trim().parse().ok()?;
        number.is_finite().then(|| Value {
            number,
            text: text.to_owned(),
            label: readable(number),
        })
    }

    pub fn count(n: u64) -> Value {
        Value {
            number: n as f64,
            text: n.to_string(),
            label: readable(n as f64),
        }
    }
}

/// Whole numbers with thousands separators (`41,890`); others to 4 significant digits.
pub fn readable(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        let digits = format!("{}", x.abs() as u64);
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if x < 0.0 { format!("-{out}") } else { out }
    } else {
        let magnitude = x.abs().log10().floor() as i32;
        let decimals = (3 - magnitude).clamp(0, 12) as usize;
        format!("{x:.decimals$}")
    }
}

pub struct Series {
    pub name: String,
    /// One per category; `None` where the series has no value (a gap in a line, no bar).
    pub values: Vec<Option<Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bars,
    Lines,
}

/// Values per category: grouped bars, or lines through the categories' centres.
pub struct Chart {
    /// The svg's `id` (and `data-chart`), for links and tests.
    pub id: String,
    pub title: String,
    pub x_title: String,
    pub y_title: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    pub kind: Kind,
}

/// How a grid colors its cells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GridScale {
    /// Ranks 1..=max: rank 1 darkest.
    Rank { max: f64 },
    /// Counts: the largest darkest.
    Count,
}

/// Rows by columns of colored cells, each with its value written in it where it fits.
pub struct Grid {
    pub id: String,
    pub title: String,
    pub x_title: String,
    pub y_title: String,
    pub columns: Vec<String>,
    /// A row's name, and one value per column.
    pub rows: Vec<(String, Vec<Option<Value>>)>,
    pub scale: GridScale,
}

/// Tableau 10: distinct, and readable on white.
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

const WIDTH: f64 = 960.0;
const FONT: f64 = 12.0;

/// Coordinates with one decimal: enough for a screen, and the same text on every machine.
fn c(x: f64) -> String {
    format!("{x:.1}")
}

/// The width a text takes, near enough to keep labels apart (sans-serif averages 0.6 em).
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.6
}

/// Every how many categories a label fits, for labels `band` apart.
fn label_every(labels: &[String], band: f64) -> usize {
    let widest = labels
        .iter()
        .map(|l| text_width(l, FONT - 1.0))
        .fold(0.0, f64::max);
    ((widest + 10.0) / band).ceil().max(1.0) as usize
}

/// A round step near `span / 5`: 1, 2 or 5 times a power of ten.
fn nice_step(span: f64) -> f64 {
    if span <= 0.0 {
        return 1.0;
    }
    let raw = span / 5.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    if step < 1.0 {
        // Rounded so that 0.1 * 3 prints as 0.3.
        let decimals = -step.log10().floor() as i32;
        (step * 10f64.powi(decimals)).round() / 10f64.powi(decimals)
    } else {
        step
    }
}

fn tick_label(value: f64, step: f64) -> String {
    if step >= 1.0 {
        readable(value.round())
    } else {
        let decimals = (-step.log10().floor()) as usize;
        format!("{value:.decimals$}")
    }
}

fn svg_open(out: &mut String, id: &str, height: f64, title: &str) {
    out.push_str(&format!(
        "<svg id=\"{id}\" data-chart=\"{id}\" \
         width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" \
         font-size=\"{FONT}\" role=\"img\" aria-label=\"{t}\">\n<title>{t}</title>\n\
         <text x=\"{x}\" y=\"20\" font-size=\"15\" font-weight=\"bold\">{t}</text>\n",
        id = escape(id),
        w = c(WIDTH),
        h = c(height),
        t = escape(title),
        x = c(10.0),
    ));
}

/// Category labels under the plot, thinned so they never overlap, and the axis title.
fn x_labels(out: &mut String, labels: &[String], left: f64, band: f64, baseline: f64, title: &str) {
    let every = label_every(labels, band);
    for (i, label) in labels.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        let x = left + band * (i as f64 + 0.5);
        out.push_str(&format!(
            "<line x1=\"{x}\" y1=\"{y0}\" x2=\"{x}\" y2=\"{y1}\" stroke=\"#888\"/>\
             <text x=\"{x}\" y=\"{y2}\" text-anchor=\"middle\" font-size=\"{f}\">{l}</text>\n",
            x = c(x),
            y0 = c(baseline),
            y1 = c(baseline + 4.0),
            y2 = c(baseline + 17.0),
            f = FONT - 1.0,
            l = escape(label),
        ));
    }
    out.push_str(&format!(
        "<text x=\"{x}\" y=\"{y}\" text-anchor=\"middle\" fill=\"#444\">{t}</text>\n",
        x = c(left + band * labels.len() as f64 / 2.0),
        y = c(baseline + 36.0),
        t = escape(title),
    ));
}

/// Swatches and names, left to right, wrapping; returns the height used.
fn legend(out: &mut String, names: &[&str], top: f64, left: f64, lines: bool) -> f64 {
    let (mut x, mut y) = (left, top);
    for (i, name) in names.iter().enumerate() {
        let w = 24.0 + text_width(name, FONT) + 18.0;
        if x + w > WIDTH - 10.0 && x > left {
            x = left;
            y += 20.0;
        }
        let color = PALETTE[i % PALETTE.len()];
        if lines {
            out.push_str(&format!(
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{color}\" stroke-width=\"3\"/>",
                c(x),
                c(y - 4.0),
                c(x + 18.0),
                c(y - 4.0)
            ));
        } else {
            out.push_str(&format!(
                "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"14\" fill=\"{color}\"/>",
                c(x),
                c(y - 12.0)
            ));
        }
        out.push_str(&format!(
            "<text class=\"legend\" x=\"{}\" y=\"{}\">{}</text>\n",
            c(x + 24.0),
            c(y),
            escape(name)
        ));
        x += w;
    }
    y - top + 20.0
}

impl Chart {
    pub fn svg(&self) -> String {
        let (left, right, top, plot_h) = (80.0, 20.0, 44.0, 260.0);
        let plot_w = WIDTH - left - right;
        let n = self.categories.len().max(1);
        let band = plot_w / n as f64;
        let bottom = top + plot_h;
        let values = self.series.iter().flat_map(|s| s.values.iter().flatten());
        let max = values.map(|v| v.number).fold(0.0, f64::max);
        // Counts get whole-number ticks: a fifth of a result is not a thing.
        let whole = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .all(|v| v.number.fract() == 0.0);
        let step = if whole {
            nice_step(max).max(1.0)
        } else {
            nice_step(max)
        };
        let top_value = if max > 0.0 {
            (max / step).ceil() * step
        } else {
            step
        };
        let y_of = |v: f64| bottom - plot_h * (v.max(0.0) / top_value);

        let mut body = String::new();
        // Grid lines and the vertical axis's labels.
        let ticks = (top_value / step).round() as usize;
        for i in 0..=ticks {
            let v = step * i as f64;
            let y = y_of(v);
            body.push_str(&format!(
                "<line x1=\"{l}\" y1=\"{y}\" x2=\"{r}\" y2=\"{y}\" stroke=\"{s}\"/>\
                 <text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"{f}\">{t}</text>\n",
                l = c(left),
                r = c(left + plot_w),
                y = c(y),
                s = if i == 0 { "#444" } else { "#e4e4e4" },
                tx = c(left - 6.0),
                ty = c(y + 4.0),
                f = FONT - 1.0,
                t = tick_label(v, step),
            ));
        }
        body.push_str(&format!(
            "<text transform=\"translate(16,{}) rotate(-90)\" text-anchor=\"middle\" fill=\"#444\">{}</text>\n",
            c(top + plot_h / 2.0),
            escape(&self.y_title)
        ));
        match self.kind {
            Kind::Bars => self.bars(&mut body, left, band, &y_of, bottom),
            Kind::Lines => self.lines(&mut body, left, band, &y_of),
        }
        x_labels(
            &mut body,
            &self.categories,
            left,
            band,
            bottom,
            &self.x_title,
        );
        let mut legend_svg = String::new();
        let legend_h = if self.series.len() > 1 {
            let names: Vec<&str> = self.series.iter().map(|s| s.name.as_str()).collect();
            legend(
                &mut legend_svg,
                &names,
                bottom + 62.0,
                left,
                self.kind == Kind::Lines,
            )
        } else {
            0.0
        };
        let mut out = String::new();
        svg_open(
            &mut out,
            &self.id,
            bottom + 52.0 + legend_h + 8.0,
            &self.title,
        );
        out.push_str(&body);
        out.push_str(&legend_svg);
        out.push_str("</svg>\n");
        out
    }

    fn bars(&self, out: &mut String, left: f64, band: f64, y_of: &dyn Fn(f64) -> f64, bottom: f64) {
        // Bars no wider than 70 px, the group centred in its band: three wide slabs read badly.
        let k = self.series.len().max(1) as f64;
        let width = (band * 0.8 / k).min(70.0);
        let margin = (band - width * k) / 2.0;
        for (s, series) in self.series.iter().enumerate() {
            let color = PALETTE[s % PALETTE.len()];
            for (i, value) in series.values.iter().enumerate() {
                let Some(value) = value else { continue };
                let x = left + band * i as f64 + margin + width * s as f64;
                let y = y_of(value.number);
                let category = self.categories.get(i).map(String::as_str).unwrap_or("");
                out.push_str(&format!(
                    "<rect class=\"bar\" data-series=\"{sn}\" data-category=\"{cat}\" \
                     data-value=\"{v}\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" \
                     fill=\"{color}\"><title>{sn}, {cat}: {l}</title></rect>\n",
                    sn = escape(&series.name),
                    cat = escape(category),
                    v = escape(&value.text),
                    x = c(x),
                    y = c(y),
                    w = c((width - 1.0).max(1.0)),
                    h = c(bottom - y),
                    l = escape(&value.label),
                ));
                if text_width(&value.label, FONT - 2.0) <= width + 2.0 {
                    out.push_str(&format!(
                        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\">{}</text>\n",
                        c(x + width / 2.0),
                        c(y - 4.0),
                        FONT - 2.0,
                        escape(&value.label)
                    ));
                }
            }
        }
    }

    fn lines(&self, out: &mut String, left: f64, band: f64, y_of: &dyn Fn(f64) -> f64) {
        for (s, series) in self.series.iter().enumerate() {
            let color = PALETTE[s % PALETTE.len()];
            let point = |i: usize, v: &Value| (left + band * (i as f64 + 0.5), y_of(v.number));
            // One polyline per run of consecutive values: a gap is a missing value.
            let mut run: Vec<String> = Vec::new();
            let flush = |run: &mut Vec<String>, out: &mut String| {
                if run.len() > 1 {
                    out.push_str(&format!(
                        "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>\n",
                        run.join(" ")
                    ));
                }
                run.clear();
            };
            for (i, value) in series.values.iter().enumerate() {
                match value {
                    Some(v) => {
                        let (x, y) = point(i, v);
                        run.push(format!("{},{}", c(x), c(y)));
                    }
                    None => flush(&mut run, out),
                }
            }
            flush(&mut run, out);
            for (i, value) in series.values.iter().enumerate() {
                let Some(v) = value else { continue };
                let (x, y) = point(i, v);
                let category = self.categories.get(i).map(String::as_str).unwrap_or("");
                out.push_str(&format!(
                    "<circle class=\"point\" data-series=\"{sn}\" data-category=\"{cat}\" \
                     data-value=\"{v}\" cx=\"{x}\" cy=\"{y}\" r=\"3.5\" fill=\"{color}\">\
                     <title>{sn}, {cat}: {l}</title></circle>\n",
                    sn = escape(&series.name),
                    cat = escape(category),
                    v = escape(&v.text),
                    x = c(x),
                    y = c(y),
                    l = escape(&v.label),
                ));
            }
        }
    }
}

/// Light blue to dark blue, `t` from 0 to 1.
fn shade(t: f64) -> (String, bool) {
    let t = t.clamp(0.0, 1.0);
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    let color = format!(
        "#{:02x}{:02x}{:02x}",
        mix(222.0, 16.0),
        mix(235.0, 63.0),
        mix(247.0, 122.0)
    );
    (color, t > 0.5)
}

/// Cuts a name to `max` characters, marking the cut.
fn cut(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        name.to_owned()
    } else {
        let kept: String = name.chars().take(max - 1).collect();
        format!("{kept}…")
    }
}

impl Grid {
    pub fn svg(&self) -> String {
        const NAME_CHARS: usize = 40;
        let names: Vec<String> = self.rows.iter().map(|(n, _)| cut(n, NAME_CHARS)).collect();
        let name_w = names
            .iter()
            .map(|n| text_width(n, FONT - 1.0))
            .fold(40.0, f64::max);
        let left = 16.0 + name_w + 8.0;
        let top = 58.0;
        let n = self.columns.len().max(1) as f64;
        let cell_w = ((WIDTH - left - 20.0) / n).min(48.0);
        let cell_h = 18.0;
        let bottom = top + cell_h * self.rows.len() as f64;
        let max = self
            .rows
            .iter()
            .flat_map(|(_, v)| v.iter().flatten())
            .map(|v| v.number)
            .fold(0.0, f64::max);

        let mut out = String::new();
        svg_open(&mut out, &self.id, bottom + 52.0, &self.title);
        out.push_str(&format!(
            "<text x=\"10\" y=\"{}\" font-weight=\"bold\" fill=\"#444\">{}</text>\n",
            c(top - 8.0),
            escape(&self.y_title)
        ));
        for (r, ((name, values), short)) in self.rows.iter().zip(&names).enumerate() {
            let y = top + cell_h * r as f64;
            out.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"{}\">{}<title>{}</title></text>\n",
                c(left - 6.0),
                c(y + cell_h - 5.0),
                FONT - 1.0,
                escape(short),
                escape(name)
            ));
            if r % 2 == 1 {
                out.push_str(&format!(
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f6f6f6\"/>\n",
                    c(left),
                    c(y),
                    c(cell_w * n),
                    c(cell_h)
                ));
            }
            for (i, value) in values.iter().enumerate() {
                let Some(value) = value else { continue };
                let t = match self.scale {
                    GridScale::Rank { max } if max > 1.0 => {
                        1.0 - 0.75 * (value.number - 1.0) / (max - 1.0)
                    }
                    GridScale::Rank { .. } => 1.0,
                    GridScale::Count if max > 0.0 => 0.15 + 0.85 * value.number / max,
                    GridScale::Count => 0.15,
                };
                let (fill, dark) = shade(t);
                let x = left + cell_w * i as f64;
                let column = self.columns.get(i).map(String::as_str).unwrap_or("");
                out.push_str(&format!(
                    "<rect class=\"cell\" data-row=\"{rn}\" data-column=\"{col}\" data-value=\"{v}\" \
                     x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"{fill}\" stroke=\"#fff\">\
                     <title>{rn}, {col}: {l}</title></rect>\n",
                    rn = escape(name),
                    col = escape(column),
                    v = escape(&value.text),
                    x = c(x),
                    y = c(y),
                    w = c(cell_w),
                    h = c(cell_h),
                    l = escape(&value.label),
                ));
                if text_width(&value.label, FONT - 2.0) <= cell_w - 2.0 {
                    out.push_str(&format!(
                        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" fill=\"{}\">{}</text>\n",
                        c(x + cell_w / 2.0),
                        c(y + cell_h - 5.0),
                        FONT - 2.0,
                        if dark { "#fff" } else { "#222" },
                        escape(&value.label)
                    ));
                }
            }
        }
        x_labels(&mut out, &self.columns, left, cell_w, bottom, &self.x_title);
        out.push_str("</svg>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_numbers() {
        assert_eq!(readable(41890.0), "41,890");
        assert_eq!(readable(1234567.0), "1,234,567");
        assert_eq!(readable(7.0), "7");
        assert_eq!(readable(0.04734714143850192), "0.04735");
        assert_eq!(readable(-0.0031718569780853517), "-0.003172");
    }

    #[test]
    fn round_steps() {
        assert_eq!(nice_step(48022.0), 10000.0);
        assert_eq!(nice_step(5.0), 1.0);
        assert_eq!(nice_step(0.09), 0.02);
        assert_eq!(tick_label(0.06, 0.02), "0.06");
        assert_eq!(tick_label(20000.0, 10000.0), "20,000");
    }
}
