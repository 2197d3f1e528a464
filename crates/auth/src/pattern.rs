//! [`Regex`]: the `pattern` check of generated string types.
//!
//! The patterns in API specs are mostly fixed sequences of character classes: an id
//! (`^[0-9a-f]{24}$`), a timestamp (`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$`). A
//! backtracking engine tries such a pattern at every start position and allocates its state on
//! every call; it was the largest cost of building an id. [`Regex`] reads patterns of that shape
//! into a list of classes and checks a value in one pass over its bytes, without allocating. Every
//! other pattern goes to `regress`, which the generated code used before (xtask swaps the type).
//!
//! One pass is exact only when no choice has to be undone, so a pattern is read this way only when:
//! it is anchored at both ends (`^…$`); it is made of ASCII classes (`[a-z0-9_-]`, `\d`, `\w`,
//! literal characters) with quantifiers (`{n}`, `{n,m}`, `{n,}`, `?`, `*`, `+`) and optional
//! groups (`(…)?`); and wherever the length of a match can vary, the characters it may take are
//! disjoint from those that may come next. Anything else (alternation, `.`, negated classes,
//! lookaround, lazy quantifiers, non-ASCII) is left to `regress`.

use std::ops::Range;

/// A compiled `pattern`: the one-pass form when the pattern allows it, else a `regress::Regex`.
#[derive(Debug)]
pub struct Regex(Engine);

#[derive(Debug)]
enum Engine {
    OnePass(Vec<Step>),
    General(regress::Regex),
}

/// One element of a one-pass pattern, as matching reads it.
#[derive(Debug)]
enum Step {
    /// `min..=max` bytes marked in `table`, taken greedily.
    Class {
        table: Box<[bool; 256]>,
        min: usize,
        max: usize,
    },
    /// A group that matches as a whole or not at all.
    Optional(Vec<Step>),
}

fn steps(nodes: &[Node]) -> Vec<Step> {
    nodes
        .iter()
        .map(|node| match node {
            Node::Class { set, min, max } => Step::Class {
                table: table(*set),
                min: *min as usize,
                max: usize::try_from(*max).unwrap_or(usize::MAX),
            },
            Node::Optional(group) => Step::Optional(steps(group)),
        })
        .collect()
}

/// One element of a one-pass pattern, as read from the pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    /// `min..=max` characters of `set` (a bit per ASCII byte), taken greedily.
    Class { set: u128, min: u32, max: u32 },
    /// A group that matches as a whole or not at all.
    Optional(Vec<Node>),
}

impl Regex {
    /// Compiles `pattern` (ECMAScript syntax, as JSON Schema's `pattern`).
    pub fn new(pattern: &str) -> Result<Regex, regress::Error> {
        match one_pass(pattern) {
            Some(nodes) => Ok(Regex(Engine::OnePass(steps(&nodes)))),
            None => regress::Regex::new(pattern).map(|re| Regex(Engine::General(re))),
        }
    }

    /// The first match in `text`, as `regress::Regex::find` finds it (for an anchored pattern,
    /// the whole text or nothing).
    pub fn find(&self, text: &str) -> Option<Range<usize>> {
        match &self.0 {
            Engine::OnePass(nodes) => {
                let bytes = text.as_bytes();
                (match_sequence(nodes, bytes, 0) == Some(bytes.len())).then_some(0..bytes.len())
            }
            Engine::General(re) => re.find(text).map(|m| m.range()),
        }
    }

    /// Whether the one-pass form is used (for tests).
    pub fn is_one_pass(&self) -> bool {
        matches!(self.0, Engine::OnePass(_))
    }
}

/// Matches `steps` from `at`; the position after the match.
fn match_sequence(steps: &[Step], bytes: &[u8], mut at: usize) -> Option<usize> {
    for step in steps {
        match step {
            Step::Class { table, min, max } => {
                let rest = bytes.get(at..)?;
                let limit = rest.len().min(*max);
                let taken = rest[..limit]
                    .iter()
                    .position(|&b| !table[usize::from(b)])
                    .unwrap_or(limit);
                if taken < *min {
                    return None;
                }
                at += taken;
            }
            Step::Optional(group) => {
                if let Some(after) = match_sequence(group, bytes, at) {
                    at = after;
                }
            }
        }
    }
    Some(at)
}

fn contains(set: u128, byte: u8) -> bool {
    // `checked_shr` is `None` for bytes above 127 (not ASCII: in no set).
    set.checked_shr(u32::from(byte))
        .is_some_and(|bits| bits & 1 == 1)
}

/// A set as a table, one entry per byte: what matching reads.
fn table(set: u128) -> Box<[bool; 256]> {
    let mut table = Box::new([false; 256]);
    for (byte, entry) in table.iter_mut().enumerate() {
        *entry = u8::try_from(byte).is_ok_and(|b| contains(set, b));
    }
    table
}

fn bit(byte: u8) -> u128 {
    1 << byte
}

fn range_set(from: u8, to: u8) -> u128 {
    (from..=to).fold(0, |set, b| set | bit(b))
}

const DIGITS: u128 = digits();
const WORD: u128 = word();

const fn digits() -> u128 {
    let mut set = 0;
    let mut b = b'0';
    while b <= b'9' {
        set |= 1 << b;
        b += 1;
    }
    set
}

const fn word() -> u128 {
    let mut set = digits() | 1 << b'_';
    let mut b = b'a';
    while b <= b'z' {
        set |= 1 << b | 1 << (b - 32);
        b += 1;
    }
    set
}

/// The one-pass form of `pattern`, or `None` when it has another shape (see the module docs).
fn one_pass(pattern: &str) -> Option<Vec<Node>> {
    // A `$` escaped by the body (`^a\$`) leaves a lone `\` at its end, which does not parse.
    let body = pattern.strip_prefix('^')?.strip_suffix('$')?;
    let mut parser = Parser {
        bytes: body.as_bytes(),
        at: 0,
    };
    let nodes = parser.sequence()?;
    if parser.at != parser.bytes.len() {
        return None;
    }
    is_one_pass(&nodes, 0).then_some(nodes)
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.at += usize::from(hit);
        hit
    }

    /// Nodes up to the end or a `)`.
    fn sequence(&mut self) -> Option<Vec<Node>> {
        let mut nodes = Vec::new();
        while let Some(b) = self.peek() {
            if b == b')' {
                break;
            }
            if self.eat(b'(') {
                // A capturing or a non-capturing group; other `(?` forms are lookaround.
                if self.eat(b'?') && !self.eat(b':') {
                    return None;
                }
                let group = self.sequence()?;
                if !self.eat(b')') || !self.eat(b'?') || matches!(self.peek(), Some(b'?')) {
                    return None;
                }
                if group.is_empty() || nullable(&group) {
                    return None;
                }
                nodes.push(Node::Optional(group));
                continue;
            }
            let set = self.atom()?;
            let (min, max) = self.quantifier()?;
            nodes.push(Node::Class { set, min, max });
        }
        Some(nodes)
    }

    /// A class, an escape or a literal character.
    fn atom(&mut self) -> Option<u128> {
        match self.next()? {
            b'[' => self.class(),
            b'\\' => self.escape(),
            b'.' | b'^' | b'$' | b'|' | b'*' | b'+' | b'?' | b'{' | b'}' | b']' | b')' => None,
            b if b.is_ascii() && !b.is_ascii_control() => Some(bit(b)),
            _ => None,
        }
    }

    /// `\d`, `\w` or an escaped punctuation character.
    fn escape(&mut self) -> Option<u128> {
        match self.next()? {
            b'd' => Some(DIGITS),
            b'w' => Some(WORD),
            b if b.is_ascii_punctuation() => Some(bit(b)),
            _ => None,
        }
    }

    /// The rest of `[...]`: characters, ranges, `\d`, `\w`, escaped punctuation.
    fn class(&mut self) -> Option<u128> {
        if self.peek() == Some(b'^') {
            return None;
        }
        let mut set = 0;
        loop {
            let start = match self.next()? {
                b']' => return (set != 0).then_some(set),
                b'\\' => match self.next()? {
                    b'd' => {
                        set |= DIGITS;
                        continue;
                    }
                    b'w' => {
                        set |= WORD;
                        continue;
                    }
                    b if b.is_ascii_punctuation() => b,
                    _ => return None,
                },
                b'[' => return None,
                b if b.is_ascii() && !b.is_ascii_control() => b,
                _ => return None,
            };
            let is_range = self.peek() == Some(b'-')
                && self.bytes.get(self.at + 1).is_some_and(|&b| b != b']');
            if !is_range {
                set |= bit(start);
                continue;
            }
            self.at += 1;
            let end = match self.next()? {
                b'\\' => self.next().filter(u8::is_ascii_punctuation)?,
                b'[' => return None,
                b if b.is_ascii() && !b.is_ascii_control() => b,
                _ => return None,
            };
            if end < start {
                return None;
            }
            set |= range_set(start, end);
        }
    }

    /// `{n}`, `{n,}`, `{n,m}`, `?`, `*`, `+` or nothing; lazy forms are not read.
    fn quantifier(&mut self) -> Option<(u32, u32)> {
        let bounds = match self.peek() {
            Some(b'?') => (0, 1),
            Some(b'*') => (0, u32::MAX),
            Some(b'+') => (1, u32::MAX),
            Some(b'{') => {
                let close = self.bytes[self.at..].iter().position(|&b| b == b'}')?;
                let inside = std::str::from_utf8(&self.bytes[self.at + 1..self.at + close]).ok()?;
                let number = |s: &str| -> Option<u32> {
                    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| s.parse().ok())
                        .flatten()
                };
                let bounds = match inside.split_once(',') {
                    None => {
                        let n = number(inside)?;
                        (n, n)
                    }
                    Some((min, "")) => (number(min)?, u32::MAX),
                    Some((min, max)) => (number(min)?, number(max)?),
                };
                if bounds.0 > bounds.1 {
                    return None;
                }
                self.at += close;
                bounds
            }
            _ => return Some((1, 1)),
        };
        self.at += 1;
        if self.peek() == Some(b'?') {
            return None;
        }
        Some(bounds)
    }
}

/// Whether `nodes` can match the empty string.
fn nullable(nodes: &[Node]) -> bool {
    nodes.iter().all(|node| match node {
        Node::Class { min, .. } => *min == 0,
        Node::Optional(_) => true,
    })
}

/// The characters a match of `nodes` may start with, when followed by something starting with
/// one of `follow` (nothing, at the end of the pattern).
fn first(nodes: &[Node], follow: u128) -> u128 {
    let mut set = 0;
    for node in nodes {
        match node {
            Node::Class { set: own, min, .. } => {
                set |= own;
                if *min > 0 {
                    return set;
                }
            }
            Node::Optional(group) => set |= first(group, 0),
        }
    }
    set | follow
}

/// Whether greedy, never-undone matching of `nodes` (followed by something starting with one of
/// `follow`) finds every match: wherever a match's length can vary, what it may take next and
/// what may come after it are disjoint.
fn is_one_pass(nodes: &[Node], follow: u128) -> bool {
    nodes.iter().enumerate().all(|(i, node)| {
        let next = first(&nodes[i + 1..], follow);
        match node {
            Node::Class { set, min, max } => min == max || set & next == 0,
            Node::Optional(group) => first(group, 0) & next == 0 && is_one_pass(group, next),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Patterns the one-pass form takes: those of the specs, and more of the same shape.
    const ONE_PASS: &[&str] = &[
        r"^[0-9a-fA-F]{24}$",
        r"^[0-9a-f]{24}$",
        r"^[0-9]+$",
        r"^[0-9]+[A-Za-z]+$",
        r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$",
        r"^-?\d+(?:\.\d+)?$",
        r"^[a-z]{2,4}[0-9]{0,3}_?$",
        r"^\w+$",
        r"^[A-Z][a-z-]*\.?$",
        r"^[a-c]{1,}x{2}$",
        r"^\$$",
    ];

    /// Patterns with another shape: they go to `regress`.
    const GENERAL: &[&str] = &[
        r"[0-9]+",
        r"^[0-9]+",
        r"^a|b$",
        r"^.*$",
        r"^[^a]+$",
        r"^[a-z]+[a-c]$",
        r"^[a-z]*?$",
        r"^(ab)+$",
        r"^(a?)?b$",
        r"^\s+$",
        r"^[a-z]{2,}\d?[0-9]$",
        r"^(?=a)a$",
        r"^é+$",
        r"^a\$",
        r"^a{,3}$",
    ];

    #[test]
    fn each_pattern_gets_the_expected_engine() {
        for pattern in ONE_PASS {
            assert!(Regex::new(pattern).unwrap().is_one_pass(), "{pattern}");
        }
        for pattern in GENERAL {
            let re = Regex::new(pattern);
            assert!(re.is_ok_and(|re| !re.is_one_pass()), "{pattern}");
        }
    }

    #[test]
    fn matches_what_the_patterns_describe() {
        let id = Regex::new(r"^[0-9a-f]{24}$").unwrap();
        assert_eq!(id.find("5eb9ca210381f6f321022ae6"), Some(0..24));
        assert_eq!(id.find("5eb9ca210381f6f321022ae"), None);
        assert_eq!(id.find("5eb9ca210381f6f321022ae6f"), None);
        assert_eq!(id.find("5EB9ca210381f6f321022ae6"), None);
        let time = Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$").unwrap();
        assert!(time.find("2020-05-11T21:56:49.584000").is_some());
        assert!(time.find("2020-05-11T21:56:49").is_some());
        assert!(time.find("2020-05-11T21:56:49.584").is_none());
        assert!(time.find("2020-05-11 21:56:49").is_none());
        assert!(time.find("٢٠٢٠-05-11T21:56:49").is_none());
    }

    /// Strings around each pattern: matching ones, their mutations, and noise.
    fn candidates(pattern: &'static str) -> impl Strategy<Value = String> {
        let alphabet =
            prop::sample::select("0123456789abcfxzAFTZ_-.:$é ٣\n".chars().collect::<Vec<_>>());
        let noise = prop::collection::vec(alphabet.clone(), 0..32)
            .prop_map(|chars| chars.into_iter().collect::<String>());
        // regex-syntax generates from the pattern without its anchors (it has no lookaround
        // either: such patterns get noise only).
        let body = pattern.strip_prefix('^').and_then(|p| p.strip_suffix('$'));
        let matching = match proptest::string::string_regex(body.unwrap_or(pattern)) {
            Ok(matching) => matching.boxed(),
            Err(_) => noise.clone().boxed(),
        };
        let mutated = (
            matching.clone(),
            any::<prop::sample::Index>(),
            alphabet,
            0..3u8,
        )
            .prop_map(|(s, index, c, how)| {
                let mut chars: Vec<char> = s.chars().collect();
                let at = if chars.is_empty() {
                    0
                } else {
                    index.index(chars.len())
                };
                match how {
                    0 if !chars.is_empty() => chars[at] = c,
                    1 => chars.insert(at, c),
                    _ if !chars.is_empty() => drop(chars.remove(at)),
                    _ => chars.push(c),
                }
                chars.into_iter().collect()
            });
        prop_oneof![matching, mutated, noise]
    }

    proptest! {
        #[test]
        fn agrees_with_regress(
            (pattern, text) in prop::sample::select(ONE_PASS.iter().chain(GENERAL).copied().collect::<Vec<_>>())
                .prop_flat_map(|p| (Just(p), candidates(p)))
        ) {
            let ours = Regex::new(pattern).unwrap();
            let reference = regress::Regex::new(pattern).unwrap();
            prop_assert_eq!(ours.find(&text), reference.find(&text).map(|m| m.range()), "{} on {:?}", pattern, text);
        }
    }
}
