//! Text kept in a report: what an error or a panic said.

use core::fmt::{self, Write as _};

/// Without `alloc`: how many bytes of an error's or a panic's text a
/// [`Report`](crate::Report) keeps per callback.
///
/// Longer text is cut at a character boundary and ends with `…`. The log line
/// written when the callback fails always carries the whole text. With
/// `alloc` the report keeps the whole text, however long, and this limit does
/// not apply.
pub const MESSAGE_CAPACITY: usize = 64;

#[cfg(not(feature = "alloc"))]
const ELLIPSIS: char = '…';

/// What a failed or panicked callback said.
///
/// With `alloc`, the whole text, in one allocation made when the callback
/// fails. Without, kept inline (no allocation), at most [`MESSAGE_CAPACITY`]
/// bytes: see [`Message::is_truncated`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Message {
    #[cfg(feature = "alloc")]
    text: alloc::boxed::Box<str>,
    #[cfg(not(feature = "alloc"))]
    text: heapless::String<MESSAGE_CAPACITY>,
    #[cfg(not(feature = "alloc"))]
    truncated: bool,
}

impl Message {
    /// Renders `value` with its `Display` implementation: all of it with
    /// `alloc`.
    #[cfg(feature = "alloc")]
    pub(crate) fn render(value: &dyn fmt::Display) -> Self {
        let mut text = alloc::string::String::new();
        // Only a `Display` impl that fails on its own can make this `Err`;
        // whatever it wrote before is kept.
        let _ = write!(text, "{value}");
        Message {
            text: text.into_boxed_str(),
        }
    }

    /// Renders `value` with its `Display` implementation, keeping what fits.
    #[cfg(not(feature = "alloc"))]
    pub(crate) fn render(value: &dyn fmt::Display) -> Self {
        let mut message = Message {
            text: heapless::String::new(),
            truncated: false,
        };
        // `Writer` never reports an error, so only a `Display` impl that fails
        // on its own can make this `Err`; whatever it wrote before is kept.
        let _ = write!(Writer(&mut message), "{value}");
        if message.truncated {
            let keep = MESSAGE_CAPACITY - ELLIPSIS.len_utf8();
            let mut cut = keep.min(message.text.len());
            while !message.text.is_char_boundary(cut) {
                cut -= 1;
            }
            message.text.truncate(cut);
            // Cannot fail: `cut` leaves room for the ellipsis.
            let _ = message.text.push(ELLIPSIS);
        }
        message
    }

    /// The text (without `alloc`, possibly cut short).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the original text was cut: only without `alloc`, when it was
    /// longer than [`MESSAGE_CAPACITY`] bytes (it then ends with `…`).
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        #[cfg(feature = "alloc")]
        return false;
        #[cfg(not(feature = "alloc"))]
        return self.truncated;
    }
}

/// Appends whole characters while they fit and notes when one did not.
#[cfg(not(feature = "alloc"))]
struct Writer<'m>(&'m mut Message);

#[cfg(not(feature = "alloc"))]
impl fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.0.truncated {
            return Ok(());
        }
        for ch in s.chars() {
            if self.0.text.push(ch).is_err() {
                self.0.truncated = true;
                break;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Message {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Message {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The text, as `Display` writes it.
#[cfg(feature = "defmt")]
impl defmt::Format for Message {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str());
    }
}
