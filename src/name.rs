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
/// (`"db"`, `#3`), which is how log lines show it.
///
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

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
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
