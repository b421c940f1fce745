//! rc(8)'s `stripcom`: a `#` starts a comment anywhere on the line, and
//! blank lines go. Yields (line number, trimmed text).

pub fn stripcom(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let l = l.split('#').next().unwrap_or("").trim();
        (!l.is_empty()).then_some((i + 1, l))
    })
}
