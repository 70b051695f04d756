//! The name a callback is reported and logged under.

use core::fmt;

/// The name of a registered callback.
///
/// A callback is registered either with a `&'static str` or with `None`. An
/// unnamed callback is called `#k`, where `k` counts the registrations made on
/// its stack before it (starting at 0), so its default name is stable and
/// unique for the life of the stack.
///
/// `Display` writes the bare name (`db`, `#3`); `Debug` quotes a given name
/// (`"db"`, `#3`), which is how log lines show it. With the `defmt` feature,
/// `defmt::Format` does the same under `{}` and `{:?}`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Name(Repr);

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Repr {
    Given(&'static str),
    Unnamed(u32),
}

impl Name {
    /// The name given at registration, or `None` for an unnamed callback.
    #[must_use]
    pub const fn as_str(&self) -> Option<&'static str> {
        match self.0 {
            Repr::Given(name) => Some(name),
            Repr::Unnamed(_) => None,
        }
    }

    /// The name of the `seq`-th callback registered on a stack.
    pub(crate) const fn new(given: Option<&'static str>, seq: u32) -> Self {
        match given {
            Some(name) => Name(Repr::Given(name)),
            None => Name(Repr::Unnamed(seq)),
        }
    }
}

/// A name equals a string when it displays as that string: `"db"` for a
/// callback named `db`, `"#3"` for the unnamed callback numbered 3.
impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        match self.0 {
            Repr::Given(name) => name == other,
            Repr::Unnamed(seq) => other
                .strip_prefix('#')
                .filter(|digits| !digits.starts_with('+'))
                .and_then(|digits| digits.parse::<u32>().ok())
                .is_some_and(|n| n == seq && other.len() == 1 + digits_in(seq)),
        }
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

/// How many decimal digits `n` has.
fn digits_in(mut n: u32) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Given(name) => f.write_str(name),
            Repr::Unnamed(seq) => write!(f, "#{seq}"),
        }
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Given(name) => fmt::Debug::fmt(name, f),
            Repr::Unnamed(_) => fmt::Display::fmt(self, f),
        }
    }
}

/// Like `Display` under `{}` (`db`, `#3`) and like `Debug` under `{:?}`
/// (`"db"`, `#3`): defmt quotes a string under `{:?}` itself.
#[cfg(feature = "defmt")]
impl defmt::Format for Name {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self.0 {
            Repr::Given(name) => defmt::write!(f, "{=str}", name),
            Repr::Unnamed(seq) => defmt::write!(f, "#{=u32}", seq),
        }
    }
}
