//! Bounded text kept in a report: what an error or a panic said.

use core::fmt::{self, Write as _};

/// How many bytes of an error's or a panic's text a [`Report`](crate::Report)
/// keeps per callback.
///
/// Longer text is cut at a character boundary and ends with `…`. The log line
/// written when the callback fails always carries the whole text.
pub const MESSAGE_CAPACITY: usize = 64;

const ELLIPSIS: char = '…';

/// What a failed or panicked callback said, kept inline (no allocation).
///
/// At most [`MESSAGE_CAPACITY`] bytes; see [`Message::is_truncated`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Message {
    text: heapless::String<MESSAGE_CAPACITY>,
    truncated: bool,
}

impl Message {
    /// Renders `value` with its `Display` implementation, keeping what fits.
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

    /// The text, possibly cut short.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the original text was longer than [`MESSAGE_CAPACITY`] bytes
    /// and was cut (it then ends with `…`).
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

/// Appends whole characters while they fit and notes when one did not.
struct Writer<'m>(&'m mut Message);

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
