//! Reading a report's records one by one, in the order they finished.

use core::fmt;

use crate::report::view::{Record, Report, Source};

/// The records of a [`Report`], in the order they finished.
#[derive(Clone)]
pub struct Records<'r> {
    pub(crate) source: &'r (dyn Source + Sync),
    pub(crate) cursor: usize,
    /// The number of the next record in finish order.
    pub(crate) seq: u32,
    pub(crate) left: usize,
}

impl<'r> Iterator for Records<'r> {
    type Item = Record<'r>;

    fn next(&mut self) -> Option<Record<'r>> {
        if self.left == 0 {
            return None;
        }
        let (record, cursor) = self.source.next_record(self.cursor, self.seq)?;
        self.cursor = cursor;
        self.seq += 1;
        self.left -= 1;
        Some(record)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Records<'_> {}

impl core::iter::FusedIterator for Records<'_> {}

impl fmt::Debug for Records<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'r> IntoIterator for Report<'r> {
    type Item = Record<'r>;
    type IntoIter = Records<'r>;

    fn into_iter(self) -> Records<'r> {
        self.records()
    }
}

impl<'r> IntoIterator for &Report<'r> {
    type Item = Record<'r>;
    type IntoIter = Records<'r>;

    fn into_iter(self) -> Records<'r> {
        self.records()
    }
}

impl<'r> Report<'r> {
    /// Every callback that ran or was skipped, in the order each finished.
    #[must_use]
    pub fn records(&self) -> Records<'r> {
        Records {
            source: self.source(),
            cursor: self.source().top(),
            seq: 0,
            left: self.len(),
        }
    }

    /// Iterates over [`records`](Self::records).
    #[must_use]
    pub fn iter(&self) -> Records<'r> {
        self.records()
    }
}
