//! Text kept in a report: what an error or a panic said, and where it is
//! kept.
//!
//! With `alloc`, each failure's whole text is kept in one allocation, made
//! when the callback fails. Without, but with the `texts` feature, the
//! texts go one after another into a buffer the user gives the stack
//! (`Teardown::keep_texts`): its size, not the stack's capacity, bounds
//! what is kept, and a stack given none keeps no text. Without either, no
//! text is kept and none is formatted. The log line always carries it
//! whole.

use core::fmt;

/// What a failed or panicked callback said, as its report shows it.
///
/// Borrowed from the stack that ran it. With `alloc` it is the whole text;
/// without, what fitted in the stack's text buffer: see
/// [`is_truncated`](Self::is_truncated).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Message<'r> {
    text: &'r str,
    truncated: bool,
}

impl<'r> Message<'r> {
    pub(crate) const fn new(text: &'r str, truncated: bool) -> Self {
        Message { text, truncated }
    }

    /// The text (without `alloc`, possibly cut short).
    #[must_use]
    pub fn as_str(&self) -> &'r str {
        self.text
    }

    /// Whether the original text was cut: only without `alloc`, when the
    /// stack's text buffer had no room for all of it. A cut text ends with
    /// `…` if there was room for that; it is empty on a stack given no
    /// buffer, and always without the `texts` feature.
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.text, f)
    }
}

impl PartialEq<str> for Message<'_> {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for Message<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

/// The text, as `Display` writes it.
#[cfg(feature = "defmt")]
impl defmt::Format for Message<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.text);
    }
}

#[cfg(feature = "std")]
pub(crate) use whole::render;
#[cfg(feature = "alloc")]
pub(crate) use whole::{Kept, Texts};

#[cfg(all(feature = "texts", not(feature = "alloc")))]
pub(crate) use buffered::{Kept, Texts};

#[cfg(not(feature = "texts"))]
pub(crate) use untold::{Kept, Texts};

/// Without `texts`: nothing kept, nothing formatted.
#[cfg(not(feature = "texts"))]
mod untold {
    use super::Message;
    use core::fmt;
    use core::marker::PhantomData;

    /// What is kept of a text: nothing.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Kept;

    pub(crate) struct Texts<'a>(PhantomData<&'a mut [u8]>);

    impl Texts<'_> {
        pub(crate) const fn none() -> Self {
            Texts(PhantomData)
        }

        pub(crate) fn clear(&mut self) {}

        pub(crate) fn keep<E: fmt::Display + ?Sized>(&mut self, _value: &E) -> Kept {
            Kept
        }

        /// An empty text, cut.
        pub(crate) fn get<'r>(&'r self, _: &Kept) -> Message<'r> {
            Message::new("", true)
        }
    }
}

/// With `alloc`: every text whole, in an allocation of its own.
#[cfg(feature = "alloc")]
mod whole {
    use super::Message;
    use alloc::boxed::Box;
    use alloc::string::String;
    use core::fmt::{self, Write as _};
    use core::marker::PhantomData;

    /// One kept text.
    pub(crate) type Kept = Box<str>;

    /// Keeps nothing itself: each text is its own allocation.
    pub(crate) struct Texts<'a>(PhantomData<&'a mut [u8]>);

    impl<'a> Texts<'a> {
        pub(crate) const fn none() -> Self {
            Texts(PhantomData)
        }

        /// A buffer is not needed: texts are kept whole on the heap.
        pub(crate) fn with_buffer(_buffer: &'a mut [u8]) -> Self {
            Texts(PhantomData)
        }

        pub(crate) fn clear(&mut self) {}

        /// Renders `value` with its `Display` implementation, all of it.
        pub(crate) fn keep<E: fmt::Display + ?Sized>(&mut self, value: &E) -> Kept {
            render(&value)
        }

        pub(crate) fn get<'r>(&'r self, kept: &'r Kept) -> Message<'r> {
            Message::new(kept, false)
        }
    }

    /// Renders `value` whole (what a panic payload says, too).
    pub(crate) fn render(value: &dyn fmt::Display) -> Kept {
        let mut text = String::new();
        // Only a `Display` impl that fails on its own can make this `Err`;
        // whatever it wrote before is kept.
        let _ = write!(text, "{value}");
        text.into_boxed_str()
    }
}

/// Without `alloc`: texts one after another in a buffer the user gave.
#[cfg(all(feature = "texts", not(feature = "alloc")))]
mod buffered {
    use super::Message;
    use core::fmt::{self, Write as _};

    const ELLIPSIS: &str = "…";

    /// Where one text lies in the buffer. Offsets are `u16`: a buffer
    /// longer than 65,535 bytes is used up to that.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Kept {
        start: u16,
        len: u16,
        truncated: bool,
    }

    pub(crate) struct Texts<'a> {
        buffer: &'a mut [u8],
        used: u16,
    }

    impl<'a> Texts<'a> {
        pub(crate) const fn none() -> Self {
            Texts {
                buffer: &mut [],
                used: 0,
            }
        }

        pub(crate) fn with_buffer(buffer: &'a mut [u8]) -> Self {
            let end = buffer.len().min(usize::from(u16::MAX));
            Texts {
                buffer: &mut buffer[..end],
                used: 0,
            }
        }

        /// Forgets every text, for a new run.
        pub(crate) fn clear(&mut self) {
            self.used = 0;
        }

        /// Renders `value` after the texts kept so far, keeping whole
        /// characters while they fit; a cut text ends with `…` if it fits.
        pub(crate) fn keep<E: fmt::Display + ?Sized>(&mut self, value: &E) -> Kept {
            let start = usize::from(self.used);
            let mut writer = Writer {
                free: &mut self.buffer[start..],
                len: 0,
                truncated: false,
            };
            // `Writer` never fails, so only a `Display` impl that fails on
            // its own can make this `Err`; what it wrote before is kept.
            let _ = write!(writer, "{value}");
            let Writer {
                free,
                mut len,
                truncated,
            } = writer;
            if truncated && free.len() >= ELLIPSIS.len() {
                {
                    len = len.min(free.len() - ELLIPSIS.len());
                    while len > 0 && !is_char_boundary(free, len) {
                        len -= 1;
                    }
                    free[len..len + ELLIPSIS.len()].copy_from_slice(ELLIPSIS.as_bytes());
                    len += ELLIPSIS.len();
                }
            }
            // Both fit in `u16`: the buffer was cut to `u16::MAX` bytes.
            let kept = Kept {
                start: start as u16,
                len: len as u16,
                truncated,
            };
            self.used = (start + len) as u16;
            kept
        }

        pub(crate) fn get<'r>(&'r self, kept: &Kept) -> Message<'r> {
            let start = usize::from(kept.start);
            let bytes = &self.buffer[start..start + usize::from(kept.len)];
            // Only whole characters are written (see `Writer`).
            let text = core::str::from_utf8(bytes).unwrap_or_default();
            Message::new(text, kept.truncated)
        }
    }

    /// Whether `at` starts a character in `bytes` (which hold UTF-8).
    fn is_char_boundary(bytes: &[u8], at: usize) -> bool {
        // Not a continuation byte (`0b10xx_xxxx`).
        bytes.get(at).is_none_or(|byte| (*byte as i8) >= -0x40)
    }

    /// Appends whole characters while they fit; notes when one did not.
    struct Writer<'b> {
        free: &'b mut [u8],
        len: usize,
        truncated: bool,
    }

    impl fmt::Write for Writer<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            if self.truncated {
                return Ok(());
            }
            let room = self.free.len() - self.len;
            let mut take = s.len().min(room);
            while !s.is_char_boundary(take) {
                take -= 1;
            }
            self.free[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
            self.len += take;
            if take < s.len() {
                self.truncated = true;
            }
            Ok(())
        }
    }
}
