//! How deeply a YAML text nests, measured before it is parsed: YAML parsers recurse (or build
//! one event per level) on nesting, so a file nested 100,000 deep must be refused before one runs.
//!
//! The scan is a cheap over-estimate, never an under-estimate of the real depth for the YAML
//! netsec reads (schema.yaml, params files): block nesting is the stack of increasing
//! indentations plus the `- ` entries opened on one line, flow nesting is the count of open
//! `[`/`{` outside quoted scalars and comments. Block scalars (`|`, `>`) are not special-cased,
//! so a deeply indented block scalar may count as nesting; such files are not ours to read.

/// The first line (1-based) at which `text` nests deeper than `max`, with the depth found there.
pub fn yaml_too_deep(text: &str, max: usize) -> Option<(usize, usize)> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let body = line.trim_start_matches([' ', '\t']);
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if flow == 0 {
            let indent = line.len() - body.len();
            while indents.last().is_some_and(|&top| top > indent) {
                indents.pop();
            }
            if indents.last().is_none_or(|&top| top < indent) {
                indents.push(indent);
            }
        }
        // `- - - x` opens one sequence per dash on a single line.
        let mut dashes = 0usize;
        let mut rest = body;
        while let Some(r) = rest.strip_prefix('-') {
            if r.is_empty() || r.starts_with([' ', '\t']) {
                dashes += 1;
                rest = r.trim_start_matches([' ', '\t']);
            } else {
                break;
            }
        }
        let block = indents.len() + dashes;
        if block > max {
            return Some((line_no, block));
        }
        // Flow collections, skipping quoted scalars and comments.
        let bytes = rest.as_bytes();
        let mut i = 0;
        let mut prev = b' ';
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'#' if prev == b' ' || prev == b'\t' => break,
                b'"' | b'\'' if matches!(prev, b' ' | b'\t' | b'[' | b'{' | b',' | b':' | b'-') => {
                    i += 1;
                    while i < bytes.len() {
                        if b == b'"' && bytes[i] == b'\\' {
                            i += 2;
                            continue;
                        }
                        if bytes[i] == b {
                            break;
                        }
                        i += 1;
                    }
                }
                b'[' | b'{' => {
                    flow += 1;
                    if block + flow > max {
                        return Some((line_no, block + flow));
                    }
                }
                b']' | b'}' => flow = flow.saturating_sub(1),
                _ => {}
            }
            prev = b;
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_yaml_is_shallow() {
        let text = "version: 1\ntarget:\n  column: Result\n  labels:\n    phishing: -1\n\
                    columns:\n  - { name: a, dtype: int64, allowed: [-1, 0, 1] }\n  - name: \"b[\"\n    dtype: float64 # [[[\n";
        assert_eq!(yaml_too_deep(text, 8), None);
    }

    #[test]
    fn deep_flow_block_and_dashes_are_found() {
        let flow = "a: ".to_string() + &"[".repeat(100) + &"]".repeat(100);
        assert_eq!(yaml_too_deep(&flow, 64), Some((1, 65)));
        let dashes = "- ".repeat(100) + "x";
        assert_eq!(yaml_too_deep(&dashes, 64).map(|d| d.0), Some(1));
        let block: String = (0..100)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert_eq!(yaml_too_deep(&block, 64), Some((65, 65)));
        let multiline = "a: [\n".to_string() + &"[\n".repeat(70);
        assert!(yaml_too_deep(&multiline, 64).is_some());
    }
}
