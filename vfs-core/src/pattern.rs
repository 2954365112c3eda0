//! Directory query patterns, with the wildcard rules of FsRtlIsNameInExpression
//! (https://learn.microsoft.com/windows-hardware/drivers/ddi/ntifs/nf-ntifs-fsrtlisnameinexpression):
//!
//! - `*` matches zero or more characters;
//! - `?` matches exactly one character;
//! - `<` (DOS_STAR) matches zero or more characters until encountering and matching the final
//!   `.` in the name;
//! - `>` (DOS_QM) matches any single character or, upon encountering a period or end of name,
//!   advances the expression to the end of the set of contiguous DOS_QMs;
//! - `"` (DOS_DOT) matches either a period or zero characters beyond the name string.
//!
//! Win32's FindFirstFile turns `*.txt` into `<.txt`, `?` into `>` and a `.` before a wildcard
//! or at the end into `"` before the request reaches the file system. Case is ignored by
//! comparing `$UpCase` forms (A5). WinFsp's driver filters every listing with its own
//! implementation as well (`src/sys/dirctl.c`); there this one only saves transfers when
//! `PassQueryDirectoryPattern` is on. The engine uses it for NtQueryDirectoryFile's FileName
//! (`Volume::query_directory`); the WinFsp layer re-exports it as `backend_winfsp::pattern`, so
//! there is one copy.

use crate::name::upcase_unit;

const STAR: u16 = b'*' as u16;
const QM: u16 = b'?' as u16;
const DOS_STAR: u16 = b'<' as u16;
const DOS_QM: u16 = b'>' as u16;
const DOS_DOT: u16 = b'"' as u16;
const DOT: u16 = b'.' as u16;

/// Does `name` match `expression`? `ignore_case` compares `$UpCase` forms.
pub fn name_in_expression(expression: &[u16], name: &[u16], ignore_case: bool) -> bool {
    let fold = |u: u16| if ignore_case { upcase_unit(u) } else { u };
    let expr: Vec<u16> = expression.iter().map(|&u| fold(u)).collect();
    let name: Vec<u16> = name.iter().map(|&u| fold(u)).collect();
    // Position of the name's last period: DOS_STAR never consumes it or anything after it.
    let last_dot = name.iter().rposition(|&u| u == DOT);
    let mut m = Matcher {
        expr: &expr,
        name: &name,
        last_dot,
        memo: vec![None; (expr.len() + 1) * (name.len() + 1)],
    };
    m.at(0, 0)
}

struct Matcher<'a> {
    expr: &'a [u16],
    name: &'a [u16],
    last_dot: Option<usize>,
    memo: Vec<Option<bool>>,
}

impl Matcher<'_> {
    /// Does `expr[e..]` match `name[n..]`? Memoized, so patterns with many stars stay linear in
    /// expression length × name length.
    fn at(&mut self, e: usize, n: usize) -> bool {
        let key = e * (self.name.len() + 1) + n;
        if let Some(v) = self.memo[key] {
            return v;
        }
        let v = self.compute(e, n);
        self.memo[key] = Some(v);
        v
    }

    fn compute(&mut self, e: usize, n: usize) -> bool {
        let name_len = self.name.len();
        let Some(&c) = self.expr.get(e) else {
            return n == name_len;
        };
        let cur = self.name.get(n).copied();
        match c {
            STAR => self.at(e + 1, n) || (n < name_len && self.at(e, n + 1)),
            QM => n < name_len && self.at(e + 1, n + 1),
            DOS_STAR => {
                // May consume a character that lies before the final period (earlier periods
                // included); with no period it behaves like `*`.
                let may_consume = n < name_len && self.last_dot.is_none_or(|d| n < d);
                self.at(e + 1, n) || (may_consume && self.at(e, n + 1))
            }
            DOS_QM => match cur {
                Some(u) if u != DOT => self.at(e + 1, n + 1),
                _ => {
                    // At a period or at the end: skip the rest of this run of DOS_QMs.
                    let mut end = e;
                    while self.expr.get(end) == Some(&DOS_QM) {
                        end += 1;
                    }
                    self.at(end, n)
                }
            },
            DOS_DOT => match cur {
                Some(DOT) => self.at(e + 1, n + 1),
                None => self.at(e + 1, n),
                Some(_) => false,
            },
            literal => cur == Some(literal) && self.at(e + 1, n + 1),
        }
    }
}

/// Is the pattern `*` alone (every name)? WinFsp passes no pattern then, but a caller may.
pub fn matches_everything(expression: &[u16]) -> bool {
    expression == [STAR]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::wide;

    fn m(expr: &str, name: &str) -> bool {
        name_in_expression(&wide(expr), &wide(name), true)
    }

    /// FsRtlIsNameInExpression: `*` is zero or more characters, `?` exactly one.
    #[test]
    fn star_and_question_mark_follow_fsrtl_rules() {
        assert!(m("*", "anything.txt"));
        assert!(m("*", ""));
        assert!(m("a*c", "ac"));
        assert!(m("a*c", "abbbc"));
        assert!(!m("a*c", "abcd"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("*.txt", "a.b.txt"));
        assert!(!m("*.txt", "a.txt.bak"));
    }

    /// A5: names compare through $UpCase; with ignore_case off they compare exactly.
    #[test]
    fn pattern_is_case_insensitive_through_upcase() {
        assert!(m("README.*", "readme.md"));
        assert!(m("ÄB*", "äbc"));
        assert!(!name_in_expression(
            &wide("README.*"),
            &wide("readme.md"),
            false
        ));
    }

    /// DOS_STAR `<`: Win32's `*.txt` arrives as `<.txt`; `<` stops before the final period.
    #[test]
    fn dos_star_stops_before_the_final_period() {
        assert!(m("<.txt", "a.b.txt"));
        assert!(!m("<.txt", "a.txt.bak"));
        assert!(m("<", "noext"));
        // `*.` (no extension) arrives as `<"`.
        assert!(m("<\"", "noext"));
        assert!(!m("<\"", "a.txt"));
        // `*.*` arrives as `<"*` and matches names with or without an extension.
        assert!(m("<\"*", "noext"));
        assert!(m("<\"*", "a.b"));
    }

    /// DOS_QM `>`: Win32's `?` before a period matches zero or one character (8.3 heritage).
    #[test]
    fn dos_qm_matches_one_character_or_nothing_at_a_period_or_the_end() {
        assert!(m(">>>>.txt", "ab.txt"));
        assert!(m(">>>>.txt", "abcd.txt"));
        assert!(!m(">>>>.txt", "abcde.txt"));
        assert!(m("a>>", "a"));
        assert!(m("a>>", "abc"));
        assert!(!m("a>", "abc"));
    }

    /// DOS_DOT `"`: a period, or nothing at the end of the name.
    #[test]
    fn dos_dot_matches_a_period_or_nothing_at_the_end() {
        assert!(m("a\"b", "a.b"));
        assert!(!m("a\"b", "ab"));
        assert!(m("a\"", "a"));
        assert!(m("a\"", "a."));
        assert!(!m("a\"", "ab"));
    }

    /// Bad input never panics, and many stars stay cheap (memoized).
    #[test]
    fn long_star_patterns_and_empty_inputs_do_not_blow_up() {
        let expr = "*a".repeat(100);
        let name = "a".repeat(255);
        assert!(m(&expr, &name));
        assert!(!m(&(expr + "b"), &name));
        assert!(!m("", "x"));
        assert!(m("", ""));
        assert!(matches_everything(&wide("*")));
    }
}
