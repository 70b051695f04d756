//! The name a callback is reported and logged under.

use core::fmt;

#[cfg(feature = "alloc")]
use alloc::{borrow::Cow, boxed::Box, string::String};

/// The name of a registered callback.
///
/// A callback is registered with a name (see [`IntoName`] for what counts as
/// one) or with `None`. An unnamed callback is called `#k`, where `k` counts
/// the registrations made on its stack before it (starting at 0), so its
/// default name is stable and unique for the life of the stack.
///
/// `Display` writes the bare name (`db`, `#3`); `Debug` quotes a given name
/// (`"db"`, `#3`), which is how log lines show it. With the `defmt` feature,
/// `defmt::Format` does the same under `{}` and `{:?}`.
///
/// It is `Clone` but not `Copy`: with `alloc`, a name built at run time is
/// owned, and cloning it copies the text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Name(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Given(&'static str),
    /// Built at run time (`format!("llm-{i}")`): owned, with `alloc`.
    #[cfg(feature = "alloc")]
    Owned(Box<str>),
    Unnamed(u32),
}

impl Name {
    /// The name given at registration, or `None` for an unnamed callback.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Given(name) => Some(name),
            #[cfg(feature = "alloc")]
            Repr::Owned(name) => Some(name),
            Repr::Unnamed(_) => None,
        }
    }

    /// Whether it owns its text (built at run time).
    pub(crate) fn is_owned(&self) -> bool {
        #[cfg(feature = "alloc")]
        return matches!(self.0, Repr::Owned(_));
        #[cfg(not(feature = "alloc"))]
        false
    }

    /// The name of the `seq`-th callback registered on a stack.
    pub(crate) const fn unnamed(seq: u32) -> Self {
        Name(Repr::Unnamed(seq))
    }
}

/// What a callback can be registered under: a name, or `None` for the
/// default name `#k` (see [`Name`]).
///
/// | type | needs | costs |
/// | --- | --- | --- |
/// | `&'static str`, `Option<&'static str>` | nothing | a pointer and a length, no allocation |
/// | `String`, `Box<str>`, `Cow<'static, str>` | `alloc` | the text, kept in one allocation (a `String`'s spare capacity is given back) |
///
/// Without `alloc`, names are `&'static str` only: built at run time, they
/// would need a buffer per cell, which every cell would pay for.
///
/// Sealed: implemented for the types above only.
///
/// # Examples
///
/// ```
/// use teardown_stack::Teardown;
///
/// let mut teardown = Teardown::<4>::new();
/// for provider in ["openai", "anthropic"] {
///     teardown.push(format!("llm-{provider}"), async { /* close */ }).unwrap();
/// }
/// teardown.push("store", async {}).unwrap();
/// teardown.push(None, async {}).unwrap();
/// let names: Vec<_> = teardown.names().map(|n| n.to_string()).collect();
/// assert_eq!(names, ["#3", "store", "llm-anthropic", "llm-openai"]);
/// ```
pub trait IntoName: sealed::Sealed {
    /// The name of the `seq`-th registration on a stack.
    #[doc(hidden)]
    fn into_name(self, seq: u32) -> Name;
}

impl IntoName for &'static str {
    fn into_name(self, _: u32) -> Name {
        Name(Repr::Given(self))
    }
}

impl IntoName for Option<&'static str> {
    fn into_name(self, seq: u32) -> Name {
        match self {
            Some(name) => name.into_name(seq),
            None => Name::unnamed(seq),
        }
    }
}

#[cfg(feature = "alloc")]
impl IntoName for Box<str> {
    fn into_name(self, _: u32) -> Name {
        Name(Repr::Owned(self))
    }
}

#[cfg(feature = "alloc")]
impl IntoName for String {
    fn into_name(self, seq: u32) -> Name {
        self.into_boxed_str().into_name(seq)
    }
}

#[cfg(feature = "alloc")]
impl IntoName for Cow<'static, str> {
    fn into_name(self, seq: u32) -> Name {
        match self {
            Cow::Borrowed(name) => name.into_name(seq),
            Cow::Owned(name) => name.into_name(seq),
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for &'static str {}
    impl Sealed for Option<&'static str> {}
    #[cfg(feature = "alloc")]
    impl Sealed for alloc::boxed::Box<str> {}
    #[cfg(feature = "alloc")]
    impl Sealed for alloc::string::String {}
    #[cfg(feature = "alloc")]
    impl Sealed for alloc::borrow::Cow<'static, str> {}
}

/// A name equals a string when it displays as that string: `"db"` for a
/// callback named `db`, `"#3"` for the unnamed callback numbered 3.
impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        match &self.0 {
            Repr::Given(name) => *name == other,
            #[cfg(feature = "alloc")]
            Repr::Owned(name) => &**name == other,
            Repr::Unnamed(seq) => other
                .strip_prefix('#')
                .filter(|digits| !digits.starts_with('+'))
                .and_then(|digits| digits.parse::<u32>().ok())
                .is_some_and(|n| n == *seq && other.len() == 1 + digits_in(*seq)),
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
        match (self.as_str(), &self.0) {
            (Some(name), _) => f.write_str(name),
            (None, Repr::Unnamed(seq)) => write!(f, "#{seq}"),
            (None, _) => unreachable!("only an unnamed callback has no text"),
        }
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(name) => fmt::Debug::fmt(name, f),
            None => fmt::Display::fmt(self, f),
        }
    }
}

/// Like `Display` under `{}` (`db`, `#3`) and like `Debug` under `{:?}`
/// (`"db"`, `#3`): defmt quotes a string under `{:?}` itself.
#[cfg(feature = "defmt")]
impl defmt::Format for Name {
    fn format(&self, f: defmt::Formatter<'_>) {
        match (self.as_str(), &self.0) {
            (Some(name), _) => defmt::write!(f, "{=str}", name),
            (None, Repr::Unnamed(seq)) => defmt::write!(f, "#{=u32}", *seq),
            (None, _) => unreachable!("only an unnamed callback has no text"),
        }
    }
}
