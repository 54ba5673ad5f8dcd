//! Reading rc-file text the way the shell reads it, far enough to know which lines begin at
//! top level: outside every quote, here-document body, command substitution and line
//! continuation. Only such a line can be one of cclocal's block markers; the same text
//! inside a here-document or a multi-line string is data (`docs/shell.md`, "Finding the block").
//!
//! The state is carried across lines: single quotes, double quotes, `$'…'` (with `\'`),
//! backslash escapes, comments (`#` only at the start of a word), here-documents (`<<WORD`,
//! `<<-WORD`, quoted delimiters, several on one line, bodies read in order), here-strings
//! (`<<<`), `$(…)`, `$((…))`, `((…))`, `${…}`, backticks, and a pipeline or `&&`/`||` left open
//! at the end of a line. fish has its own rules: no here-documents, `\'` and `\\` escapes in
//! single quotes, `(…)` and `$(…)` command substitutions.

use std::collections::VecDeque;

/// Which shell's grammar the text is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// bash and zsh (POSIX sh plus `$'…'`).
    Posix,
    Fish,
}

impl Dialect {
    /// fish for a `*.fish` file, else bash/zsh.
    pub fn of_path(path: &std::path::Path) -> Dialect {
        if path.extension().is_some_and(|e| e == "fish") {
            Dialect::Fish
        } else {
            Dialect::Posix
        }
    }
}

/// An open construct that can span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// `'…'`.
    Single,
    /// `"…"`.
    Double,
    /// `$'…'` (bash, zsh).
    AnsiC,
    /// `$(…)` or `(…)` (a subshell; in fish, a command substitution): code until `)`.
    Paren,
    /// `$((…))` or `((…))`: arithmetic, where `<<` is a shift; `depth` counts inner `(`.
    Arith { depth: u32 },
    /// `` `…` ``.
    Backtick,
    /// `${…}`.
    Brace,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Heredoc {
    delim: String,
    /// `<<-`: leading tabs are stripped from the body and the terminator.
    strip_tabs: bool,
}

#[derive(Debug, Default)]
struct Lexer {
    stack: Vec<Ctx>,
    /// Here-documents opened by the current command line, bodies not yet read.
    pending: VecDeque<Heredoc>,
    /// The bodies in `pending` are being read (a newline came after the opening line).
    in_bodies: bool,
    /// The previous line ended in `\` + newline, `|`, `&&` or `||`.
    continued: bool,
    /// … and it was `|`, `&&` or `||` (which blank and comment lines do not end).
    by_op: bool,
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Characters that end a word and let the next one start (`#` after them is a comment).
fn is_meta(c: char) -> bool {
    matches!(c, ';' | '&' | '|' | '(' | ')' | '<' | '>')
}

impl Lexer {
    fn at_top(&self) -> bool {
        self.stack.is_empty() && self.pending.is_empty() && !self.in_bodies && !self.continued
    }

    /// Whether the innermost open construct is code (where `#`, quotes, `<<` mean something).
    fn in_code(&self) -> bool {
        matches!(self.stack.last(), None | Some(Ctx::Paren))
    }

    fn set_top(&mut self, c: Ctx) {
        if let Some(t) = self.stack.last_mut() {
            *t = c;
        }
    }

    /// Reads one line (with its `\n`, if any).
    fn line(&mut self, line: &str, d: Dialect) {
        if self.in_bodies {
            let text = line.strip_suffix('\n').unwrap_or(line);
            if let Some(h) = self.pending.front() {
                let t = if h.strip_tabs {
                    text.trim_start_matches('\t')
                } else {
                    text
                };
                if t == h.delim {
                    self.pending.pop_front();
                }
            }
            if self.pending.is_empty() {
                self.in_bodies = false;
            }
            return;
        }
        let after_op = self.continued && self.by_op;
        self.continued = false;
        self.by_op = false;
        let c: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut word_start = true;
        // The last two significant characters of code at top level (for `|`, `&&`, `||`).
        let mut last: [char; 2] = [' ', ' '];
        while i < c.len() {
            let ch = c[i];
            let next = c.get(i + 1).copied();
            if ch == '\n' {
                break;
            }
            match self.stack.last().copied() {
                Some(Ctx::Single) => {
                    if d == Dialect::Fish && ch == '\\' && matches!(next, Some('\'' | '\\')) {
                        i += 2;
                        continue;
                    }
                    if ch == '\'' {
                        self.stack.pop();
                    }
                    i += 1;
                    continue;
                }
                Some(Ctx::AnsiC) | Some(Ctx::Backtick) => {
                    let close = if self.stack.last() == Some(&Ctx::AnsiC) {
                        '\''
                    } else {
                        '`'
                    };
                    if ch == '\\' {
                        i += 2;
                        continue;
                    }
                    if ch == close {
                        self.stack.pop();
                    }
                    i += 1;
                    continue;
                }
                Some(Ctx::Double) => {
                    match ch {
                        '\\' => i += 1,
                        '"' => {
                            self.stack.pop();
                        }
                        '$' => i += self.dollar(&c, i, d),
                        '`' if d == Dialect::Posix => self.stack.push(Ctx::Backtick),
                        _ => {}
                    }
                    i += 1;
                    continue;
                }
                Some(Ctx::Arith { depth }) => {
                    match ch {
                        '(' => self.set_top(Ctx::Arith { depth: depth + 1 }),
                        ')' if depth > 0 => self.set_top(Ctx::Arith { depth: depth - 1 }),
                        ')' if next == Some(')') => {
                            self.stack.pop();
                            i += 1;
                        }
                        '$' => i += self.dollar(&c, i, d),
                        '`' => self.stack.push(Ctx::Backtick),
                        '\'' => self.stack.push(Ctx::Single),
                        '"' => self.stack.push(Ctx::Double),
                        '\\' => i += 1,
                        _ => {}
                    }
                    i += 1;
                    continue;
                }
                Some(Ctx::Brace) => {
                    match ch {
                        '}' => {
                            self.stack.pop();
                        }
                        '\\' => i += 1,
                        '\'' => self.stack.push(Ctx::Single),
                        '"' => self.stack.push(Ctx::Double),
                        '`' => self.stack.push(Ctx::Backtick),
                        '$' => i += self.dollar(&c, i, d),
                        _ => {}
                    }
                    i += 1;
                    continue;
                }
                None | Some(Ctx::Paren) => {}
            }
            // Code.
            debug_assert!(self.in_code());
            if ch == '#' && word_start {
                break;
            }
            if !is_blank(ch) && self.stack.is_empty() {
                last = [last[1], ch];
            }
            match ch {
                '\\' => {
                    if next.is_none() || next == Some('\n') {
                        self.continued = true;
                        break;
                    }
                    i += 2;
                    word_start = false;
                    continue;
                }
                '\'' => self.stack.push(Ctx::Single),
                '"' => self.stack.push(Ctx::Double),
                '`' if d == Dialect::Posix => self.stack.push(Ctx::Backtick),
                '$' => i += self.dollar(&c, i, d),
                '(' => {
                    if d == Dialect::Posix && next == Some('(') && word_start {
                        self.stack.push(Ctx::Arith { depth: 0 });
                        i += 1;
                    } else {
                        self.stack.push(Ctx::Paren);
                    }
                }
                ')' if self.stack.last() == Some(&Ctx::Paren) => {
                    self.stack.pop();
                }
                '<' if d == Dialect::Posix && next == Some('<') => {
                    if c.get(i + 2) == Some(&'<') {
                        i += 3; // a here-string: its word is read as code
                        word_start = true;
                        continue;
                    }
                    i = self.heredoc(&c, i + 2);
                    word_start = true;
                    continue;
                }
                _ => {}
            }
            word_start = is_blank(ch) || is_meta(ch);
            i += 1;
        }
        if self.stack.is_empty()
            && !self.continued
            && d == Dialect::Posix
            && (last[1] == '|' || last == ['&', '&'] || (after_op && last == [' ', ' ']))
        {
            // The command goes on after `|`, `&&`, `||`, past blank and comment lines.
            self.continued = true;
            self.by_op = true;
        }
        if !self.pending.is_empty() {
            self.in_bodies = true;
        }
    }

    /// At a `$` (index `i`): opens `$(`, `$((`, `${` or `$'`; returns how many characters
    /// beyond the `$` were consumed.
    fn dollar(&mut self, c: &[char], i: usize, d: Dialect) -> usize {
        match (c.get(i + 1), c.get(i + 2)) {
            (Some('('), Some('(')) if d == Dialect::Posix => {
                self.stack.push(Ctx::Arith { depth: 0 });
                2
            }
            (Some('('), _) => {
                self.stack.push(Ctx::Paren);
                1
            }
            (Some('{'), _) if d == Dialect::Posix => {
                self.stack.push(Ctx::Brace);
                1
            }
            (Some('\''), _) if d == Dialect::Posix && self.in_code() => {
                self.stack.push(Ctx::AnsiC);
                1
            }
            _ => 0,
        }
    }

    /// After `<<` (index `i` is just past it): reads the delimiter word and queues the
    /// here-document; returns the index after the word.
    fn heredoc(&mut self, c: &[char], mut i: usize) -> usize {
        let strip_tabs = c.get(i) == Some(&'-');
        if strip_tabs {
            i += 1;
        }
        while c.get(i).is_some_and(|ch| is_blank(*ch)) {
            i += 1;
        }
        let mut delim = String::new();
        while let Some(&ch) = c.get(i) {
            match ch {
                '\'' | '"' => {
                    i += 1;
                    while let Some(&q) = c.get(i) {
                        if q == ch {
                            break;
                        }
                        if ch == '"'
                            && q == '\\'
                            && c.get(i + 1).is_some_and(|n| "\\\"$`".contains(*n))
                        {
                            i += 1;
                        }
                        if c[i] == '\n' {
                            break;
                        }
                        delim.push(c[i]);
                        i += 1;
                    }
                    i += 1;
                }
                '\\' => {
                    if let Some(&n) = c.get(i + 1).filter(|n| **n != '\n') {
                        delim.push(n);
                    }
                    i += 2;
                }
                ch if is_blank(ch) || is_meta(ch) || ch == '\n' => break,
                ch => {
                    delim.push(ch);
                    i += 1;
                }
            }
        }
        if !delim.is_empty() {
            self.pending.push_back(Heredoc { delim, strip_tabs });
        }
        i
    }
}

/// One scan from a fresh state: whether each line starts at top level, and the line where
/// the construct still open at the end began (`None` when everything closed).
fn scan(lines: &[&str], d: Dialect) -> (Vec<bool>, Option<usize>) {
    let mut lx = Lexer::default();
    let mut top = Vec::with_capacity(lines.len());
    let mut opened = None;
    for (i, l) in lines.iter().enumerate() {
        let t = lx.at_top();
        top.push(t);
        lx.line(l, d);
        if t && !lx.at_top() {
            opened = Some(i);
        }
    }
    (top, (!lx.at_top()).then_some(opened).flatten())
}

/// For each line (as split by `split_inclusive('\n')`), whether it begins at top level.
///
/// Text that never closes what it opens (a here-document without its terminator, a quote
/// left open) is not a file the shell runs to the end; from the line after the unclosed
/// opener, the lines are read again as lines, so a block appended after it is still found.
pub fn top_level_lines(lines: &[&str], d: Dialect) -> Vec<bool> {
    let mut out = Vec::with_capacity(lines.len());
    let mut start = 0;
    // Each reading is linear; a hostile file of openers (`$(` on every line) would need one
    // per line, so after a few the rest is judged line by line without the lexer.
    for _ in 0..MAX_READINGS {
        if start >= lines.len() {
            return out;
        }
        let (top, open) = scan(&lines[start..], d);
        match open {
            Some(k) => {
                out.extend_from_slice(&top[..=k]);
                start += k + 1;
            }
            None => {
                out.extend(top);
                return out;
            }
        }
    }
    out.resize(lines.len(), true);
    out
}

/// How many times [`top_level_lines`] reads the text again after an unclosed opener.
const MAX_READINGS: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    fn tops(text: &str, d: Dialect) -> Vec<bool> {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        top_level_lines(&lines, d)
    }

    /// The lines (trimmed) that begin at top level.
    fn top_texts(text: &str, d: Dialect) -> Vec<&str> {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        top_level_lines(&lines, d)
            .iter()
            .zip(&lines)
            .filter(|(t, _)| **t)
            .map(|(_, l)| l.trim_end())
            .collect()
    }

    #[test]
    fn heredocs_and_their_bodies() {
        let t = "cat <<EOF\nbody\nEOF\nx\n";
        assert_eq!(top_texts(t, Dialect::Posix), ["cat <<EOF", "x"]);
        // <<- strips tabs; quoted and escaped delimiters; two on one line, read in order.
        let t = "cat <<-'A' <<\"B\" ; cat <<\\C\n\tbody a\n\tA\nbody b\nB\nc\nC\ny\n";
        assert_eq!(
            top_texts(t, Dialect::Posix),
            ["cat <<-'A' <<\"B\" ; cat <<\\C", "y"]
        );
        // Partly quoted delimiter: E"O"F is EOF.
        assert_eq!(
            top_texts("cat <<E\"O\"F\nEOF x\nEOF\nz\n", Dialect::Posix),
            ["cat <<E\"O\"F", "z"]
        );
        // A here-string and shifts are not here-documents.
        for t in [
            "cat <<< EOF\nz\n",
            "x=$((1<<2))\nz\n",
            "(( y = 1 << 3 ))\nz\n",
            "echo $(( (1) << 2 ))\nz\n",
        ] {
            assert_eq!(top_texts(t, Dialect::Posix).last(), Some(&"z"), "{t:?}");
        }
        // A here-document inside $( … ) spanning lines.
        let t = "x=$(cat <<EOF\n)\nEOF\n)\nz\n";
        assert_eq!(top_texts(t, Dialect::Posix), ["x=$(cat <<EOF", "z"]);
    }

    #[test]
    fn quotes_comments_and_continuations() {
        // $'…' with \' does not end at the escaped quote; its << is text.
        assert_eq!(
            top_texts("echo $'it\\'s <<EOF'\nz\n", Dialect::Posix),
            ["echo $'it\\'s <<EOF'", "z"]
        );
        // `#` after `;` starts a comment; inside a word it does not.
        assert_eq!(
            top_texts("true;# cat <<EOF\nz\n", Dialect::Posix),
            ["true;# cat <<EOF", "z"]
        );
        assert_eq!(
            top_texts("echo a#<<EOF\nq\nEOF\nz\n", Dialect::Posix),
            ["echo a#<<EOF", "z"]
        );
        // Multi-line strings and continuations.
        let t = "a='one\n# >>> x\n'\nb=\"$(echo\n)\"\nc\\\nd\ne |\nf &&\ng\n`echo\n`\nz\n";
        assert_eq!(
            top_texts(t, Dialect::Posix),
            ["a='one", "b=\"$(echo", "c\\", "e |", "`echo", "z"]
        );
        // A backslash in single quotes is literal.
        assert_eq!(top_texts("a='\\'\nz\n", Dialect::Posix), ["a='\\'", "z"]);
        // Blank and comment lines after `|` do not end the pipeline.
        assert_eq!(
            top_texts("a |\n\n# c\n  b\nz\n", Dialect::Posix),
            ["a |", "z"]
        );
    }

    #[test]
    fn unclosed_text_is_read_again_after_the_opener() {
        assert_eq!(
            tops("cat <<EOF\nnever closed\n", Dialect::Posix),
            [true, true]
        );
        assert_eq!(tops("a='open\nb\n", Dialect::Posix), [true, true]);
        // A closed heredoc after an unclosed quote is still read as a heredoc.
        assert_eq!(
            top_texts("a='x\ncat <<E\nin\nE\nz\n", Dialect::Posix),
            ["a='x", "cat <<E", "z"]
        );
    }

    #[test]
    fn a_file_of_openers_is_read_a_bounded_number_of_times() {
        let text = "x=$(\n".repeat(50_000);
        let t = tops(&text, Dialect::Posix);
        assert_eq!(t.len(), 50_000);
        assert!(t[..MAX_READINGS].iter().all(|t| *t));
    }

    #[test]
    fn fish_rules() {
        // No here-documents; \' escapes in single quotes; (…) is a command substitution.
        assert_eq!(
            top_texts("cat <<EOF\nz\n", Dialect::Fish),
            ["cat <<EOF", "z"]
        );
        assert_eq!(
            top_texts("echo 'it\\'s\nin\n'\nz\n", Dialect::Fish),
            ["echo 'it\\'s", "z"]
        );
        assert_eq!(
            top_texts("set x (echo\nin\n)\nz\n", Dialect::Fish),
            ["set x (echo", "z"]
        );
        assert_eq!(
            top_texts("echo \"$(echo\nin)\"\nz\n", Dialect::Fish),
            ["echo \"$(echo", "z"]
        );
        assert_eq!(
            top_texts("echo a \\\nb\nz\n", Dialect::Fish),
            ["echo a \\", "z"]
        );
        // bash's $'…' is not fish's: `$` then a plain single-quoted string.
        assert_eq!(
            top_texts("echo $'a\\\\'\nz\n", Dialect::Fish),
            ["echo $'a\\\\'", "z"]
        );
    }
}
