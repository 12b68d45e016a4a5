//! The page of `netsec plots show/diff`: every plot as inline SVG in one HTML file. No script,
//! no stylesheet or font from elsewhere: the file can be opened offline, mailed or archived.

use std::fmt::Write as _;

use netsec_common::html::escape as esc;

/// One plot on the page: its SVG, or why it could not be drawn.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub name: String,
    pub title: String,
    pub file: String,
    pub svg: Result<String, String>,
}

/// Styles shared by this page and the report's plot section.
pub const STYLE: &str = ".plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:1rem}figure.plot{margin:0;border:1px solid #ddd;padding:.5rem}figure.plot svg{width:100%;height:auto}figcaption{font-size:.85rem;color:#555}.error{color:#a00}\n";

/// The figures of `plots`, in order (for this page and for the report).
pub fn figures(plots: &[Rendered]) -> String {
    let mut h = String::from("<div class=\"plots\">\n");
    for p in plots {
        let _ = writeln!(h, "<figure class=\"plot\" id=\"plot-{}\">", esc(&p.name));
        match &p.svg {
            Ok(svg) => h.push_str(svg),
            Err(e) => {
                let _ = writeln!(
                    h,
                    "<p class=\"error\">{}: cannot draw: {}</p>",
                    esc(&p.title),
                    esc(e)
                );
            }
        }
        let _ = writeln!(
            h,
            "<figcaption>{} · <code>{}</code></figcaption></figure>",
            esc(&p.name),
            esc(&p.file)
        );
    }
    h.push_str("</div>\n");
    h
}

/// The whole page: a heading, a line saying what is compared, the plots.
pub fn page(heading: &str, subtitle: &str, plots: &[Rendered]) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    let _ = writeln!(h, "<title>{}</title>\n<style>", esc(heading));
    h.push_str(
        "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1300px;color:#222}\n",
    );
    h.push_str(STYLE);
    h.push_str("</style></head>\n<body>\n");
    let _ = writeln!(h, "<h1>{}</h1>\n<p>{}</p>", esc(heading), esc(subtitle));
    if plots.is_empty() {
        h.push_str("<p>No plots: declare `[plots.NAME]` in pipeline.toml or mark an out `plot = true`.</p>\n");
    }
    h.push_str(&figures(plots));
    h.push_str("</body></html>\n");
    h
}
